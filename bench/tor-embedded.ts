// The embedded Tor client (worker backend, driven through the shared rings as the dataplane drives it)
// side by side with the reference C tor client, on one private network of real C tor relays
// (test/harness/tornet) and one origin server in a child process (so its CPU is nobody's):
//   bootstrap        time from start to "Bootstrapped 100%": a fresh embedded worker vs a fresh C tor client
//   ttfb new circuit a stream whose circuit is built for it, checked: embedded as a second worker with
//                    preemptive circuits off (preemptiveCircuits 0, preemptivePorts []; the stream's
//                    circuit must be younger than the request); C tor as a second client with
//                    __DisablePredictedCircuits 1 (its control port must show the stream's circuit
//                    LAUNCHED after the request). Both have had one warm-up stream.
//   ttfb fresh key   each client's default behaviour: four streams with new isolation keys claim clean
//                    circuits (both clients replace a claimed one at once), then one more new key, which
//                    usually rides a prebuilt circuit; the table says how many samples really built one
//   ttfb preemptive  a new key once both clients had time to rebuild clean circuits (a clean one is
//                    claimed), --ttfb-samples times per round (default 5), 3 s apart
//   bulk             one stream, --mb megabytes: MB/s, and CPU seconds per 100 MB (this process, all threads:
//                    the embedded worker and the ring consumer / the C tor client process)
// Time to first byte runs from the open request (embedded) or the SOCKS connect (C tor) to the first
// response byte. With --base-worker <embedded-backend-worker.js of another build> that build runs as an
// extra column in the same run (before/after on one network); --cc-off adds a column of this build with
// congestion control off (fixed windows); --conflux-off adds columns with conflux off (this build's
// `conflux off`, and C tor's ConfluxEnabled 0 for bulk and CPU only).
// Prints a table and writes bench/results/tor-embedded.json.
//
//   npx tsc -p tsconfig.json && node dist/bench/tor-embedded.js [--mb 100] [--rounds 3] [--cc-off] [--conflux-off] [--base-worker <path>]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RingTable, type StreamEndpoint } from '../src/backend/ring-table.js';
import type { BackendEvent, StreamTarget } from '../src/backend/interface.js';
import { startEmbeddedBackend, type EmbeddedTorBackend } from '../src/tor/worker/index.js';
import { startTorNet, renderTorrc, votingSchedule, type TorNet } from '../test/harness/tornet/index.js';
import { spawnTor, stopTor } from '../test/harness/tornet/daemon.js';
import { allocatePorts } from '../test/harness/tornet/ports.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const argStr = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const MB = arg('mb', 100);
const ROUNDS = arg('rounds', 3);
const BASE_WORKER = argStr('base-worker');
/** --cc-off: one more embedded column with `congestion-control off` (fixed windows), same build. */
const CC_OFF_COLUMN = process.argv.includes('--cc-off');
/**
 * --conflux-off: an embedded column with `conflux off` and a C tor column with `ConfluxEnabled 0` (bulk and
 * CPU rows only). By default both clients' bulk streams ride a conflux set (two circuits to one exit,
 * proposal 329); these columns show one circuit.
 */
const CONFLUX_OFF_COLUMN = process.argv.includes('--conflux-off');
const CTOR_NO_CONFLUX = 'C tor cfx off';
/**
 * Preemptive-circuit samples per round and client (--ttfb-samples): single first bytes through three
 * relays vary by tens of milliseconds (relay schedulers), so one sample per round is mostly noise.
 * Between samples the clients get PRE_GAP_MS to replace the clean circuit (or set) just claimed.
 */
const PRE_SAMPLES = Math.max(1, arg('ttfb-samples', 5));
const PRE_GAP_MS = 3_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// ---------- embedded: a minimal dataplane side ----------

interface GetResult {
  ttfbMs: number;
  bytes: number;
  /** Whether the stream's circuit was built after the request (null: unknown). */
  newCircuit: boolean | null;
}

class RingDriver {
  readonly table = RingTable.create({ slots: 64, capacity: 256 * 1024 });
  backend!: EmbeddedTorBackend;
  private readonly waiters = new Map<number, (() => void)[]>();
  private readonly pending = new Map<number, (e: BackendEvent) => void>();
  private nextId = 1;
  private running = true;

  async start(config: Parameters<typeof startEmbeddedBackend>[1], workerUrl?: string): Promise<void> {
    this.backend = startEmbeddedBackend(this.table, config, workerUrl ? { workerUrl: pathToFileURL(workerUrl) } : {});
    await new Promise<void>((resolve, reject) =>
      this.backend.onEvent((e) => {
        if (e.type === 'ready') resolve();
        else if (e.type === 'fatal') reject(new Error(e.message));
        if ('id' in e) this.pending.get(e.id)?.(e);
      }),
    );
    void (async () => {
      const bell = this.table.doorbell('dataplane');
      while (this.running) {
        const ready = await bell.wait(200);
        for (const s of ready.length ? ready : [...this.waiters.keys()]) {
          const ws = this.waiters.get(s);
          this.waiters.delete(s);
          for (const w of ws ?? []) w();
        }
      }
    })();
  }

  private wait(slot: number): Promise<void> {
    return new Promise((r) => this.waiters.set(slot, [...(this.waiters.get(slot) ?? []), r]));
  }

  async get(target: StreamTarget, path: string, key: string): Promise<GetResult> {
    const t0 = performance.now();
    const wall0 = Date.now();
    const slot = this.table.alloc()!;
    const id = this.nextId++;
    const ev = new Promise<BackendEvent>((r) => this.pending.set(id, (e) => (e.type === 'connected' || e.type === 'failed') && r(e)));
    this.backend.send({ type: 'open', id, slot, generation: this.table.generation(slot), target, isolationKey: key });
    const e = await ev;
    this.pending.delete(id);
    const ep: StreamEndpoint = this.table.endpoint(slot, 'dataplane');
    if (e.type === 'failed') {
      ep.release();
      throw new Error(`open failed: ${e.reason}`);
    }
    ep.write(Buffer.from(`GET ${path} HTTP/1.0\r\n\r\n`));
    const buf = new Uint8Array(256 * 1024);
    let bytes = 0;
    let ttfbMs = -1;
    for (;;) {
      const n = ep.read(buf);
      if (n > 0) {
        if (ttfbMs < 0) ttfbMs = performance.now() - t0;
        bytes += n;
        continue;
      }
      if (ep.readEnded || ep.isReset) break;
      if (ep.armRead()) await this.wait(slot);
    }
    ep.release();
    // The worker's circuit list says how old the stream's circuit is.
    let newCircuit: boolean | null = null;
    const circ = e.type === 'connected' ? e.circuit : undefined;
    const status = circ !== undefined ? await this.backend.status() : undefined;
    const c = status?.circuits.find((x) => String(x.id) === circ);
    if (c) newCircuit = c.ageMs <= Date.now() - wall0;
    return { ttfbMs, bytes, newCircuit };
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.backend.close();
  }
}

// ---------- C tor: SOCKS5 with username isolation, control-port events ----------

function socksGet(socksPort: number, host: string, port: number, path: string, user: string): Promise<{ ttfbMs: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = connect({ host: '127.0.0.1', port: socksPort });
    let stage = 0;
    let buf = Buffer.alloc(0);
    let bytes = 0;
    let ttfbMs = -1;
    s.on('connect', () => s.write(Buffer.from([5, 1, 2])));
    s.on('data', (d: Buffer) => {
      if (stage === 3) {
        if (ttfbMs < 0) ttfbMs = performance.now() - t0;
        bytes += d.length;
        return;
      }
      buf = Buffer.concat([buf, d]);
      if (stage === 0 && buf.length >= 2) {
        buf = buf.subarray(2);
        const u = Buffer.from(user);
        s.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([1, 0x78])]));
        stage = 1;
      }
      if (stage === 1 && buf.length >= 2) {
        buf = buf.subarray(2);
        const h = Buffer.from(host);
        s.write(Buffer.concat([Buffer.from([5, 1, 0, 3, h.length]), h, Buffer.from([port >> 8, port & 0xff])]));
        stage = 2;
      }
      if (stage === 2 && buf.length >= 10) {
        if (buf[1] !== 0) return reject(new Error(`SOCKS reply ${buf[1]}`));
        const rest = buf.subarray(10);
        stage = 3;
        s.write(`GET ${path} HTTP/1.0\r\n\r\n`);
        if (rest.length) {
          ttfbMs = performance.now() - t0;
          bytes += rest.length;
        }
      }
    });
    s.on('error', reject);
    s.on('close', () => resolve({ ttfbMs, bytes }));
  });
}

/** A C tor control connection (null authentication) that records CIRC and STREAM events. */
class TorControl {
  private buf = '';
  private readonly replies: ((lines: string[]) => void)[] = [];
  private reply: string[] = [];
  /** Async events with the time they arrived. */
  readonly events: { at: number; line: string }[] = [];

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (let i = this.buf.indexOf('\r\n'); i >= 0; i = this.buf.indexOf('\r\n')) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        if (line.startsWith('650')) {
          this.events.push({ at: performance.now(), line });
          if (this.events.length > 5000) this.events.splice(0, 1000);
          continue;
        }
        this.reply.push(line);
        if (/^\d{3} /.test(line)) {
          const r = this.reply;
          this.reply = [];
          this.replies.shift()?.(r);
        }
      }
    });
  }

  static async open(port: number): Promise<TorControl> {
    const sock = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const c = new TorControl(sock);
    for (const cmd of ['AUTHENTICATE', 'SETEVENTS CIRC STREAM']) {
      const r = await c.command(cmd);
      if (!r.at(-1)?.startsWith('250')) throw new Error(`control: ${cmd}: ${r.join(' / ')}`);
    }
    return c;
  }

  command(cmd: string): Promise<string[]> {
    return new Promise((resolve) => {
      this.replies.push(resolve);
      this.sock.write(`${cmd}\r\n`);
    });
  }

  /**
   * Whether the stream to `targetPort` that SUCCEEDED after `since` rode a circuit LAUNCHED after
   * `since` (null: no such stream seen).
   */
  builtFor(since: number, targetPort: number): boolean | null {
    const after = this.events.filter((e) => e.at >= since).map((e) => e.line.split(' '));
    const launched = new Set(after.filter((f) => f[1] === 'CIRC' && f[3] === 'LAUNCHED').map((f) => f[2]));
    const ok = after.find((f) => f[1] === 'STREAM' && f[3] === 'SUCCEEDED' && f[5]?.endsWith(`:${targetPort}`));
    return ok ? launched.has(ok[4]) : null;
  }

  close(): void {
    this.sock.destroy();
  }
}

interface CTorClient {
  readonly pid: number;
  readonly socksPort: number;
  readonly control: TorControl;
  stop(): Promise<void>;
}

/** A C tor client of the private network with a control port, plus `extra` torrc lines. */
async function startCTorClient(net: TorNet, nickname: string, extra: string[]): Promise<CTorClient> {
  const dir = mkdtempSync(join(tmpdir(), `onionplane-bench-${nickname}-`));
  const [socksPort, controlPort] = (await allocatePorts(2)) as [number, number];
  const empty = join(dir, 'empty');
  writeFileSync(empty, '');
  const torrc = join(dir, 'torrc');
  const text = renderTorrc({ role: 'client', nickname, dataDir: join(dir, 'data'), dirAuthorityLines: net.dirAuthorityLines, schedule: votingSchedule(net.votingIntervalSeconds), socksPort, emptyFile: empty, owningPid: process.pid });
  writeFileSync(torrc, text.replace(/^ControlPort 0$/m, `ControlPort 127.0.0.1:${controlPort}`) + extra.join('\n') + '\n');
  mkdirSync(join(dir, 'data'), { mode: 0o700 });
  const log = join(dir, 'log');
  const tor = spawnTor(torrc, log, empty);
  const stop = async () => {
    await stopTor(tor.pid, torrc);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const t0 = performance.now();
    // A client without predicted circuits stops short of 100% until a stream asks for a circuit.
    const ready = extra.some((l) => l.startsWith('__DisablePredictedCircuits 1')) ? /Bootstrapped (7[5-9]|[89]\d|100)%/ : /Bootstrapped 100%/;
    while (!(existsSync(log) && ready.test(readFileSync(log, 'latin1')))) {
      if (performance.now() - t0 > 120_000) {
        const tail = existsSync(log) ? readFileSync(log, 'latin1').split('\n').slice(-12).join('\n') : '(no log)';
        throw new Error(`${nickname} did not bootstrap:\n${tail}`);
      }
      await sleep(50);
    }
    const control = await TorControl.open(controlPort);
    return {
      pid: tor.pid,
      socksPort,
      control,
      stop: async () => {
        control.close();
        await stop();
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

function procCpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ 100)
}

function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function freshCTorBootstrapMs(net: TorNet): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'onionplane-bench-ctor-'));
  try {
    const [socksPort] = await allocatePorts(1);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const torrc = join(dir, 'torrc');
    writeFileSync(
      torrc,
      renderTorrc({ role: 'client', nickname: 'benchclient', dataDir: join(dir, 'data'), dirAuthorityLines: net.dirAuthorityLines, schedule: votingSchedule(net.votingIntervalSeconds), socksPort, emptyFile: empty, owningPid: process.pid }),
    );
    mkdirSync(join(dir, 'data'), { mode: 0o700 });
    const log = join(dir, 'log');
    const t0 = performance.now();
    const tor = spawnTor(torrc, log, empty);
    try {
      for (;;) {
        if (existsSync(log) && readFileSync(log, 'latin1').includes('Bootstrapped 100%')) return performance.now() - t0;
        if (performance.now() - t0 > 120_000) throw new Error('C tor did not bootstrap');
        await sleep(20);
      }
    } finally {
      await stopTor(tor.pid, torrc);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The origin server in its own process: its CPU must not count as the embedded client's. */
async function startOriginProcess(): Promise<{ port: number; child: ChildProcess }> {
  const mod = new URL('../test/harness/origin-server.js', import.meta.url).href;
  const code = `import { startOriginServer } from ${JSON.stringify(mod)};
const o = await startOriginServer();
process.stdout.write('PORT ' + o.port + '\\n');
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (c) => reject(new Error(`origin server exited (${c})`)));
  });
  return { port, child };
}

const median = (xs: number[]): number => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : NaN);

type Row = Record<string, number[]>;

async function main(): Promise<void> {
  console.log(`starting a private network (3 authorities, 3 relays, 2 exits) ...`);
  const [net, origin] = await Promise.all([startTorNet({ authorities: 3, relays: 3, exits: 2, referenceClient: true }), startOriginProcess()]);
  const variants: { name: string; workerUrl?: string; congestionControl?: 'auto' | 'off'; conflux?: 'auto' | 'off' }[] = [{ name: 'embedded' }];
  if (CC_OFF_COLUMN) variants.push({ name: 'embedded cc off', congestionControl: 'off' });
  if (CONFLUX_OFF_COLUMN) variants.push({ name: 'embedded cfx off', conflux: 'off' });
  if (BASE_WORKER) variants.push({ name: 'embedded@base', workerUrl: BASE_WORKER });
  const columns = [...variants.map((v) => v.name), 'C tor', ...(CONFLUX_OFF_COLUMN ? [CTOR_NO_CONFLUX] : [])];
  const ccCircuits: Record<string, { negotiated: number; declined: number; built: number }> = {};
  const metrics = ['bootstrap ms', 'ttfb new circuit ms', 'ttfb fresh key ms', 'ttfb preemptive ms', `bulk ${MB} MB, MB/s`, 'CPU s per 100 MB'];
  const results: Record<string, Row> = Object.fromEntries(metrics.map((m) => [m, Object.fromEntries(columns.map((c) => [c, [] as number[]]))]));
  /** Per TTFB row and column: how many samples rode a circuit built for them. */
  const built: Record<string, Record<string, { yes: number; of: number }>> = {};
  const note = (metric: string, col: string, fresh: boolean | null) => {
    const b = ((built[metric] ??= {})[col] ??= { yes: 0, of: 0 });
    b.of++;
    if (fresh) b.yes++;
  };
  const target: StreamTarget = { kind: 'ipv4', addr: '127.0.0.1', port: origin.port };
  let ctor: CTorClient | undefined;
  let ctorNoPredict: CTorClient | undefined;
  let ctorNoConflux: CTorClient | undefined;
  try {
    [ctor, ctorNoPredict, ctorNoConflux] = await Promise.all([
      startCTorClient(net, 'benchctor', []),
      startCTorClient(net, 'benchfresh', ['__DisablePredictedCircuits 1']),
      CONFLUX_OFF_COLUMN ? startCTorClient(net, 'benchnocfx', ['ConfluxEnabled 0']) : undefined,
    ]);
    // Let every relay learn every other (C tor refuses to extend to relays missing from its consensus).
    await sleep(30_000);
    // The no-prediction client's first stream opens its guard channel; later ones only build circuits.
    await socksGet(ctorNoPredict.socksPort, '127.0.0.1', origin.port, '/bytes/10', 'warm-up');
    for (let round = 0; round < ROUNDS; round++) {
      console.log(`round ${round + 1}/${ROUNDS}`);
      for (const v of variants) {
        // Bootstrap: a fresh worker each round (no cache, no state).
        const dp = new RingDriver();
        const t0 = performance.now();
        await dp.start({ dirAuthorities: net.dirAuthorityLines, testNetwork: true, congestionControl: v.congestionControl, conflux: v.conflux }, v.workerUrl);
        await new Promise<void>((resolve) => {
          if (dp.backend.bootstrap?.percent === 100) resolve();
          dp.backend.onBootstrap((s) => s.percent === 100 && resolve());
        });
        results['bootstrap ms']![v.name]!.push(performance.now() - t0);
        await sleep(6_000); // preemptive circuits settle
        // Fresh key, default behaviour: use up the clean circuits, then a key nothing has used.
        for (let i = 0; i < 4; i++) await dp.get(target, '/bytes/10', `busy-${round}-${i}`);
        const f = await dp.get(target, '/bytes/10', `fresh-${round}`);
        results['ttfb fresh key ms']![v.name]!.push(f.ttfbMs);
        note('ttfb fresh key ms', v.name, f.newCircuit);
        // Preemptive: time to rebuild clean circuits, then a new key claims one; PRE_SAMPLES times.
        await sleep(8_000);
        for (let i = 0; i < PRE_SAMPLES; i++) {
          if (i > 0) await sleep(PRE_GAP_MS);
          const p = await dp.get(target, '/bytes/10', `pre-${round}-${i}`);
          results['ttfb preemptive ms']![v.name]!.push(p.ttfbMs);
          note('ttfb preemptive ms', v.name, p.newCircuit);
        }
        // Bulk: one stream.
        const n = MB * 1024 * 1024;
        const c0 = selfCpuSeconds();
        const t = performance.now();
        const e = await dp.get(target, `/bytes/${n}`, `bulk-${round}`);
        const secs = (performance.now() - t) / 1000;
        if (e.bytes < n) throw new Error(`${v.name} bulk short: ${e.bytes}`);
        results[`bulk ${MB} MB, MB/s`]![v.name]!.push(n / 1e6 / secs);
        results['CPU s per 100 MB']![v.name]!.push(((selfCpuSeconds() - c0) * 100) / MB);
        // Whether the exit circuits (the bulk one among them) ran congestion control.
        const counts = (await dp.backend.status())?.counters.circuit ?? [];
        const cc = (name: string) => counts.find((r) => r.name === name)?.count ?? 0;
        const seen = (ccCircuits[v.name] ??= { negotiated: 0, declined: 0, built: 0 });
        seen.negotiated += cc('cc-negotiated');
        seen.declined += cc('cc-declined');
        seen.built += cc('circuits-built');
        await dp.stop();

        // New circuit: a worker that builds nothing ahead of a stream (as C tor's
        // __DisablePredictedCircuits 1); only samples whose circuit was built after the request count.
        const np = new RingDriver();
        await np.start({ dirAuthorities: net.dirAuthorityLines, testNetwork: true, congestionControl: v.congestionControl, conflux: v.conflux, preemptiveCircuits: 0, preemptivePorts: [] }, v.workerUrl);
        await new Promise<void>((resolve) => {
          if (np.backend.bootstrap?.percent === 100) resolve();
          np.backend.onBootstrap((s) => s.percent === 100 && resolve());
        });
        await np.get(target, '/bytes/10', `warm-up-${round}`);
        for (let a = 0; a < 5; a++) {
          const r = await np.get(target, '/bytes/10', `new-${round}-${a}`);
          if (r.newCircuit) {
            results['ttfb new circuit ms']![v.name]!.push(r.ttfbMs);
            note('ttfb new circuit ms', v.name, true);
            break;
          }
        }
        await np.stop();
      }

      // C tor.
      results['bootstrap ms']!['C tor']!.push(await freshCTorBootstrapMs(net));
      for (let i = 0; i < 4; i++) await socksGet(ctor.socksPort, '127.0.0.1', origin.port, '/bytes/10', `busy-${round}-${i}`);
      let since = performance.now();
      results['ttfb fresh key ms']!['C tor']!.push((await socksGet(ctor.socksPort, '127.0.0.1', origin.port, '/bytes/10', `fresh-${round}`)).ttfbMs);
      await sleep(50); // control events trail the data
      note('ttfb fresh key ms', 'C tor', ctor.control.builtFor(since, origin.port));
      for (let a = 0; a < 5; a++) {
        since = performance.now();
        const r = await socksGet(ctorNoPredict.socksPort, '127.0.0.1', origin.port, '/bytes/10', `new-${round}-${a}`);
        await sleep(50);
        if (ctorNoPredict.control.builtFor(since, origin.port)) {
          results['ttfb new circuit ms']!['C tor']!.push(r.ttfbMs);
          note('ttfb new circuit ms', 'C tor', true);
          break;
        }
      }
      await sleep(8_000);
      for (let i = 0; i < PRE_SAMPLES; i++) {
        if (i > 0) await sleep(PRE_GAP_MS);
        since = performance.now();
        results['ttfb preemptive ms']!['C tor']!.push((await socksGet(ctor.socksPort, '127.0.0.1', origin.port, '/bytes/10', `pre-${round}-${i}`)).ttfbMs);
        await sleep(50);
        note('ttfb preemptive ms', 'C tor', ctor.control.builtFor(since, origin.port));
      }
      const bulk = async (client: CTorClient, column: string): Promise<void> => {
        const n = MB * 1024 * 1024;
        const c0 = procCpuSeconds(client.pid);
        const t = performance.now();
        const c = await socksGet(client.socksPort, '127.0.0.1', origin.port, `/bytes/${n}`, `bulk-${round}`);
        const secs = (performance.now() - t) / 1000;
        if (c.bytes < n) throw new Error(`${column} bulk short: ${c.bytes}`);
        results[`bulk ${MB} MB, MB/s`]![column]!.push(n / 1e6 / secs);
        results['CPU s per 100 MB']![column]!.push(((procCpuSeconds(client.pid) - c0) * 100) / MB);
      };
      await bulk(ctor, 'C tor');
      if (ctorNoConflux) await bulk(ctorNoConflux, CTOR_NO_CONFLUX);
    }
  } finally {
    await Promise.all([ctor?.stop(), ctorNoPredict?.stop(), ctorNoConflux?.stop()]);
    origin.child.stdin!.end();
    await net.stop();
  }
  const rows = metrics.map((metric) => ({
    metric,
    median: Object.fromEntries(columns.map((c) => [c, median(results[metric]![c]!)])),
    builtForStream: built[metric],
    runs: results[metric],
  }));
  const COL = Math.max(16, ...columns.map((c) => c.length + 2));
  const fmt = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(x < 10 ? 2 : 0));
  console.log(`\n${'metric'.padEnd(26)}${columns.map((c) => c.padStart(COL)).join('')}   (medians: ${ROUNDS} rounds, ${PRE_SAMPLES} preemptive samples per round)`);
  for (const r of rows) console.log(`${r.metric.padEnd(26)}${columns.map((c) => fmt(r.median[c]!).padStart(COL)).join('')}`);
  console.log('\ncircuit built for the stream (samples):');
  for (const [m, byCol] of Object.entries(built)) {
    console.log(`  ${m.padEnd(24)}${columns.map((c) => (byCol[c] ? `${byCol[c].yes}/${byCol[c].of}` : '-').padStart(COL)).join('')}`);
  }
  const out = join(ROOT, 'bench/results/tor-embedded.json');
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        mb: MB,
        preemptiveSamplesPerRound: PRE_SAMPLES,
        rounds: ROUNDS,
        note: 'embedded CPU: this process (worker + ring consumer; the origin server runs in a child process); C tor CPU: its own process only. ttfb new circuit: embedded (a worker with preemptiveCircuits 0, preemptivePorts []) samples whose circuit is younger than the request, C tor (__DisablePredictedCircuits 1) samples whose stream circuit was LAUNCHED after the request',
        rows,
        congestionControl: ccCircuits,
      },
      null,
      2,
    ) + '\n',
  );
  console.log('\nexit circuits with congestion control negotiated (all rounds):');
  for (const [c, n] of Object.entries(ccCircuits)) console.log(`  ${c.padEnd(24)}${n.negotiated}/${n.built} (declined ${n.declined})`);
  console.log(`wrote ${out}`);
}

void main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
