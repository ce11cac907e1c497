// Runs named benchmarks one after another, each as its own process (`node dist/bench/<name>.js`, exactly as
// it is run by hand, so each keeps its own side-by-side comparison and table), prints their output as it
// comes, and writes bench/results/summary.json: per benchmark its status, duration, and results — the JSON
// file it wrote under bench/results/ during the run, else the JSON lines it printed. A benchmark that fails
// or times out is reported and the runner goes on; the exit code is 1 if any failed.
//
//   npm run bench                                  all known benchmarks that exist
//   node dist/bench/run.js socks-compare l3-icmp   these, in this order
//   node dist/bench/run.js 'socks-compare:--mb 100 --seconds 3' 'l3-icmp:--seconds 2'   with arguments
//     (split on spaces; quote an argument that has spaces: "socks-compare:--variant 'x=session { … }'")
//   node dist/bench/run.js --list | --timeout <seconds per benchmark, default 900>
// Most of them need root (veth pairs, network namespaces, AF_PACKET) and a build (npm run build).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The package root, from bench/ (sources) or dist/bench/ (compiled). */
const ROOT = existsSync(join(HERE, '..', 'package.json')) ? join(HERE, '..') : join(HERE, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');

/** The default set, in run order (kernel/dataplane baselines first, then the end-to-end ones). */
export const KNOWN_BENCHMARKS = ['api-show-version', 'native-latency', 'native-tx', 'l3-icmp', 'tcp-throughput', 'socks-compare', 'tor-embedded'] as const;

export interface BenchOutcome {
  name: string;
  args: string[];
  status: 'ok' | 'failed' | 'timeout' | 'missing' | 'not-built';
  exitCode: number | null;
  seconds: number;
  /** bench/results/<name>.json if the benchmark wrote it during this run, else the JSON lines it printed. */
  results: unknown;
  resultsFile?: string;
  /** Last lines of its stderr when it failed. */
  error?: string;
}

export interface BenchSummary {
  date: string;
  host: { node: string; kernel: string; loadavgAtStart: number[] };
  benchmarks: BenchOutcome[];
}

function scriptOf(name: string): { js: string; ts: string } {
  return { js: join(ROOT, 'dist', 'bench', `${name}.js`), ts: join(ROOT, 'bench', `${name}.ts`) };
}

function jsonLines(text: string): unknown[] {
  const out: unknown[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{') || !t.endsWith('}')) continue;
    try {
      out.push(JSON.parse(t));
    } catch {
      // a table row that happens to start with a brace
    }
  }
  return out;
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export async function runBenchmark(name: string, args: string[], timeoutMs: number): Promise<BenchOutcome> {
  const { js, ts } = scriptOf(name);
  const base = { name, args, exitCode: null, seconds: 0, results: null };
  if (!existsSync(js)) return { ...base, status: existsSync(ts) ? 'not-built' : 'missing' };
  const resultsFile = join(RESULTS, `${name}.json`);
  const before = existsSync(resultsFile) ? statSync(resultsFile).mtimeMs : 0;
  const t0 = performance.now();
  const child = spawn(process.execPath, [js, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    process.stdout.write(d);
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
    process.stderr.write(d);
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 10_000).unref();
  }, timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', (e) => {
      stderr += String(e);
      resolve(null);
    });
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  const seconds = (performance.now() - t0) / 1000;
  let results: unknown = jsonLines(stdout);
  let file: string | undefined;
  if (existsSync(resultsFile) && statSync(resultsFile).mtimeMs > before) {
    try {
      results = JSON.parse(readFileSync(resultsFile, 'utf8'));
      file = `bench/results/${name}.json`;
    } catch {
      // keep the printed JSON lines
    }
  }
  const status = timedOut ? 'timeout' : code === 0 ? 'ok' : 'failed';
  return {
    name,
    args,
    status,
    exitCode: code,
    seconds: Math.round(seconds * 10) / 10,
    results,
    ...(file ? { resultsFile: file } : {}),
    ...(status !== 'ok' ? { error: tail(stderr || stdout, 15) } : {}),
  };
}

/** Splits on spaces; '…' or "…" keeps spaces inside an argument. */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|([^\s'"]+)/g;
  let cur: string | undefined;
  let last = -1;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const piece = m[1] ?? m[2] ?? m[3]!;
    // Adjacent pieces without a space between them form one argument (--variant='a b').
    if (cur !== undefined && m.index === last) cur += piece;
    else {
      if (cur !== undefined) out.push(cur);
      cur = piece;
    }
    last = re.lastIndex;
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/** `name` or `name:arg arg …` (see splitArgs). */
function parseSpec(spec: string): { name: string; args: string[] } {
  const i = spec.indexOf(':');
  if (i < 0) return { name: spec, args: [] };
  return { name: spec.slice(0, i), args: splitArgs(spec.slice(i + 1)) };
}

export async function runBenchmarks(specs: readonly string[], timeoutMs: number): Promise<BenchSummary> {
  const summary: BenchSummary = {
    date: new Date().toISOString(),
    host: {
      node: process.version,
      kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
      loadavgAtStart: (await import('node:os')).loadavg().map((x) => Math.round(x * 100) / 100),
    },
    benchmarks: [],
  };
  for (const spec of specs) {
    const { name, args } = parseSpec(spec);
    console.log(`\n=== ${name}${args.length ? ` ${args.join(' ')}` : ''}`);
    const r = await runBenchmark(name, args, timeoutMs);
    summary.benchmarks.push(r);
    if (r.status === 'missing' || r.status === 'not-built') console.log(`(${name}: ${r.status}, skipped)`);
    else console.log(`=== ${name}: ${r.status}${r.exitCode !== null && r.status !== 'ok' ? ` (exit ${r.exitCode})` : ''}, ${r.seconds} s`);
  }
  return summary;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--list')) {
    for (const n of KNOWN_BENCHMARKS) {
      const { js, ts } = scriptOf(n);
      console.log(`${n.padEnd(18)} ${existsSync(js) ? 'built' : existsSync(ts) ? 'not built' : 'absent'}`);
    }
    return 0;
  }
  let timeoutMs = 900_000;
  const specs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--timeout') timeoutMs = Number(argv[++i]) * 1000;
    else specs.push(argv[i]!);
  }
  const chosen = specs.length > 0 ? specs : KNOWN_BENCHMARKS.filter((n) => existsSync(scriptOf(n).js) || existsSync(scriptOf(n).ts));
  const summary = await runBenchmarks(chosen, timeoutMs);
  console.log('\n=== summary');
  for (const b of summary.benchmarks) {
    console.log(`${b.name.padEnd(18)} ${b.status.padEnd(9)} ${String(b.seconds).padStart(7)} s${b.resultsFile ? `  ${b.resultsFile}` : ''}`);
  }
  const absent = KNOWN_BENCHMARKS.filter((n) => specs.length === 0 && !chosen.includes(n));
  if (absent.length > 0) console.log(`not present: ${absent.join(', ')}`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log('wrote bench/results/summary.json');
  return summary.benchmarks.some((b) => b.status !== 'ok') ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
