// onionplane TCP against Linux kernel TCP over a veth with the kernel's defaults (root): the kernel's TCP uses
// TSO, so it sends GSO super-frames of up to 64 KiB. af-packet-input hands them to TCP as single large
// segments (jumbo buffers), or segments them in software while an RX fault injector is configured; our
// segments leave with checksum offload and, TSO being on, as GSO super-frames that this veth passes whole.
// Transfers are verified by SHA-256.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { PY_COMMON, PY_ECHO, PY_SEND, startTcpKernelEnv, type TcpKernelEnv } from '../../bench/tcp-kernel-env.js';
import { DAEMON_BIN } from '../harness/daemon.js';

const canRun = process.getuid?.() === 0 && existsSync(DAEMON_BIN);
const MB = 1_000_000;

/** Reads from argv[1]:argv[2] to EOF; prints the byte count and SHA-256. */
const PY_READ_ALL = PY_COMMON + String.raw`
host, port = sys.argv[1], int(sys.argv[2])
s = connect(host, port)
h = hashlib.sha256(); got = 0; buf = bytearray(1 << 20); t0 = time.time()
while True:
    n = s.recv_into(buf)
    if n == 0: break
    h.update(memoryview(buf)[:n]); got += n
s.close()
print(json.dumps({'received': got, 'sha256': h.hexdigest(), 'seconds': time.time() - t0}))
`;

/** The `source` test app's bytes: byte i = (i * 7 + 13) & 0xff. */
function sourceSha256(n: number): string {
  const block = new Uint8Array(1 << 20);
  for (let i = 0; i < block.length; i++) block[i] = ((i & 0xff) * 7 + 13) & 0xff;
  const h = createHash('sha256');
  for (let done = 0; done < n; done += block.length) h.update(block.subarray(0, Math.min(block.length, n - done)));
  return h.digest('hex');
}

function tcpStat(text: string, name: string): number {
  const m = new RegExp(`^\\s*(\\d+) ${name}$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

function errorCount(showErrors: string, node: string, reason: string): number {
  const line = showErrors.split(/\r?\n/).find((l) => l.includes(` ${node} `) && l.includes(reason));
  return line ? Number(/^\s*(\d+)/.exec(line)![1]) : 0;
}

describe.skipIf(!canRun)('TCP against the Linux kernel with GSO super-frames (root)', () => {
  let env: TcpKernelEnv;

  beforeAll(async () => {
    env = await startTcpKernelEnv({
      prefix: 'tg',
      subnet: '10.239.18',
      config: 'session { rx-fifo-size 4m tx-fifo-size 1m }',
      setup: [
        'test tcp server uri tcp://10.239.18.1/7 echo',
        'test tcp server uri tcp://10.239.18.1/9 sink',
        `test tcp server uri tcp://10.239.18.1/19 source ${200 * MB}`,
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await env?.close();
  });

  const echo = async (bytes: number, timeoutMs: number): Promise<number> => {
    const r = JSON.parse(await env.py(PY_ECHO, [env.ourAddr, 7, bytes], timeoutMs)) as { received: number; tx: string; rx: string; seconds: number };
    expect(r.received).toBe(bytes);
    expect(r.rx).toBe(r.tx);
    return r.seconds;
  };

  it('takes super-frames as large segments: 200 MB each way through echo, 200 MB into the sink', async () => {
    const seconds = await echo(200 * MB, 90_000);
    const r = JSON.parse(await env.py(PY_SEND, [env.ourAddr, 9, 200 * MB], 60_000)) as { sent: number; seconds: number };
    console.log(`GSO veth: echo 200 MB ${seconds.toFixed(1)} s; sink 200 MB ${(r.sent / r.seconds / 1e6).toFixed(0)} MB/s`);
    const show = await env.cli('test tcp server show');
    expect(Number(/\/9 sink: .* bytes in (\d+)/.exec(show)![1])).toBe(200 * MB);
    // The kernel did send super-frames (more bytes than MTU-sized frames could carry in that many frames).
    const errors = await env.cli('show errors');
    expect(errorCount(errors, 'af-packet-input', 'oversized frame, not TCPv4 GSO')).toBe(0);
    const tcp = await env.cli('show tcp stats');
    const segs = Number(/^\s*(\d+) segments-in$/m.exec(tcp)![1]);
    expect(segs).toBeLessThan((400 * MB) / 1448);
  }, 160_000);

  it('segments super-frames in software under RX faults (1% drop, reordering, duplication)', async () => {
    await env.cli(`set interface fault ${env.ifName} drop 1 reorder 1 duplicate 1 seed 3`);
    try {
      const seconds = await echo(20 * MB, 90_000);
      console.log(`GSO veth, 1% faults: echo 20 MB ${seconds.toFixed(1)} s`);
    } finally {
      await env.cli(`set interface fault ${env.ifName} off`);
    }
    const errors = await env.cli('show errors');
    expect(errorCount(errors, 'af-packet-input', 'GSO frames segmented in software')).toBeGreaterThan(0);
  }, 100_000);

  const readSource = async (timeoutMs: number): Promise<number> => {
    const r = JSON.parse(await env.py(PY_READ_ALL, [env.ourAddr, 19], timeoutMs)) as { received: number; sha256: string; seconds: number };
    expect(r.received).toBe(200 * MB);
    expect(r.sha256).toBe(sourceSha256(200 * MB));
    return r.seconds;
  };

  it('sends 200 MB from onionplane as TSO super-frames, verified by SHA-256', async () => {
    const tso0 = tcpStat(await env.cli('show tcp stats'), 'tso-segments-out');
    const seconds = await readSource(60_000);
    console.log(`TSO veth: source 200 MB ${(200 / seconds).toFixed(0)} MB/s`);
    const stats = await env.cli('show tcp stats');
    // Nearly everything in super-frames of up to ~44 MSS.
    expect(tcpStat(stats, 'tso-segments-out') - tso0).toBeGreaterThan(200 * MB / 65536 / 2);
    expect(errorCount(await env.cli('show errors'), 'af-packet-output', 'TSO frames segmented in software')).toBe(0);
  }, 70_000);

  it('sends 200 MB with TSO while the kernel\'s ACKs are dropped, reordered and duplicated (RX faults only)', async () => {
    await env.cli(`set interface fault ${env.ifName} rx drop 5 reorder 5 duplicate 5 seed 9`);
    const tso0 = tcpStat(await env.cli('show tcp stats'), 'tso-segments-out');
    try {
      const seconds = await readSource(120_000);
      console.log(`TSO veth, 5% RX faults on ACKs: source 200 MB ${(200 / seconds).toFixed(0)} MB/s`);
    } finally {
      await env.cli(`set interface fault ${env.ifName} off`);
    }
    expect(tcpStat(await env.cli('show tcp stats'), 'tso-segments-out') - tso0).toBeGreaterThan(0);
  }, 130_000);
});
