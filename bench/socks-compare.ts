// SOCKS proxies side by side in one run (root), over one veth into a network namespace:
//   no proxy   the client in the namespace talks to the origin directly over the veth (the limit);
//   dante      danted on a second kernel address of the veth's host end (kernel TCP to the client);
//   microsocks the same, thread per client;
//   onionplane the daemon on the same veth (its own TCP stack over AF_PACKET), tor plugin with the
//              direct backend (streams leave this host without Tor: a dataplane benchmark only).
// Each target gets
//   - a connection rate: a python3 client in the namespace keeps N connections in flight, each a SOCKS5
//     greeting (no auth) + CONNECT 127.0.0.1:<origin> + a small HTTP request/response + close (no proxy:
//     connect + request/response + close); connections/s over a fixed window, errors counted;
//   - bulk throughput: one curl --socks5-hostname stream of --mb megabytes, MB/s.
// CPU time of the proxy's processes (all threads, dante's children) during each measurement is recorded,
// so rows can be compared per CPU-second on a machine shared with other work.
// The origin is a small TCP server in this process on 127.0.0.1 (for the proxies) and on the kernel's
// veth address (for no proxy). It answers `GET /bytes/<n>` with n bytes from a precomputed block of
// test/harness/origin-server's deterministic content (repeated past 4 MiB), so it costs no crypto per byte.
// Prints a table and writes bench/results/socks-compare.json.
//
//   npx tsc -p tsconfig.json && node dist/bench/socks-compare.js [--mb 500] [--seconds 5] [--concurrency 32,128]
//     [--response 100] [--rounds 1] [--only dante,onionplane] [--phases rate,bulk] [--profile] [--gso-max-segs 1|0]
//     [--config '<extra startup.conf text for the daemon>'] [--setup '<daemon CLI command>; …' ($IF: its interface)]
//     [--variant '<label>=<startup.conf text>' …]   more onionplane rows, e.g. 'fifo16k=session { rx-fifo-size 16k tx-fifo-size 16k }'
//   --profile runs the daemon with --cpu-prof and prints its hottest functions and files; `show runtime`
//   after each onionplane measurement is always kept in the JSON; --keep-profile <dir> also keeps the raw
//   .cpuprofile files (one per thread) there.
//   --gso-max-segs N caps GSO on the client's veth end only (default 1: onionplane does not segment GSO
//   frames); 0 leaves the kernel default (then onionplane drops the client's super-frames).
// Needs danted (dante-server) and microsocks; a missing one is reported and skipped.

import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addAddress, createVethNamespace, execInNetns, ip, runCommand, type VethNamespace } from '../src/native/veth.js';
import { CliClient } from '../src/cli/cli-client.js';
import { DAEMON_BIN, PACKAGE_ROOT } from '../test/harness/daemon.js';
import { deterministicBytes } from '../test/harness/origin-server.js';

const SUBNET = '10.93.71';
const OP_ADDR = `${SUBNET}.1`;
const CLIENT_ADDR = `${SUBNET}.2`;
/** The kernel's address on the veth's host end: dante, microsocks and the direct origin listen here. */
const KERNEL_ADDR = `${SUBNET}.3`;
const OP_PORT = 9050;
const DANTE_PORT = 1080;
const MICROSOCKS_PORT = 1081;
const BLOCK = 4 * 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type TargetName = 'no-proxy' | 'dante' | 'microsocks' | 'onionplane';
export const TARGETS: readonly TargetName[] = ['no-proxy', 'dante', 'microsocks', 'onionplane'];

export interface SocksCompareOptions {
  megabytes: number;
  seconds: number;
  /** Connection-rate runs at each of these numbers of connections in flight. */
  concurrency: readonly number[];
  responseBytes: number;
  rounds: number;
  only: readonly TargetName[];
  profile: boolean;
  gsoMaxSegs: number;
  /** Which measurements to run (a profile of one phase alone is easier to read). */
  phases: readonly ('rate' | 'bulk')[];
  /** Extra startup.conf text for the daemon (e.g. `session { rx-fifo-size 16k }`). */
  daemonConfig: string;
  /** Extra CLI commands for the daemon's setup (`$IF` = its interface), e.g. `set interface rx-mode $IF polling`. */
  daemonSetup: readonly string[];
  /** Extra onionplane rows: the same daemon with more startup.conf text (e.g. to measure a tuning). */
  variants: readonly { label: string; config: string }[];
  /** With --profile: also keep the raw .cpuprofile files here (for a closer look in DevTools). */
  keepProfileDir?: string | undefined;
}

export interface RateResult {
  concurrency: number;
  connectionsPerSec: number;
  completed: number;
  errors: number;
  seconds: number;
  /** Proxy CPU (all its threads and processes) per completed connection, microseconds. */
  proxyCpuUsPerConnection: number | null;
  proxyCpuPercent: number | null;
  /** CPU of the (single-threaded) load generator: near 100 means the client, not the proxy, is the limit. */
  clientCpuPercent: number;
  loadavg1: number;
}

export interface BulkResult {
  bytes: number;
  seconds: number;
  mbPerSec: number;
  /** Proxy CPU-seconds per GB moved. */
  proxyCpuSecPerGB: number | null;
  proxyCpuPercent: number | null;
  loadavg1: number;
}

export interface TargetResult {
  /** The kind, or `onionplane <variant>`. */
  target: string;
  kind: TargetName;
  proxy: string;
  /** Best over rounds and concurrency levels (highest rate / throughput). */
  rate?: RateResult;
  /** Best of the rounds at each concurrency level. */
  rateByConcurrency: RateResult[];
  bulk?: BulkResult;
  rounds: { rate: RateResult[]; bulk: BulkResult[] };
  error?: string;
  /** onionplane: `show runtime` after the last rate and bulk measurements. */
  runtime?: { rate?: string; bulk?: string };
  /** onionplane with --profile: the daemon's CPU profile over all its measurements. */
  profile?: ProfileSummary;
}

export interface SocksCompareResult {
  date: string;
  /** How this run was started. */
  command?: string;
  options: SocksCompareOptions;
  versions: Record<string, string>;
  targets: TargetResult[];
  /** onionplane / dante. */
  ratios: { throughput: number | null; connectionRate: number | null };
}

/** What to undo when the run is interrupted (SIGINT/SIGTERM, e.g. the runner's timeout): proxies first, then the namespace. */
const onInterrupt = new Set<() => Promise<void>>();

function cleanUpOnSignals(): void {
  const handler = (sig: NodeJS.Signals): void => {
    console.error(`socks-compare: ${sig}, cleaning up`);
    const steps = [...onInterrupt].reverse();
    onInterrupt.clear();
    void (async () => {
      for (const step of steps) await step().catch(() => undefined);
      process.exit(130);
    })();
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}

// ---------------------------------------------------------------------------------------------- origin

interface Origin {
  port: number;
  stop(): Promise<void>;
}

/** Response header for n body bytes; the rate client checks the exact response length. */
function responseHeader(n: number): Buffer {
  return Buffer.from(`HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${n}\r\nConnection: close\r\n\r\n`);
}

function serveOrigin(sock: Socket, block: Buffer): void {
  let head = '';
  sock.setNoDelay(true);
  sock.on('error', () => sock.destroy());
  const onData = (d: Buffer): void => {
    head += d.toString('latin1');
    if (head.length > 8192) return void sock.destroy();
    if (!head.includes('\r\n\r\n')) return;
    sock.off('data', onData);
    const m = /^GET \/bytes\/(\d{1,12}) HTTP\/1\.[01]\r\n/.exec(head);
    if (!m) return void sock.end('HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    let left = Number(m[1]);
    if (left <= block.length - 512) {
      sock.end(Buffer.concat([responseHeader(left), block.subarray(0, left)]));
      return;
    }
    sock.write(responseHeader(left));
    let off = 0;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, block.length - off);
        const chunk = block.subarray(off, off + n);
        left -= n;
        off = (off + n) % block.length;
        if (!sock.write(chunk)) {
          if (left > 0) sock.once('drain', pump);
          else sock.end();
          return;
        }
      }
      sock.end();
    };
    pump();
  };
  sock.on('data', onData);
}

async function startOrigin(hosts: readonly string[]): Promise<Origin> {
  const block = deterministicBytes(0, BLOCK);
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let port = 0;
  for (const host of hosts) {
    const s = createServer((sock) => {
      sockets.add(sock);
      sock.once('close', () => sockets.delete(sock));
      serveOrigin(sock, block);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen({ host, port, backlog: 4096 }, () => resolve());
    });
    port = (s.address() as { port: number }).port;
    servers.push(s);
  }
  return {
    port,
    async stop() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}

// ------------------------------------------------------------------------------------- load generator

/**
 * Connection-rate client. argv: mode(socks|direct) host port target-host target-port concurrency seconds
 * request-bytes expected-response-length. Keeps `concurrency` connections in flight with non-blocking
 * sockets; counts connections finished (response complete and the server's close seen) during the window
 * after a 0.5 s warm-up. Prints one JSON line.
 */
const PY_RATE = String.raw`
import socket, selectors, struct, sys, time, json, errno, os
mode, host, port, thost, tport, conc, secs, nbytes, expect = sys.argv[1:10]
port, tport, conc, secs, nbytes, expect = int(port), int(tport), int(conc), float(secs), int(nbytes), int(expect)
socks = mode == 'socks'
GREET = b'\x05\x01\x00'
CONNECT = b'\x05\x01\x00\x01' + socket.inet_aton(thost) + struct.pack('!H', tport)
REQ = b'GET /bytes/%d HTTP/1.0\r\n\r\n' % nbytes
sel = selectors.DefaultSelector()
WARM = 0.5
t0 = time.monotonic()
w0, w1 = t0 + WARM, t0 + WARM + secs
done = errors = 0
done_total = 0
err_kinds = {}

class Conn:
    __slots__ = ('s', 'state', 'buf', 'got')

def start():
    c = Conn()
    c.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.s.setblocking(False)
    c.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.state, c.buf, c.got = 0, b'', 0
    try:
        c.s.connect((host, port))
    except BlockingIOError:
        pass
    sel.register(c.s, selectors.EVENT_WRITE, c)

def fail(c, why):
    global errors
    now = time.monotonic()
    if w0 <= now < w1:
        errors += 1
        err_kinds[why] = err_kinds.get(why, 0) + 1
    sel.unregister(c.s)
    c.s.close()
    if now < w1:
        start()

def finish(c):
    global done, done_total
    now = time.monotonic()
    done_total += 1
    if w0 <= now < w1:
        done += 1
    sel.unregister(c.s)
    c.s.close()
    if now < w1:
        start()

def step(c):
    s = c.s
    if c.state == 0:
        e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if e:
            return fail(c, 'connect ' + errno.errorcode.get(e, str(e)))
        s.send(GREET if socks else REQ)
        c.state = 1 if socks else 3
        sel.modify(s, selectors.EVENT_READ, c)
        return
    try:
        d = s.recv(262144)
    except OSError as e:
        return fail(c, 'recv ' + errno.errorcode.get(e.errno, str(e.errno)))
    if c.state == 3:
        if not d:
            if c.got == expect:
                return finish(c)
            return fail(c, 'short response')
        c.got += len(d)
        return
    if not d:
        return fail(c, 'closed in handshake')
    c.buf += d
    if c.state == 1 and len(c.buf) >= 2:
        if c.buf[:2] != b'\x05\x00':
            return fail(c, 'method refused')
        c.buf = c.buf[2:]
        s.send(CONNECT)
        c.state = 2
    if c.state == 2 and len(c.buf) >= 10:
        if c.buf[1] != 0:
            return fail(c, 'connect reply %d' % c.buf[1])
        c.got = len(c.buf) - 10
        c.buf = b''
        s.send(REQ)
        c.state = 3

for _ in range(conc):
    start()
while True:
    now = time.monotonic()
    if now >= w1 and not sel.get_map():
        break
    if now >= w1 + 5:
        break
    for key, _ in sel.select(0.5):
        step(key.data)
cpu = os.times()
print(json.dumps({'completed': done, 'errors': errors, 'seconds': secs, 'errorKinds': err_kinds, 'total': done_total,
                  'cpuPercent': 100 * (cpu.user + cpu.system) / (time.monotonic() - t0)}))
`;

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], timeoutMs: number): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// ------------------------------------------------------------------------------------------ CPU time

const CLK_TCK = 100;

interface ProcEntry {
  ppid: number;
  ticks: number;
  state: string;
}

function readProcs(): Map<number, ProcEntry> {
  const procs = new Map<number, ProcEntry>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime + stime + cutime + cstime: children that exited and were reaped (dante's) stay counted.
      procs.set(Number(name), { state: f[0]!, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // exited while we looked
    }
  }
  return procs;
}

/** `pid` and all its descendants alive now. */
function processTree(pid: number, procs = readProcs()): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    for (const [child, e] of procs) if (e.ppid === p) stack.push(child);
  }
  return out;
}

/** CPU ticks of `pid` and its descendants: those alive now, plus the reaped ones through cutime/cstime. */
function treeCpuTicks(pid: number): number {
  const procs = readProcs();
  return processTree(pid, procs).reduce((sum, p) => sum + (procs.get(p)?.ticks ?? 0), 0);
}

/** Measures the CPU seconds a process tree uses while `fn` runs (null without a pid). */
async function withCpu<T>(pid: number | null, fn: () => Promise<T>): Promise<{ value: T; cpuSec: number | null; wallSec: number; load: number }> {
  const load = loadavg()[0]!;
  const c0 = pid === null ? 0 : treeCpuTicks(pid);
  const t0 = performance.now();
  const value = await fn();
  const wallSec = (performance.now() - t0) / 1000;
  const cpuSec = pid === null ? null : (treeCpuTicks(pid) - c0) / CLK_TCK;
  return { value, cpuSec, wallSec, load };
}

// ------------------------------------------------------------------------------------------ targets

interface Proxy {
  name: TargetName;
  /** Where the client connects; null = no proxy (straight to the origin over the veth). */
  address: { host: string; port: number } | null;
  pid: number | null;
  describe: string;
  runtime?(): Promise<string>;
  stop(): Promise<void>;
}

async function waitTcp(ns: VethNamespace, host: string, port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  const probe = `import socket,sys\ns=socket.create_connection(('${host}',${port}),timeout=1)\ns.close()`;
  for (;;) {
    const r = await run('ip', ['netns', 'exec', ns.netns, 'python3', '-c', probe], 5000);
    if (r.code === 0) return;
    if (Date.now() > end) throw new Error(`${host}:${port} did not accept connections: ${r.stderr.trim()}`);
    await sleep(200);
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs`. Descendants seen before the signal (dante's negotiate/request/io
 * children) that outlive the parent get the same, checked by name so a reused PID is left alone.
 */
async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const comm = (pid: number): string | undefined => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const name = comm(child.pid!);
  const kids = processTree(child.pid!).filter((p) => p !== child.pid);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
  const alive = (p: number) => comm(p) === name && readProcs().get(p)?.state !== 'Z';
  const left = kids.filter(alive);
  for (const p of left) process.kill(p, 'SIGTERM');
  for (let i = 0; i < 20 && left.some(alive); i++) await sleep(100);
  for (const p of left.filter(alive)) process.kill(p, 'SIGKILL');
}

async function startChildProxy(name: TargetName, file: string, args: string[], port: number, ns: VethNamespace, describe: string): Promise<Proxy> {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-4000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-4000)));
  const spawned = await new Promise<Error | null>((r) => {
    child.once('spawn', () => r(null));
    child.once('error', (e) => r(e));
  });
  if (spawned) throw spawned;
  try {
    await waitTcp(ns, KERNEL_ADDR, port, 10_000);
  } catch (e) {
    await stopChild(child);
    throw new Error(`${name}: ${(e as Error).message}\n${out}`);
  }
  return { name, address: { host: KERNEL_ADDR, port }, pid: child.pid!, describe, stop: () => stopChild(child) };
}

function danteConfig(): string {
  return `logoutput: stderr
internal: ${KERNEL_ADDR} port = ${DANTE_PORT}
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
  from: 0.0.0.0/0 to: 0.0.0.0/0
}
socks pass {
  from: 0.0.0.0/0 to: 0.0.0.0/0
  command: connect
}
`;
}

/** The daemon from dist/, started here (not by the test harness) so that --cpu-prof can be passed to node. */
async function startOnionplane(ns: VethNamespace, dir: string, profileDir: string | null, o: SocksCompareOptions): Promise<Proxy> {
  const conf = join(dir, 'startup.conf');
  const gate = join(dir, 'setup.gate');
  const cliSocket = join(dir, 'cli.sock');
  writeFileSync(conf, `unix { nodaemon cli-listen ${cliSocket} exec ${gate} }\ntor { backend direct i-understand-this-is-not-anonymous }\n${o.daemonConfig}\n`);
  writeFileSync(
    gate,
    `create host-interface name ${ns.host}
set interface state host-${ns.host} up
set interface ip address host-${ns.host} ${OP_ADDR}/24
${o.daemonSetup.map((c) => `${c.replaceAll('$IF', `host-${ns.host}`)}\n`).join('')}tor client enable port ${OP_PORT}
`,
  );
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, DAEMON_BIN, '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-8000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-8000)));
  const stop = async (): Promise<void> => {
    await stopChild(child, 20_000);
    rmSync(cliSocket, { force: true });
  };
  try {
    const end = Date.now() + 20_000;
    while (!existsSync(cliSocket)) {
      if (child.exitCode !== null || Date.now() > end) throw new Error(`daemon did not start:\n${out}`);
      await sleep(50);
    }
    await waitTcp(ns, OP_ADDR, OP_PORT, 20_000);
  } catch (e) {
    await stop();
    throw new Error(`onionplane: ${(e as Error).message}\n${out}`);
  }
  const cli = async (cmd: string): Promise<string> => {
    const c = await CliClient.connect(cliSocket);
    try {
      return (await c.run(cmd)).output;
    } finally {
      c.close();
    }
  };
  return {
    name: 'onionplane',
    address: { host: OP_ADDR, port: OP_PORT },
    pid: child.pid!,
    describe: 'onionplane daemon, tor plugin, direct backend',
    runtime: async () => {
      const r = await cli('show runtime');
      await cli('clear runtime');
      return r;
    },
    stop,
  };
}

async function startProxy(name: TargetName, ns: VethNamespace, dir: string, profileDir: string | null, o: SocksCompareOptions): Promise<Proxy> {
  switch (name) {
    case 'no-proxy':
      return { name, address: null, pid: null, describe: 'client → origin over the veth (kernel TCP)', stop: async () => undefined };
    case 'dante': {
      const conf = join(dir, 'danted.conf');
      writeFileSync(conf, danteConfig());
      return startChildProxy(name, 'danted', ['-f', conf, '-p', join(dir, 'danted.pid')], DANTE_PORT, ns, 'danted (dante-server)');
    }
    case 'microsocks':
      return startChildProxy(name, 'microsocks', ['-i', KERNEL_ADDR, '-p', String(MICROSOCKS_PORT)], MICROSOCKS_PORT, ns, 'microsocks');
    case 'onionplane':
      return startOnionplane(ns, dir, profileDir, o);
  }
}

// ---------------------------------------------------------------------------------------- measuring

async function measureRate(ns: VethNamespace, proxy: Proxy, origin: Origin, o: SocksCompareOptions, concurrency: number): Promise<RateResult> {
  const args = proxy.address
    ? ['socks', proxy.address.host, proxy.address.port, '127.0.0.1', origin.port]
    : ['direct', KERNEL_ADDR, origin.port, '0.0.0.0', 0];
  const expect = responseHeader(o.responseBytes).length + o.responseBytes;
  const argv = ['netns', 'exec', ns.netns, 'python3', '-c', PY_RATE, ...[...args, concurrency, o.seconds, o.responseBytes, expect].map(String)];
  const m = await withCpu(proxy.pid, () => run('ip', argv, (o.seconds + 30) * 1000));
  const r = m.value;
  if (r.code !== 0) throw new Error(`rate client exited ${r.code}: ${r.stderr.trim()}`);
  const j = JSON.parse(r.stdout.trim()) as { completed: number; errors: number; seconds: number; errorKinds: Record<string, number>; cpuPercent: number };
  if (j.errors > 0) console.error(`  ${proxy.name}: ${j.errors} failed connections: ${JSON.stringify(j.errorKinds)}`);
  return {
    concurrency,
    connectionsPerSec: j.completed / j.seconds,
    completed: j.completed,
    errors: j.errors,
    seconds: j.seconds,
    // The client runs ~seconds + warm-up + drain; CPU over the whole run per connection overall.
    proxyCpuUsPerConnection: m.cpuSec === null ? null : ((m.cpuSec / m.wallSec) * j.seconds * 1e6) / Math.max(1, j.completed),
    proxyCpuPercent: m.cpuSec === null ? null : (100 * m.cpuSec) / m.wallSec,
    clientCpuPercent: Math.round(j.cpuPercent),
    loadavg1: m.load,
  };
}

async function measureBulk(ns: VethNamespace, proxy: Proxy, origin: Origin, o: SocksCompareOptions): Promise<BulkResult> {
  const bytes = o.megabytes * 1_000_000;
  const url = proxy.address ? `http://127.0.0.1:${origin.port}/bytes/${bytes}` : `http://${KERNEL_ADDR}:${origin.port}/bytes/${bytes}`;
  const via = proxy.address ? ['--socks5-hostname', `${proxy.address.host}:${proxy.address.port}`] : [];
  const argv = ['netns', 'exec', ns.netns, 'curl', '-sS', '--fail', '--max-time', '300', ...via, '-o', '/dev/null', '-w', '%{size_download} %{time_total}', url];
  const m = await withCpu(proxy.pid, () => run('ip', argv, 320_000));
  const r = m.value;
  if (r.code !== 0) throw new Error(`curl exited ${r.code}: ${r.stderr.trim()}`);
  const [size, total] = r.stdout.trim().split(' ').map(Number) as [number, number];
  if (size !== bytes) throw new Error(`curl received ${size} of ${bytes} bytes`);
  return {
    bytes,
    seconds: total,
    mbPerSec: bytes / total / 1e6,
    proxyCpuSecPerGB: m.cpuSec === null ? null : m.cpuSec / (bytes / 1e9),
    proxyCpuPercent: m.cpuSec === null ? null : (100 * m.cpuSec) / m.wallSec,
    loadavg1: m.load,
  };
}

// ------------------------------------------------------------------------------------------ profile

export interface ProfileSummary {
  files: string[];
  totalMs: number;
  topFunctions: { name: string; selfMs: number; percent: number }[];
  topFiles: { file: string; selfMs: number; percent: number }[];
  /** Per profiled thread (main, backend worker): sampled non-idle time and its hottest functions. */
  threads: { file: string; busyMs: number; top: { name: string; selfMs: number }[] }[];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function and per source file over the daemon's .cpuprofile files (main + workers). */
function summarizeProfiles(dir: string): ProfileSummary | undefined {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  if (files.length === 0) return undefined;
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  let totalMs = 0;
  const threads: ProfileSummary['threads'] = [];
  for (const f of files) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    const mine = new Map<string, number>();
    let busyMs = 0;
    const node = new Map(p.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < p.samples.length; i++) {
      const n = node.get(p.samples[i]!)!;
      const ms = (p.timeDeltas[i] ?? 0) / 1000;
      const cf = n.callFrame;
      if (cf.functionName === '(idle)') continue;
      totalMs += ms;
      const file = cf.url.replace(/^file:\/\//, '').replace(`${PACKAGE_ROOT}/`, '') || cf.functionName;
      const name = `${cf.functionName || '(anonymous)'} ${file}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
      byFn.set(name, (byFn.get(name) ?? 0) + ms);
      byFile.set(file, (byFile.get(file) ?? 0) + ms);
      mine.set(name, (mine.get(name) ?? 0) + ms);
      busyMs += ms;
    }
    const top = [...mine].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([name, ms]) => ({ name, selfMs: Math.round(ms) }));
    threads.push({ file: f, busyMs: Math.round(busyMs), top });
  }
  const top = <K extends string>(m: Map<string, number>, key: K, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => ({ [key]: k, selfMs: Math.round(ms), percent: Math.round((1000 * ms) / totalMs) / 10 }) as { [P in K]: string } & { selfMs: number; percent: number });
  return { files, totalMs: Math.round(totalMs), topFunctions: top(byFn, 'name', 30), topFiles: top(byFile, 'file', 20), threads };
}

// ------------------------------------------------------------------------------------------- driver

async function versions(): Promise<Record<string, string>> {
  const v: Record<string, string> = { node: process.version };
  const dante = await run('danted', ['-v'], 5000).catch(() => undefined);
  if (dante?.code === 0) v.dante = (dante.stdout + dante.stderr).trim().split('\n')[0]!;
  const ms = await runCommand('dpkg-query', ['-W', '-f=${Version}', 'microsocks']).catch(() => undefined);
  if (ms) v.microsocks = ms;
  const curl = await run('curl', ['--version'], 5000).catch(() => undefined);
  if (curl?.code === 0) v.curl = curl.stdout.split('\n')[0]!;
  v.kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  v.cpus = String((await runCommand('nproc', [])).trim());
  return v;
}

export async function runSocksCompare(o: SocksCompareOptions): Promise<SocksCompareResult> {
  const dir = mkdtempSync(join(tmpdir(), 'socks-compare-'));
  const removeDir = async () => rmSync(dir, { recursive: true, force: true });
  onInterrupt.add(removeDir);
  const ns = await createVethNamespace('opsc', { peerAddress: `${CLIENT_ADDR}/24` });
  const closeNs = () => ns.close();
  onInterrupt.add(closeNs);
  let origin: Origin | undefined;
  const results: TargetResult[] = [];
  try {
    // Only the client's end is capped: its TCP must send MTU-sized frames (onionplane does not segment GSO
    // frames), while the kernel proxies on the host end keep GSO (capping it there too makes kernel TCP
    // crawl at ~40 MB/s on this veth, which would measure the cap rather than the proxies).
    if (o.gsoMaxSegs > 0) await ip(['link', 'set', ns.peer, 'gso_max_segs', String(o.gsoMaxSegs)], ns.netns);
    await execInNetns(ns.netns, 'sysctl', ['-qw', `net.ipv6.conf.${ns.peer}.disable_ipv6=1`]);
    await runCommand('sysctl', ['-qw', `net.ipv6.conf.${ns.host}.disable_ipv6=1`]);
    await addAddress(ns.host, `${KERNEL_ADDR}/24`);
    origin = await startOrigin(['127.0.0.1', KERNEL_ADDR]);
    const specs: { target: string; kind: TargetName; config: string }[] = o.only.map((kind) => ({ target: kind, kind, config: o.daemonConfig }));
    if (o.only.includes('onionplane')) {
      for (const v of o.variants) specs.push({ target: `onionplane ${v.label}`, kind: 'onionplane', config: `${o.daemonConfig}\n${v.config}` });
    }
    const table: TargetResult[] = specs.map((spec) => ({ target: spec.target, kind: spec.kind, proxy: '', rateByConcurrency: [], rounds: { rate: [], bulk: [] } }));
    results.push(...table);
    // Rounds go round-robin over the targets (each proxy started afresh), so load from other work on a
    // shared machine spreads over all rows instead of landing on whichever runs last.
    for (let round = 0; round < o.rounds; round++) {
      for (const [i, spec] of specs.entries()) {
        const t = table[i]!;
        if (t.error) continue;
        const profileDir = o.profile && spec.kind === 'onionplane' ? join(dir, `profile-${i}`) : null;
        let proxy: Proxy | undefined;
        try {
          proxy = await startProxy(spec.kind, ns, dir, profileDir, { ...o, daemonConfig: spec.config });
          onInterrupt.add(proxy.stop);
          t.proxy = proxy.describe + (spec.config.trim() ? ` + ${spec.config.trim().replace(/\s+/g, ' ')}` : '');
          await proxy.runtime?.();
          const line: string[] = [];
          if (o.phases.includes('rate')) {
            for (const c of o.concurrency) {
              const r = await measureRate(ns, proxy, origin, o, c);
              t.rounds.rate.push(r);
              line.push(`${r.connectionsPerSec.toFixed(0)} conn/s @${c}`);
              await sleep(300);
            }
            if (proxy.runtime) (t.runtime ??= {}).rate = await proxy.runtime();
          }
          if (o.phases.includes('bulk')) {
            const b = await measureBulk(ns, proxy, origin, o);
            t.rounds.bulk.push(b);
            line.push(`${b.mbPerSec.toFixed(1)} MB/s`);
            if (proxy.runtime) (t.runtime ??= {}).bulk = await proxy.runtime();
          }
          console.error(`  ${spec.target} round ${round + 1}: ${line.join(', ')}`);
        } catch (e) {
          t.error = (e as Error).message;
          console.error(`  ${spec.target}: ${t.error}`);
        } finally {
          if (proxy) {
            onInterrupt.delete(proxy.stop);
            await proxy.stop();
          }
        }
      }
    }
    const best = (xs: RateResult[]) => xs.reduce((a, b) => (b.connectionsPerSec > a.connectionsPerSec ? b : a));
    for (const [i, t] of table.entries()) {
      for (const c of o.concurrency) {
        const at = t.rounds.rate.filter((r) => r.concurrency === c);
        if (at.length > 0) t.rateByConcurrency.push(best(at));
      }
      if (t.rounds.rate.length > 0) t.rate = best(t.rounds.rate);
      if (t.rounds.bulk.length > 0) t.bulk = t.rounds.bulk.reduce((a, b) => (b.mbPerSec > a.mbPerSec ? b : a));
      const p = o.profile ? summarizeProfiles(join(dir, `profile-${i}`)) : undefined;
      if (p) t.profile = p;
      if (p && o.keepProfileDir) {
        const keep = join(o.keepProfileDir, `profile-${i}`);
        mkdirSync(keep, { recursive: true });
        for (const f of p.files) copyFileSync(join(dir, `profile-${i}`, f), join(keep, f));
      }
    }
  } finally {
    await origin?.stop();
    await ns.close();
    onInterrupt.delete(closeNs);
  }
  await removeDir();
  onInterrupt.delete(removeDir);
  const get = (n: string) => results.find((r) => r.target === n);
  const op = get('onionplane');
  const dante = get('dante');
  const ratio = (a?: number, b?: number): number | null => (a !== undefined && b !== undefined && b > 0 ? a / b : null);
  return {
    date: new Date().toISOString(),
    options: o,
    versions: await versions(),
    targets: results,
    ratios: {
      throughput: ratio(op?.bulk?.mbPerSec, dante?.bulk?.mbPerSec),
      connectionRate: ratio(op?.rate?.connectionsPerSec, dante?.rate?.connectionsPerSec),
    },
  };
}

function formatProfile(target: string, p: ProfileSummary): string[] {
  const out = [`${target}: daemon CPU profile (${p.files.length} threads, ${p.totalMs} ms sampled, idle excluded), self time by file:`];
  for (const f of p.topFiles.slice(0, 10)) out.push(`  ${f.percent.toFixed(1).padStart(5)}%  ${f.file}`);
  out.push('by function:');
  for (const f of p.topFunctions.slice(0, 16)) out.push(`  ${f.percent.toFixed(1).padStart(5)}%  ${f.name}`);
  for (const t of p.threads) {
    out.push(`thread ${t.file}: ${t.busyMs} ms busy; top: ${t.top.slice(0, 5).map((x) => `${x.name.split(' ')[0]} ${x.selfMs}`).join(', ')}`);
  }
  return out;
}

export function formatSocksCompare(r: SocksCompareResult): string {
  const o = r.options;
  const head = ['target', ...o.concurrency.map((c) => `conn/s @${c}`), 'client CPU %', 'errors', 'µs CPU/conn', `MB/s (${o.megabytes} MB)`, 'CPU-s/GB', 'CPU % rate, bulk'];
  const n = (x: number | null | undefined, d: number) => (x === null || x === undefined ? '-' : x.toFixed(d));
  const rows: string[][] = r.targets.map((t) =>
    t.error
      ? [t.target, 'failed', ...o.concurrency.slice(1).map(() => ''), '', '', '', '', '', t.error.split('\n')[0]!.slice(0, 60)]
      : [
          t.target,
          ...o.concurrency.map((c) => n(t.rateByConcurrency.find((x) => x.concurrency === c)?.connectionsPerSec, 0)),
          n(t.rate?.clientCpuPercent, 0),
          String(t.rounds.rate.reduce((a, x) => a + x.errors, 0)),
          n(t.rate?.proxyCpuUsPerConnection, 0),
          n(t.bulk?.mbPerSec, 1),
          n(t.bulk?.proxyCpuSecPerGB, 2),
          `${n(t.rate?.proxyCpuPercent, 0)}, ${n(t.bulk?.proxyCpuPercent, 0)}`,
        ],
  );
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 || i === row.length - 1 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  const out = [
    `SOCKS5 over one veth (client end gso_max_segs ${o.gsoMaxSegs > 0 ? o.gsoMaxSegs : 'default'}), best of ${o.rounds} round(s)`,
    `  rate: N connections in flight, each greeting + CONNECT + ${o.responseBytes}-byte HTTP response + close, ${o.seconds} s window`,
    `  bulk: one curl --socks5-hostname stream of ${o.megabytes} MB; CPU columns: the proxy's processes (µs at its best rate)`,
    line(head),
    ...rows.map(line),
  ];
  const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));
  out.push(`onionplane / dante: throughput ${f(r.ratios.throughput)}, connection rate ${f(r.ratios.connectionRate)} (goal >= 1)`);
  for (const t of r.targets) if (t.profile) out.push(...formatProfile(t.target, t.profile));
  return out.join('\n');
}

function parseArgs(argv: readonly string[]): SocksCompareOptions {
  const arg = (name: string, def: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
  };
  const only = arg('only', TARGETS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const n of only) if (!TARGETS.includes(n as TargetName)) throw new Error(`unknown target ${n} (${TARGETS.join(', ')})`);
  return {
    megabytes: Number(arg('mb', '500')),
    seconds: Number(arg('seconds', '5')),
    concurrency: arg('concurrency', '32,128')
      .split(',')
      .map(Number)
      .filter((c) => Number.isInteger(c) && c > 0),
    responseBytes: Number(arg('response', '100')),
    rounds: Number(arg('rounds', '1')),
    only: only as TargetName[],
    profile: argv.includes('--profile'),
    gsoMaxSegs: Number(arg('gso-max-segs', '1')),
    phases: arg('phases', 'rate,bulk')
      .split(',')
      .filter((p): p is 'rate' | 'bulk' => p === 'rate' || p === 'bulk'),
    daemonConfig: arg('config', ''),
    keepProfileDir: argv.includes('--keep-profile') ? arg('keep-profile', '') || undefined : undefined,
    daemonSetup: arg('setup', '')
      .split(';')
      .map((c) => c.trim())
      .filter((c) => c.length > 0),
    variants: argv.flatMap((a, i) => {
      if (a !== '--variant' || argv[i + 1] === undefined) return [];
      const v = argv[i + 1]!;
      const eq = v.indexOf('=');
      if (eq <= 0) throw new Error(`--variant label=<startup.conf text>, got ${v}`);
      return [{ label: v.slice(0, eq), config: v.slice(eq + 1) }];
    }),
  };
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<SocksCompareResult> {
  const result = await runSocksCompare(parseArgs(argv));
  result.command = ['node', 'dist/bench/socks-compare.js', ...argv].map((a) => (/[\s{}']/.test(a) ? `'${a}'` : a)).join(' ');
  console.log(formatSocksCompare(result));
  const dir = join(PACKAGE_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'socks-compare.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  cleanUpOnSignals();
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
