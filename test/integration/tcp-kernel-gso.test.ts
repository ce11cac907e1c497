// onionplane TCP against Linux kernel TCP over a veth with the kernel's defaults (root): the kernel's TCP uses
// TSO, so it sends GSO super-frames of up to 64 KiB. af-packet-input hands them to TCP as single large
// segments (jumbo buffers), or segments them in software while an RX fault injector is configured; our
// segments leave with checksum offload. Transfers are verified by SHA-256.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { PY_ECHO, PY_SEND, startTcpKernelEnv, type TcpKernelEnv } from '../../bench/tcp-kernel-env.js';
import { DAEMON_BIN } from '../harness/daemon.js';

const canRun = process.getuid?.() === 0 && existsSync(DAEMON_BIN);
const MB = 1_000_000;

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
      setup: ['test tcp server uri tcp://10.239.18.1/7 echo', 'test tcp server uri tcp://10.239.18.1/9 sink'],
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
});
