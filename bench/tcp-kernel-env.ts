// A test topology for onionplane TCP against Linux kernel TCP: a network namespace with the kernel's end of
// a veth pair, the daemon (from dist/) on the other end with the session layer, and helpers to run python3
// clients inside the namespace. Shared by test/integration/tcp-kernel.test.ts and bench/tcp-throughput.ts.

import { spawn } from 'node:child_process';
import { createVethNamespace, execInNetns, type VethNamespace } from '../src/native/veth.js';
import { startDaemonProcess, type DaemonProcess } from '../test/harness/daemon.js';

export interface TcpKernelEnvOptions {
  /** Short prefix for interface and namespace names (unique names are derived from it). */
  prefix: string;
  /** First three octets of a /24 used only by this topology, e.g. "10.233.7". We are .1, the kernel .2. */
  subnet: string;
  /** veth gso_max_segs (1: the kernel sends MTU-sized frames instead of GSO super-frames). */
  gsoMaxSegs?: number;
  /** Extra startup.conf text (e.g. `session { rx-fifo-size 1m }`). */
  config?: string;
  /** CLI commands run after the interface is up. */
  setup?: string[];
  /** Runs with the veth in place before the daemon attaches to it (e.g. a kernel-to-kernel baseline). */
  beforeDaemon?: (ns: VethNamespace) => Promise<void>;
}

export interface TcpKernelEnv {
  readonly ns: VethNamespace;
  readonly daemon: DaemonProcess;
  /** Our interface name in the daemon (host-<veth>). */
  readonly ifName: string;
  readonly ourAddr: string;
  readonly peerAddr: string;
  /** Runs a CLI command; rejects when it fails. */
  cli(cmd: string): Promise<string>;
  /** Runs a python3 program inside the namespace; resolves with stdout, rejects on a non-zero exit. */
  py(program: string, args: readonly (string | number)[], timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

/** Runs a python3 program (given as text) with `ip netns exec`, bounded by a timeout. */
export function runPython(netns: string | null, program: string, args: readonly (string | number)[], timeoutMs = 120_000): Promise<string> {
  const argv = ['-c', program, ...args.map(String)];
  const [file, full] = netns ? ['ip', ['netns', 'exec', netns, 'python3', ...argv]] : ['python3', argv];
  return new Promise((resolve, reject) => {
    const child = spawn(file, full as string[], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`python3 exited ${code ?? signal}${signal === 'SIGKILL' ? ' (timeout)' : ''}\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

/** A long-running python3 program: lines of its stdout as they come, and its exit. */
export interface PythonProcess {
  /** Resolves with the next stdout line (rejects if the program exits first). */
  nextLine(timeoutMs?: number): Promise<string>;
  /** Closes its stdin (programs use this as "finish now"). */
  endInput(): void;
  /** Resolves with the remaining stdout when it exits with 0. */
  done(): Promise<string>;
  kill(): void;
}

export function spawnPython(netns: string | null, program: string, args: readonly (string | number)[]): PythonProcess {
  const argv = ['-c', program, ...args.map(String)];
  const child = netns
    ? spawn('ip', ['netns', 'exec', netns, 'python3', ...argv], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn('python3', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '';
  let err = '';
  const waiters: ((l: string | null) => void)[] = [];
  const lines: string[] = [];
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => ((exitCode = code), r(code))));
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  child.stderr.on('data', (d) => (err += d));
  void exited.then(() => {
    for (const w of waiters.splice(0)) w(null);
  });
  return {
    nextLine(timeoutMs = 60_000) {
      const l = lines.shift();
      if (l !== undefined) return Promise.resolve(l);
      if (exitCode !== undefined) return Promise.reject(new Error(`python3 exited ${exitCode}: ${err}`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('python3: timed out waiting for output')), timeoutMs);
        waiters.push((line) => {
          clearTimeout(timer);
          if (line === null) reject(new Error(`python3 exited ${exitCode}: ${err}`));
          else resolve(line);
        });
      });
    },
    endInput() {
      child.stdin.end();
    },
    async done() {
      const code = await exited;
      if (code !== 0) throw new Error(`python3 exited ${code}: ${err}`);
      return lines.join('\n') + buf;
    },
    kill() {
      if (exitCode === undefined) child.kill('SIGKILL');
    },
  };
}

export async function startTcpKernelEnv(opts: TcpKernelEnvOptions): Promise<TcpKernelEnv> {
  const ourAddr = `${opts.subnet}.1`;
  const peerAddr = `${opts.subnet}.2`;
  const ns = await createVethNamespace(opts.prefix, {
    peerAddress: `${peerAddr}/24`,
    ...(opts.gsoMaxSegs !== undefined ? { gsoMaxSegs: opts.gsoMaxSegs } : {}),
  });
  let daemon: DaemonProcess | undefined;
  try {
    await execInNetns(ns.netns, 'sysctl', ['-qw', `net.ipv6.conf.${ns.peer}.disable_ipv6=1`]);
    await opts.beforeDaemon?.(ns);
    const ifName = `host-${ns.host}`;
    const gate = [
      `create host-interface name ${ns.host}`,
      `set interface ip address ${ifName} ${ourAddr}/24`,
      `set interface state ${ifName} up`,
      ...(opts.setup ?? []),
    ].join('\n');
    daemon = await startDaemonProcess({
      config: `unix { nodaemon cli-listen $DIR/cli.sock exec $DIR/setup.gate }\n${opts.config ?? ''}`,
      files: { 'setup.gate': `${gate}\n` },
    });
    const d = daemon;
    const cli = async (cmd: string): Promise<string> => {
      const r = await d.cli(cmd);
      if (r.failed) throw new Error(`${cmd}: ${r.output}`);
      return r.output;
    };
    return {
      ns,
      daemon: d,
      ifName,
      ourAddr,
      peerAddr,
      cli,
      py: (program, args, timeoutMs) => runPython(ns.netns, program, args, timeoutMs),
      async close() {
        await d.stop();
        await ns.close();
      },
    };
  } catch (e) {
    await daemon?.stop();
    await ns.close();
    throw e;
  }
}

/**
 * python3 clients, each a self-contained program. argv: described per program. Every program prints one
 * JSON object on success and exits non-zero (with a message) on failure.
 */
export const PY_COMMON = String.raw`
import socket, sys, json, time, hashlib, threading, os, struct, select, random
def pattern_block(seed, n=1 << 20):
    r = random.Random(seed)
    return r.randbytes(n)
def connect(host, port, timeout=60, bind_port=0, rcvbuf=0, sndbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf: s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if sndbuf: s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    if bind_port: s.bind(('', bind_port))
    s.settimeout(timeout)
    s.connect((host, port))
    return s
def source_bytes(start, n):
    # byte i = (i*7+13) & 0xff: a 256-byte period
    period = bytes(((i * 7 + 13) & 0xff) for i in range(256))
    ph = start & 0xff
    rep = period[ph:] + period[:ph]
    return (rep * (n // 256 + 2))[:n]
`;

/** Sends argv[3] bytes to host argv[1]:argv[2] and reads back what is echoed; both sha256 must match. */
export const PY_ECHO = PY_COMMON + String.raw`
host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
half_close = len(sys.argv) > 4 and sys.argv[4] == 'half-close'
block = pattern_block(total)
s = connect(host, port)
tx_hash = hashlib.sha256()
err = []
def sender():
    try:
        sent = 0
        while sent < total:
            n = min(len(block), total - sent)
            chunk = memoryview(block)[:n]
            s.sendall(chunk)
            tx_hash.update(chunk)
            sent += n
        s.shutdown(socket.SHUT_WR)
    except Exception as e:
        err.append('send: %r' % e)
t0 = time.time()
th = threading.Thread(target=sender); th.start()
rx_hash = hashlib.sha256(); got = 0
buf = bytearray(1 << 20)
while True:
    n = s.recv_into(buf)
    if n == 0: break
    rx_hash.update(memoryview(buf)[:n]); got += n
th.join()
dt = time.time() - t0
s.close()
if err: sys.exit('; '.join(err))
print(json.dumps({'sent': total, 'received': got, 'tx': tx_hash.hexdigest(), 'rx': rx_hash.hexdigest(), 'seconds': dt}))
`;

/** Sends argv[3] bytes to a sink at argv[1]:argv[2], half-closes and waits for the sink's FIN. */
export const PY_SEND = PY_COMMON + String.raw`
host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = pattern_block(1)
s = connect(host, port)
t0 = time.time(); sent = 0
while sent < total:
    n = min(len(block), total - sent)
    s.sendall(memoryview(block)[:n]); sent += n
s.shutdown(socket.SHUT_WR)
while s.recv(65536): pass
dt = time.time() - t0
s.close()
print(json.dumps({'sent': sent, 'seconds': dt}))
`;

/** A kernel sink on argv[1]:argv[2] for one connection: reads to EOF, closes; prints bytes and time. */
export const PY_SINK_SERVER = PY_COMMON + String.raw`
host, port = sys.argv[1], int(sys.argv[2])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind((host, port)); l.listen(8)
print('ready', flush=True)
c, _ = l.accept(); buf = bytearray(1 << 20); got = 0
while True:
    n = c.recv_into(buf)
    if n == 0: break
    got += n
c.close(); l.close()
print(json.dumps({'received': got}))
`;

/**
 * Opens argv[3] connections to argv[1]:argv[2], sends argv[4] bytes on each and reads them back (echo
 * server), prints `ready` and keeps them open (idle) until stdin closes; then checks every one is still
 * open (no EOF/RST), closes them and prints a JSON summary.
 */
export const PY_MANY = PY_COMMON + String.raw`
host, port, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
import resource
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 256, n + 256))
socks = []
t0 = time.time()
# Connect in waves so the SYN backlog is exercised but not only cookies.
for i in range(n):
    s = socket.socket(); s.setblocking(False)
    s.connect_ex((host, port)); socks.append(s)
byfd = {s.fileno(): s for s in socks}
poller = select.poll()
for s in socks: poller.register(s, select.POLLOUT)
pending = set(byfd); deadline = time.time() + 60
while pending and time.time() < deadline:
    for fd, ev in poller.poll(1000):
        e = byfd[fd].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if e: sys.exit('connect failed: %s' % os.strerror(e))
        poller.unregister(fd); pending.discard(fd)
if pending: sys.exit('%d connects pending' % len(pending))
for s in socks: s.setblocking(True); s.settimeout(30)
msgs = [os.urandom(size) for _ in range(n)]
for i, s in enumerate(socks): s.sendall(msgs[i])
for i, s in enumerate(socks):
    got = b''
    while len(got) < size:
        d = s.recv(size - len(got))
        if not d: sys.exit('EOF on connection %d' % i)
        got += d
    if got != msgs[i]: sys.exit('echo mismatch on connection %d' % i)
t_est = time.time() - t0
print('ready', flush=True)
sys.stdin.read()
alive = 0
for s in socks:
    s.setblocking(False)
    try:
        d = s.recv(1)
        if d == b'': pass
    except BlockingIOError:
        alive += 1
for s in socks: s.close()
print(json.dumps({'connections': n, 'alive': alive, 'seconds': t_est}))
`;
