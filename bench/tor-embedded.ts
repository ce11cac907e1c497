// The embedded Tor client (worker backend, driven through the shared rings as the dataplane drives it)
// side by side with the reference C tor client, on one private network of real C tor relays
// (test/harness/tornet) and one local origin server:
//   bootstrap   time from start to "Bootstrapped 100%": a fresh embedded worker vs a fresh C tor client
//   ttfb-fresh  time to the first response byte on a new circuit (new isolation key / SOCKS username)
//   ttfb-pre    the same once preemptive circuits are ready (a clean circuit is claimed)
//   bulk        one stream, --mb megabytes: MB/s, and CPU seconds per 100 MB (this process, all threads,
//               ring consumer included / the C tor client process, SOCKS reader excluded)
// Prints a table and writes bench/results/tor-embedded.json.
//
//   npx tsc -p tsconfig.json && node dist/bench/tor-embedded.js [--mb 100] [--rounds 3]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RingTable, type StreamEndpoint } from '../src/backend/ring-table.js';
import type { BackendEvent, StreamTarget } from '../src/backend/interface.js';
import { startEmbeddedBackend, type EmbeddedTorBackend } from '../src/tor/worker/index.js';
import { startTorNet, renderTorrc, votingSchedule, type TorNet } from '../test/harness/tornet/index.js';
import { spawnTor, stopTor } from '../test/harness/tornet/daemon.js';
import { allocatePorts } from '../test/harness/tornet/ports.js';
import { startOriginServer } from '../test/harness/origin-server.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const MB = arg('mb', 100);
const ROUNDS = arg('rounds', 3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// ---------- embedded: a minimal dataplane side ----------

class RingDriver {
  readonly table = RingTable.create({ slots: 64, capacity: 256 * 1024 });
  backend!: EmbeddedTorBackend;
  private readonly waiters = new Map<number, (() => void)[]>();
  private readonly pending = new Map<number, (e: BackendEvent) => void>();
  private nextId = 1;
  private running = true;

  async start(config: Parameters<typeof startEmbeddedBackend>[1]): Promise<void> {
    this.backend = startEmbeddedBackend(this.table, config);
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

  async get(target: StreamTarget, path: string, key: string): Promise<{ ttfbMs: number; bytes: number }> {
    const t0 = performance.now();
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
    return { ttfbMs, bytes };
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.backend.close();
  }
}

// ---------- C tor: SOCKS5 with username isolation ----------

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

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  console.log(`starting a private network (3 authorities, 3 relays, 2 exits) ...`);
  const [net, origin] = await Promise.all([startTorNet({ authorities: 3, relays: 3, exits: 2, referenceClient: true }), startOriginServer()]);
  const results: Record<string, { embedded: number[]; ctor: number[] }> = {
    'bootstrap ms': { embedded: [], ctor: [] },
    'ttfb fresh circuit ms': { embedded: [], ctor: [] },
    'ttfb preemptive circuit ms': { embedded: [], ctor: [] },
    [`bulk ${MB} MB, MB/s`]: { embedded: [], ctor: [] },
    'CPU s per 100 MB': { embedded: [], ctor: [] },
  };
  const target: StreamTarget = { kind: 'ipv4', addr: '127.0.0.1', port: origin.port };
  try {
    // Let every relay learn every other (C tor refuses to extend to relays missing from its consensus).
    await sleep(30_000);
    for (let round = 0; round < ROUNDS; round++) {
      console.log(`round ${round + 1}/${ROUNDS}`);
      // Bootstrap: a fresh worker each round (no cache, no state).
      const dp = new RingDriver();
      const t0 = performance.now();
      await dp.start({ dirAuthorities: net.dirAuthorityLines, testNetwork: true });
      await new Promise<void>((resolve) => {
        if (dp.backend.bootstrap?.percent === 100) resolve();
        dp.backend.onBootstrap((s) => s.percent === 100 && resolve());
      });
      results['bootstrap ms']!.embedded.push(performance.now() - t0);
      results['bootstrap ms']!.ctor.push(await freshCTorBootstrapMs(net));

      // Fresh circuit: an isolation key / SOCKS username nothing has used.
      await sleep(6_000); // preemptive circuits settle, so "fresh" below must build its own
      const busyKeys = Array.from({ length: 4 }, (_, i) => `busy-${round}-${i}`);
      for (const k of busyKeys) await dp.get(target, '/bytes/10', k); // use up the clean circuits
      results['ttfb fresh circuit ms']!.embedded.push((await dp.get(target, '/bytes/10', `fresh-${round}`)).ttfbMs);
      for (const k of busyKeys) await socksGet(net.socksPort!, '127.0.0.1', origin.port, '/bytes/10', k);
      results['ttfb fresh circuit ms']!.ctor.push((await socksGet(net.socksPort!, '127.0.0.1', origin.port, '/bytes/10', `fresh-${round}`)).ttfbMs);

      // Preemptive: give both clients time to rebuild clean circuits, then a new key claims one.
      await sleep(8_000);
      results['ttfb preemptive circuit ms']!.embedded.push((await dp.get(target, '/bytes/10', `pre-${round}`)).ttfbMs);
      results['ttfb preemptive circuit ms']!.ctor.push((await socksGet(net.socksPort!, '127.0.0.1', origin.port, '/bytes/10', `pre-${round}`)).ttfbMs);

      // Bulk: one stream each.
      const n = MB * 1024 * 1024;
      let c0 = selfCpuSeconds();
      let t = performance.now();
      const e = await dp.get(target, `/bytes/${n}`, `bulk-${round}`);
      let secs = (performance.now() - t) / 1000;
      if (e.bytes < n) throw new Error(`embedded bulk short: ${e.bytes}`);
      results[`bulk ${MB} MB, MB/s`]!.embedded.push(n / 1e6 / secs);
      results['CPU s per 100 MB']!.embedded.push(((selfCpuSeconds() - c0) * 100) / MB);
      const clientPid = net.client!.pid;
      c0 = procCpuSeconds(clientPid);
      t = performance.now();
      const c = await socksGet(net.socksPort!, '127.0.0.1', origin.port, `/bytes/${n}`, `bulk-${round}`);
      secs = (performance.now() - t) / 1000;
      if (c.bytes < n) throw new Error(`C tor bulk short: ${c.bytes}`);
      results[`bulk ${MB} MB, MB/s`]!.ctor.push(n / 1e6 / secs);
      results['CPU s per 100 MB']!.ctor.push(((procCpuSeconds(clientPid) - c0) * 100) / MB);
      await dp.stop();
    }
  } finally {
    await origin.stop();
    await net.stop();
  }
  const rows = Object.entries(results).map(([metric, r]) => ({ metric, embedded: median(r.embedded), ctor: median(r.ctor), runs: r }));
  console.log(`\n${'metric'.padEnd(30)}${'embedded'.padStart(12)}${'C tor'.padStart(12)}   (median of ${ROUNDS})`);
  for (const r of rows) console.log(`${r.metric.padEnd(30)}${r.embedded.toFixed(r.embedded < 10 ? 2 : 0).padStart(12)}${r.ctor.toFixed(r.ctor < 10 ? 2 : 0).padStart(12)}`);
  const out = join(ROOT, 'bench/results/tor-embedded.json');
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify({ date: new Date().toISOString(), mb: MB, rounds: ROUNDS, note: 'embedded CPU includes the ring consumer in this process; C tor CPU is its own process only', rows }, null, 2) + '\n',
  );
  console.log(`wrote ${out}`);
}

void main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
