// onionplane TCP against Linux kernel TCP (root): the daemon on one end of a veth pair, python3 clients in a
// network namespace on the other. Bulk transfers verified by SHA-256 with the interface fault injector
// dropping, reordering and duplicating frames; half-close both ways; RSTs; 1,000 concurrent connections;
// a zero-window stall; TIME-WAIT recycling.
// TSO is on (the session default): without faults our data leaves as GSO super-frames that the kernel cuts
// into MTU-sized frames (this veth has gso_max_segs 1); while a fault injector is set, the TCP output sink
// cuts the engine's super-segments into MTU-sized frames itself, so TX faults act on the frames the wire sees.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { PY_COMMON, PY_ECHO, PY_MANY, spawnPython, startTcpKernelEnv, type TcpKernelEnv } from '../../bench/tcp-kernel-env.js';
import { DAEMON_BIN } from '../harness/daemon.js';

const canRun = process.getuid?.() === 0 && existsSync(DAEMON_BIN);
const MB = 1_000_000;

/** The `source` test app's bytes: byte i = (i * 7 + 13) & 0xff. */
function sourceSha256(n: number): string {
  const period = new Uint8Array(256);
  for (let i = 0; i < 256; i++) period[i] = (i * 7 + 13) & 0xff;
  const block = new Uint8Array(1 << 20);
  for (let i = 0; i < block.length; i++) block[i] = period[i & 0xff]!;
  const h = createHash('sha256');
  for (let done = 0; done < n; done += block.length) h.update(block.subarray(0, Math.min(block.length, n - done)));
  return h.digest('hex');
}

/** Reads argv[3] bytes from a source server; optional pause (stop reading) after argv[5] bytes for argv[6] s. */
const PY_READ = PY_COMMON + String.raw`
host, port, total, rcvbuf = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
pause_at = int(sys.argv[5]) if len(sys.argv) > 5 else -1
pause_s = float(sys.argv[6]) if len(sys.argv) > 6 else 0
send_after_eof = int(sys.argv[7]) if len(sys.argv) > 7 else 0
s = connect(host, port, rcvbuf=rcvbuf)
h = hashlib.sha256(); got = 0; buf = bytearray(1 << 16); t0 = time.time(); paused = False
while True:
    if not paused and pause_at >= 0 and got >= pause_at:
        paused = True; time.sleep(pause_s)
    want = len(buf) if (pause_at < 0 or paused) else min(len(buf), pause_at - got)
    n = s.recv_into(buf, want)
    if n == 0: break
    h.update(memoryview(buf)[:n]); got += n
# The server half-closed: we can still send (its read side is open), then close.
if send_after_eof: s.sendall(b'x' * send_after_eof)
s.close()
print(json.dumps({'received': got, 'sha256': h.hexdigest(), 'seconds': time.time() - t0}))
`;

/** RST cases: a closed port refuses; an abortive close (SO_LINGER 0) in the middle of a transfer. */
const PY_RST = PY_COMMON + String.raw`
host, closed_port, sink_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = {}
try:
    connect(host, closed_port, timeout=10); r['closed'] = 'connected?!'
except ConnectionRefusedError:
    r['closed'] = 'refused'
s = connect(host, sink_port)
s.sendall(b'y' * 300000)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
s.close()
r['abort'] = 'sent'
print(json.dumps(r))
`;

/** Connects from a fixed local port argv[3] times in a row, reading to EOF each time (the server closes first). */
const PY_REUSE = PY_COMMON + String.raw`
host, port, times, lport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
total = 0; t0 = time.time()
for i in range(times):
    s = connect(host, port, timeout=10, bind_port=lport)
    while True:
        d = s.recv(65536)
        if not d: break
        total += len(d)
    s.close()
    time.sleep(0.05) # our ACK of its FIN reaches the kernel: its end is CLOSED, the 4-tuple free there
print(json.dumps({'received': total, 'seconds': time.time() - t0}))
`;

function stat(text: string, name: string): number {
  const m = new RegExp(`^\\s*(\\d+) ${name}$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function memoryField(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

describe.skipIf(!canRun)('TCP against the Linux kernel over veth (root)', () => {
  let env: TcpKernelEnv;
  const echo = async (port: number, bytes: number, timeoutMs: number): Promise<{ seconds: number }> => {
    const r = JSON.parse(await env.py(PY_ECHO, [env.ourAddr, port, bytes], timeoutMs)) as {
      sent: number;
      received: number;
      tx: string;
      rx: string;
      seconds: number;
    };
    expect(r.received).toBe(bytes);
    expect(r.rx).toBe(r.tx);
    return r;
  };
  const fault = async (spec: string): Promise<void> => {
    await env.cli(`set interface fault ${env.ifName} ${spec}`);
  };

  beforeAll(async () => {
    env = await startTcpKernelEnv({
      prefix: 'tk',
      subnet: '10.239.17',
      gsoMaxSegs: 1,
      config: 'session { rx-fifo-size 1m tx-fifo-size 1m }',
      setup: [
        'test tcp server uri tcp://10.239.17.1/7 echo',
        'test tcp server uri tcp://10.239.17.1/9 sink',
        'test tcp server uri tcp://10.239.17.1/19 source 20000000',
        'test tcp server uri tcp://10.239.17.1/20 source 50000',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await env?.close();
  });

  it('echoes 200 MB each way with matching SHA-256 (no faults)', async () => {
    const tso0 = stat(await env.cli('show tcp stats'), 'tso-segments-out');
    const r = await echo(7, 200 * MB, 120_000);
    console.log(`echo 200 MB, no faults: ${r.seconds.toFixed(1)} s`);
    // Most of the echo went out as TSO super-frames (up to ~44 MSS each).
    const supers = stat(await env.cli('show tcp stats'), 'tso-segments-out') - tso0;
    expect(supers).toBeGreaterThan(200 * MB / 65536 / 4);
    expect(/TSO frames segmented in software/.test(await env.cli('show errors'))).toBe(false);
  }, 130_000);

  it('echoes 200 MB each way with 1% drop, reordering and duplication', async () => {
    await fault('drop 1 reorder 1 duplicate 1 seed 11');
    const tso0 = stat(await env.cli('show tcp stats'), 'tso-segments-out');
    try {
      const r = await echo(7, 200 * MB, 150_000);
      console.log(`echo 200 MB, 1% faults: ${r.seconds.toFixed(1)} s`);
      // The engine still sent super-segments (cut into wire-sized frames before the fault injector).
      expect(stat(await env.cli('show tcp stats'), 'tso-segments-out')).toBeGreaterThan(tso0);
    } finally {
      await fault('off');
    }
    const show = await env.cli('show tcp stats');
    expect(stat(show, 'retransmits')).toBeGreaterThan(0);
  }, 160_000);

  it('echoes 200 MB each way with 5% drop, reordering and duplication', async () => {
    await fault('drop 5 reorder 5 duplicate 5 seed 5');
    const tso0 = stat(await env.cli('show tcp stats'), 'tso-segments-out');
    try {
      // The slowest case of the suite (about 2.5 minutes): at 5% loss each way both congestion
      // controls keep the rate near 1.5 MB/s.
      const r = await echo(7, 200 * MB, 400_000);
      console.log(`echo 200 MB, 5% faults: ${r.seconds.toFixed(1)} s`);
      const f = await env.cli('show interface fault');
      for (const what of ['dropped', 'duplicated', 'reordered']) expect(Number(new RegExp(`${what} (\\d+)`).exec(f)![1])).toBeGreaterThan(0);
      expect(stat(await env.cli('show tcp stats'), 'tso-segments-out')).toBeGreaterThan(tso0);
    } finally {
      await fault('off');
    }
  }, 410_000);

  it('sends 20 MB from onionplane (source) and half-closes; the kernel still sends afterwards', async () => {
    const before = await env.cli('test tcp server show');
    const inBefore = Number(/\/19 source \d+: .* bytes in (\d+)/.exec(before)![1]);
    const r = JSON.parse(await env.py(PY_READ, [env.ourAddr, 19, 20 * MB, 0, -1, 0, 12345], 60_000)) as {
      received: number;
      sha256: string;
    };
    expect(r.received).toBe(20 * MB);
    expect(r.sha256).toBe(sourceSha256(20 * MB));
    expect(stat(await env.cli('show tcp stats'), 'tso-segments-out')).toBeGreaterThan(0);
    // After our FIN the client sent 12345 bytes: the source read them (half-close), then both closed.
    let inAfter = 0;
    for (let i = 0; i < 50 && inAfter - inBefore < 12345; i++) {
      await new Promise((res) => setTimeout(res, 100));
      inAfter = Number(/\/19 source \d+: .* bytes in (\d+)/.exec(await env.cli('test tcp server show'))![1]);
    }
    expect(inAfter - inBefore).toBe(12345);
  }, 70_000);

  it('handles a zero-window stall: the client stops reading, then resumes', async () => {
    const stats0 = await env.cli('show tcp stats');
    // Small kernel receive buffer, read 1 MB, stop for 3 s (our sender meets a zero window), then read on.
    const r = JSON.parse(await env.py(PY_READ, [env.ourAddr, 19, 20 * MB, 65536, 1 * MB, 3], 60_000)) as {
      received: number;
      sha256: string;
    };
    expect(r.received).toBe(20 * MB);
    expect(r.sha256).toBe(sourceSha256(20 * MB));
    const stats1 = await env.cli('show tcp stats');
    expect(stat(stats1, 'persist-probes')).toBeGreaterThan(stat(stats0, 'persist-probes'));
  }, 70_000);

  it('stalls the client with our zero window when it does not read the echo, then recovers', async () => {
    // The client writes 8 MB without reading for 2 s: echo fills its tx fifo, stops reading, the rx fifo
    // fills and we advertise a zero window; the kernel probes; once it reads, everything completes.
    const prog = PY_COMMON + String.raw`
host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = connect(host, port, rcvbuf=65536)
data = pattern_block(3, total); sent = [0]
def sender():
    s.sendall(data); sent[0] = total; s.shutdown(socket.SHUT_WR)
th = threading.Thread(target=sender); th.start()
time.sleep(2)
stalled = sent[0] < total
got = bytearray()
while True:
    d = s.recv(1 << 20)
    if not d: break
    got += d
th.join()
print(json.dumps({'stalled': stalled, 'ok': bytes(got) == data, 'received': len(got)}))
`;
    const r = JSON.parse(await env.py(prog, [env.ourAddr, 7, 8 * MB], 60_000)) as { stalled: boolean; ok: boolean; received: number };
    expect(r.stalled).toBe(true);
    expect(r.received).toBe(8 * MB);
    expect(r.ok).toBe(true);
  }, 70_000);

  it('answers a closed port with RST and cleans up after a peer RST', async () => {
    const before = await env.cli('show tcp stats');
    const r = JSON.parse(await env.py(PY_RST, [env.ourAddr, 4444, 9], 30_000)) as { closed: string; abort: string };
    expect(r.closed).toBe('refused');
    let after = '';
    for (let i = 0; i < 50; i++) {
      after = await env.cli('show tcp stats');
      if (stat(after, 'resets-in') > stat(before, 'resets-in')) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(stat(after, 'no-listener')).toBeGreaterThan(stat(before, 'no-listener'));
    expect(stat(after, 'resets-in')).toBeGreaterThan(stat(before, 'resets-in'));
    // The reset connection is gone.
    expect(await env.cli('show session')).not.toMatch(/:9->10\./);
  }, 40_000);

  it('serves 1,000 concurrent connections, keeps them idle and releases their fifo storage', async () => {
    const client = spawnPython(env.ns.netns, PY_MANY, [env.ourAddr, 7, 1000, 1000]);
    try {
      expect(await client.nextLine(90_000)).toBe('ready');
      let mem = '';
      for (let i = 0; i < 40; i++) {
        mem = await env.cli('show session memory');
        if (memoryField(mem, 'fifo-bytes') === 0) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(memoryField(mem, 'sessions')).toBeGreaterThanOrEqual(1000);
      // Idle sessions hold no fifo storage.
      expect(memoryField(mem, 'fifo-bytes')).toBe(0);
      client.endInput();
      const res = JSON.parse(await client.done()) as { connections: number; alive: number };
      expect(res.alive).toBe(1000);
    } finally {
      client.kill();
    }
    // All of them close.
    let sessions = -1;
    for (let i = 0; i < 100 && sessions !== 0; i++) {
      await new Promise((res) => setTimeout(res, 100));
      sessions = memoryField(await env.cli('show session memory'), 'sessions');
    }
    expect(sessions).toBe(0);
  }, 120_000);

  it('recycles TIME-WAIT for a new SYN on the same 4-tuple', async () => {
    const before = await env.cli('show tcp stats');
    // The source closes first (after 50,000 bytes), so the TIME-WAIT is ours; the client reconnects from the
    // same port right away, five times, well within the 2 s TIME-WAIT.
    const r = JSON.parse(await env.py(PY_REUSE, [env.ourAddr, 20, 5, 40123], 30_000)) as { received: number; seconds: number };
    expect(r.received).toBe(5 * 50_000);
    expect(r.seconds).toBeLessThan(2);
    const after = await env.cli('show tcp stats');
    expect(stat(after, 'time-wait-recycled') - stat(before, 'time-wait-recycled')).toBe(4);
  }, 40_000);
});
