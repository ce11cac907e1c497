// TCP against the Linux kernel over one veth, side by side in one run (root):
//   1. kernel → kernel: a python3 client in a namespace sends to a python3 sink on the veth's other end
//      (root namespace, before the dataplane attaches) — the limit of this veth on this machine;
//   2. kernel → onionplane: the same client and transfer to the daemon's `test tcp server … sink`;
//   3. onionplane → kernel: a python3 client in the namespace reads from the daemon's `test tcp server … source`
//      (onionplane sending: with TSO, GSO super-frames the kernel segments);
//   4. memory per idle connection: N connections to an echo server, one small echo each, then idle;
//      heap + array-buffer delta per connection, minus fifo storage still allocated.
// Prints a table and writes bench/results/tcp-throughput.json.
//
// node dist/bench/tcp-throughput.js [--mb 200] [--idle 2000] [--gso-max-segs 0] [--rounds 5] [--tso both|on|off]
//                                   [--config 'session { rx-fifo-size 4m tx-fifo-size 1m }'] [--runtime]
//   --gso-max-segs 0 (default) leaves the veth's default: both kernels use TSO/GSO super-frames, which
//   onionplane receives as single large segments; 1 forces MTU-sized frames for both runs.
//   --tso both (default) runs the onionplane measurements twice, on a daemon with `tcp { tso off }` and then
//   one with TSO on (onionplane's TCP sends GSO super-frames when the device has TX GSO), side by side.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addAddress, ip } from '../src/native/veth.js';
import { PACKAGE_ROOT } from '../test/harness/daemon.js';
import { PY_COMMON, PY_MANY, PY_SEND, PY_SINK_SERVER, runPython, spawnPython, startTcpKernelEnv, type TcpKernelEnv } from './tcp-kernel-env.js';

/** Reads from argv[1]:argv[2] until EOF; prints the byte count and time. */
const PY_RECV = PY_COMMON + String.raw`
host, port = sys.argv[1], int(sys.argv[2])
s = connect(host, port)
buf = bytearray(1 << 20); got = 0; t0 = time.time()
while True:
    n = s.recv_into(buf)
    if n == 0: break
    got += n
dt = time.time() - t0
s.close()
print(json.dumps({'received': got, 'seconds': dt}))
`;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

const MB = Number(arg('mb', '200'));
const IDLE = Number(arg('idle', '2000'));
const GSO = Number(arg('gso-max-segs', '0'));
const ROUNDS = Number(arg('rounds', '5'));
const EXTRA_CONFIG = arg('config', 'session { rx-fifo-size 4m tx-fifo-size 1m }');
const TSO = arg('tso', 'both');
if (TSO !== 'both' && TSO !== 'on' && TSO !== 'off') throw new Error(`--tso both|on|off, not ${TSO}`);
const SUBNET = '10.239.41';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Transfer {
  bytes: number;
  seconds: number;
  mbPerSec: number;
  /** CPU seconds the daemon used during the transfer (onionplane runs only). */
  daemonCpuSeconds?: number;
}

function transfer(bytes: number, seconds: number): Transfer {
  return { bytes, seconds, mbPerSec: bytes / seconds / 1e6 };
}

/** utime + stime of a process, seconds (USER_HZ 100). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

async function kernelToKernel(netns: string, host: string): Promise<Transfer> {
  const serverAddr = `${SUBNET}.1`;
  await addAddress(host, `${serverAddr}/24`);
  try {
    const server = spawnPython(null, PY_SINK_SERVER, [serverAddr, 5301]);
    try {
      await server.nextLine(10_000); // ready
      const out = JSON.parse(await runPython(netns, PY_SEND, [serverAddr, 5301, MB * 1e6])) as { sent: number; seconds: number };
      const got = JSON.parse(await server.done()) as { received: number };
      if (got.received !== out.sent) throw new Error(`kernel sink got ${got.received} of ${out.sent}`);
      return transfer(out.sent, out.seconds);
    } finally {
      server.kill();
    }
  } finally {
    await ip(['addr', 'del', `${serverAddr}/24`, 'dev', host]);
    await ip(['neigh', 'flush', 'dev', host]).catch(() => undefined);
  }
}

async function kernelToOnionplane(env: TcpKernelEnv, port: number): Promise<Transfer> {
  await env.cli(`test tcp server uri tcp://${env.ourAddr}/${port} sink`);
  const cpu0 = cpuSeconds(env.daemon.pid);
  const out = JSON.parse(await env.py(PY_SEND, [env.ourAddr, port, MB * 1e6], 600_000)) as { sent: number; seconds: number };
  const show = await env.cli('test tcp server show');
  const m = new RegExp(`tcp://${env.ourAddr.replaceAll('.', '\\.')}/${port} sink: .* bytes in (\\d+)`).exec(show);
  if (!m || Number(m[1]) !== out.sent) throw new Error(`sink counted ${m?.[1]} of ${out.sent}: ${show}`);
  await env.cli(`test tcp server stop uri tcp://${env.ourAddr}/${port}`);
  return { ...transfer(out.sent, out.seconds), daemonCpuSeconds: cpuSeconds(env.daemon.pid) - cpu0 };
}

async function onionplaneToKernel(env: TcpKernelEnv, port: number): Promise<Transfer> {
  const cpu0 = cpuSeconds(env.daemon.pid);
  const out = JSON.parse(await env.py(PY_RECV, [env.ourAddr, port], 600_000)) as { received: number; seconds: number };
  if (out.received !== MB * 1e6) throw new Error(`client read ${out.received} of ${MB * 1e6} bytes`);
  return { ...transfer(out.received, out.seconds), daemonCpuSeconds: cpuSeconds(env.daemon.pid) - cpu0 };
}

function parseMemory(text: string): Record<string, number> {
  const r: Record<string, number> = {};
  for (const line of text.split(/\r?\n/)) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) r[k] = Number(v);
  }
  return r;
}

interface IdleMemory {
  connections: number;
  heapPerConnection: number;
  arrayBuffersPerConnectionExclFifo: number;
  rssPerConnectionExclFifo: number;
  fifoBytesAllocated: number;
  totalPerConnectionExclFifo: number;
}

async function idleMemory(env: TcpKernelEnv): Promise<IdleMemory> {
  // Small fifos: what is measured is the per-connection state, fifo storage is excluded (and released when idle).
  await env.cli(`test tcp server uri tcp://${env.ourAddr}/5303 echo rx-fifo-size 64k tx-fifo-size 64k`);
  // Warm-up: per-interface RX staging, pools and code paths get allocated before the baseline.
  const warm = spawnPython(env.ns.netns, PY_MANY, [env.ourAddr, 5303, 10, 100]);
  await warm.nextLine(60_000);
  warm.endInput();
  await warm.done();
  for (let i = 0; i < 50 && parseMemory(await env.cli('show session memory'))['sessions']! > 0; i++) await sleep(100);
  await sleep(500);
  await env.cli('show session memory gc');
  await sleep(300);
  const before = parseMemory(await env.cli('show session memory gc'));
  const client = spawnPython(env.ns.netns, PY_MANY, [env.ourAddr, 5303, IDLE, 100]);
  try {
    const line = await client.nextLine(120_000);
    if (line !== 'ready') throw new Error(`idle client: ${line}`);
    // Idle: timers run, the session layer's sweep releases fifo storage (two sweeps, 1 s apart).
    for (let i = 0; i < 50 && parseMemory(await env.cli('show session memory'))['fifo-bytes']! > before['fifo-bytes']!; i++) await sleep(100);
    // Array-buffer backing stores are freed by a sweeper after the GC: collect twice, a moment apart.
    await env.cli('show session memory gc');
    await sleep(300);
    const after = parseMemory(await env.cli('show session memory gc'));
    client.endInput();
    const res = JSON.parse(await client.done()) as { alive: number };
    if (res.alive !== IDLE) throw new Error(`only ${res.alive} of ${IDLE} idle connections survived`);
    const n = after['sessions']! - before['sessions']!;
    if (n !== IDLE) throw new Error(`expected ${IDLE} sessions, daemon has ${n} more`);
    // Fifo space: rings held by sessions plus idle rings kept in the reuse pool.
    const fifo = after['fifo-bytes']! - before['fifo-bytes']! + (after['fifo-pool-bytes'] ?? 0) - (before['fifo-pool-bytes'] ?? 0);
    const heap = (after['heap-used']! - before['heap-used']!) / n;
    const ab = (after['array-buffers']! - before['array-buffers']! - fifo) / n;
    return {
      connections: n,
      heapPerConnection: heap,
      arrayBuffersPerConnectionExclFifo: ab,
      rssPerConnectionExclFifo: (after['rss']! - before['rss']! - fifo) / n,
      fifoBytesAllocated: fifo,
      totalPerConnectionExclFifo: heap + ab,
    };
  } finally {
    client.kill();
  }
}

interface ModeResult {
  tso: 'on' | 'off';
  kernelToOnionplane: Transfer[];
  onionplaneToKernel: Transfer[];
  /** TSO super-segments the daemon sent (show tcp stats), over all rounds. */
  tsoSegmentsOut: number;
  runtime: string;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces, AF_PACKET)');
  const kk: Transfer[] = [];
  const modes: ('on' | 'off')[] = TSO === 'both' ? ['off', 'on'] : [TSO as 'on' | 'off'];
  const results: ModeResult[] = [];
  let mem: IdleMemory | undefined;
  for (const mode of modes) {
    const env = await startTcpKernelEnv({
      prefix: 'tb',
      subnet: SUBNET,
      ...(GSO > 0 ? { gsoMaxSegs: GSO } : {}),
      config: `${EXTRA_CONFIG}\ntcp { tso ${mode} }`,
      beforeDaemon: async (ns) => {
        if (kk.length === 0) for (let r = 0; r < ROUNDS; r++) kk.push(await kernelToKernel(ns.netns, ns.host));
      },
    });
    const res: ModeResult = { tso: mode, kernelToOnionplane: [], onionplaneToKernel: [], tsoSegmentsOut: 0, runtime: '' };
    try {
      // Memory first, on a daemon that has not yet moved bulk data (allocator state from the transfer would blur it).
      mem ??= await idleMemory(env);
      await env.cli(`test tcp server uri tcp://${env.ourAddr}/5301 source ${MB * 1e6}`);
      await env.cli('clear runtime');
      const tso0 = tsoSegments(await env.cli('show tcp stats'));
      for (let r = 0; r < ROUNDS; r++) {
        res.kernelToOnionplane.push(await kernelToOnionplane(env, 5302 + 10 * r));
        res.onionplaneToKernel.push(await onionplaneToKernel(env, 5301));
      }
      res.tsoSegmentsOut = tsoSegments(await env.cli('show tcp stats')) - tso0;
      res.runtime = await env.cli('show runtime');
    } finally {
      await env.close();
    }
    results.push(res);
  }
  // The median round (the shared machine's load varies from round to round).
  const median = (xs: Transfer[]): Transfer => [...xs].sort((a, b) => a.mbPerSec - b.mbPerSec)[Math.floor((xs.length - 1) / 2)]!;
  const k = median(kk);
  const rows: [string, string, string][] = [
    ['kernel -> kernel (veth limit)', `${k.mbPerSec.toFixed(1)} MB/s`, `${MB} MB in ${k.seconds.toFixed(2)} s`],
  ];
  const line = (what: string, t: Transfer): [string, string, string] =>
    [what, `${t.mbPerSec.toFixed(1)} MB/s`, `${MB} MB in ${t.seconds.toFixed(2)} s, daemon CPU ${t.daemonCpuSeconds!.toFixed(2)} s (${(t.bytes / t.daemonCpuSeconds! / 1e6).toFixed(0)} MB per CPU-second), ${(t.mbPerSec / k.mbPerSec).toFixed(2)} of kernel`];
  for (const r of results) {
    rows.push(line(`kernel -> onionplane sink (tso ${r.tso})`, median(r.kernelToOnionplane)));
    rows.push(line(`onionplane source -> kernel (tso ${r.tso})`, median(r.onionplaneToKernel)));
    rows.push([`  TSO super-segments sent (tso ${r.tso})`, String(r.tsoSegmentsOut), `over ${ROUNDS} round(s) each way`]);
  }
  const o = median(results[results.length - 1]!.kernelToOnionplane);
  const ratio = o.mbPerSec / k.mbPerSec;
  rows.push(['ratio kernel -> onionplane (goal >= 0.5)', ratio.toFixed(2), ratio >= 0.5 ? 'met' : 'NOT met']);
  if (mem) {
    rows.push(['memory per idle connection', `${(mem.totalPerConnectionExclFifo / 1024).toFixed(2)} KiB`, `heap ${(mem.heapPerConnection / 1024).toFixed(2)} KiB + buffers ${(mem.arrayBuffersPerConnectionExclFifo / 1024).toFixed(2)} KiB, ${mem.connections} conns, goal < 16 KiB: ${mem.totalPerConnectionExclFifo < 16 * 1024 ? 'met' : 'NOT met'}`]);
    rows.push(['rss per idle connection', `${(mem.rssPerConnectionExclFifo / 1024).toFixed(2)} KiB`, `fifo bytes still allocated: ${mem.fifoBytesAllocated}`]);
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`TCP vs kernel over veth (gso_max_segs ${GSO > 0 ? GSO : 'default'}, ${ROUNDS} round(s), median shown)`);
  for (const r of rows) console.log(`${r[0].padEnd(w0)}  ${r[1].padStart(w1)}  ${r[2]}`);
  const last = results[results.length - 1]!;
  const result = {
    date: new Date().toISOString(),
    megabytes: MB,
    gsoMaxSegs: GSO > 0 ? GSO : 'default',
    config: EXTRA_CONFIG,
    kernelToKernel: kk,
    // The last mode's runs (TSO on unless --tso off) under the historical names, every mode under `modes`.
    kernelToOnionplane: last.kernelToOnionplane,
    onionplaneToKernel: last.onionplaneToKernel,
    ratio,
    modes: results.map((r) => ({ ...r, runtime: undefined })),
    idleMemory: mem,
    runtime: last.runtime,
  };
  if (process.argv.includes('--runtime')) for (const r of results) console.log(`--- tso ${r.tso}\n${r.runtime}`);
  const dir = join(PACKAGE_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tcp-throughput.json'), `${JSON.stringify(result, null, 2)}\n`);
}

function tsoSegments(stats: string): number {
  const m = /^\s*(\d+) tso-segments-out$/m.exec(stats);
  return m ? Number(m[1]) : 0;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
