// Rings between real threads: bulk transfer with hash check, backpressure, half-close and reset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { createHash, randomFillSync } from 'node:crypto';
import fc from 'fast-check';
import { join } from 'node:path';
import { RingTable, type StreamEndpoint } from '../../../src/backend/index.js';
import { transpileTree } from './transpile.js';
import { EventFd } from '../../../src/native/eventfd.js';
import { nativeAddonPath } from '../../../src/native/binding.js';

let tree: { root: string; cleanup: () => void };
beforeAll(() => {
  tree = transpileTree(['src/backend', 'test/unit/backend/ring-worker.ts']);
});
afterAll(() => tree.cleanup());

type Msg = { type: string; [k: string]: unknown };

function startWorker(table: RingTable, slot: number, mode: string, bytes?: number, extra: Record<string, unknown> = {}) {
  const worker = new Worker(join(tree.root, 'test/unit/backend/ring-worker.js'), { workerData: { table: table.sab, slot, mode, bytes, ...extra } });
  const messages: Msg[] = [];
  const waiters: { type: string; resolve: (m: Msg) => void }[] = [];
  worker.on('message', (m: Msg) => {
    messages.push(m);
    for (const w of waiters.filter((w) => w.type === m.type)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  worker.on('error', (e) => messages.push({ type: 'error', message: String(e) }));
  const next = (type: string) =>
    new Promise<Msg>((resolve) => {
      const seen = messages.find((m) => m.type === type);
      if (seen) resolve(seen);
      else waiters.push({ type, resolve });
    });
  return { worker, messages, next };
}

/** Read everything until EOF (or reset) on the dataplane side, sleeping on the doorbell. */
async function drain(table: RingTable, ep: StreamEndpoint, onData?: (b: Uint8Array) => void): Promise<number> {
  const buf = new Uint8Array(32 * 1024);
  let total = 0;
  for (;;) {
    const n = ep.read(buf);
    if (n > 0) {
      total += n;
      onData?.(buf.subarray(0, n));
      continue;
    }
    if (ep.readEnded || ep.isReset) return total;
    if (ep.armRead()) await table.doorbell('dataplane').wait(10_000);
  }
}

describe('rings between threads', () => {
  it('moves 50 MB through a ring pair (echo) with matching sha256 and bounded memory', async () => {
    const TOTAL = 50 * 1024 * 1024;
    const table = RingTable.create({ slots: 4, capacity: 256 * 1024 });
    const slot = table.alloc()!;
    const ep = table.endpoint(slot, 'dataplane');
    const bell = table.doorbell('dataplane');
    const w = startWorker(table, slot, 'echo');
    const sentHash = createHash('sha256');
    const gotHash = createHash('sha256');
    const chunk = new Uint8Array(64 * 1024);
    const inBuf = new Uint8Array(64 * 1024);
    let pending: Uint8Array | undefined;
    let sent = 0;
    let received = 0;
    await w.next('ready');
    const rss0 = process.memoryUsage().rss;
    let rssMax = rss0;
    const t0 = performance.now();
    let loops = 0;
    for (;;) {
      let progress = false;
      for (;;) {
        if (!pending) {
          if (sent >= TOTAL) break;
          pending = chunk.subarray(0, Math.min(chunk.length, TOTAL - sent));
          randomFillSync(pending);
          sentHash.update(pending);
        }
        const n = ep.write(pending);
        if (n === 0) break;
        progress = true;
        sent += n;
        pending = n < pending.length ? pending.subarray(n) : undefined;
      }
      if (sent >= TOTAL && !pending && !ep.writeClosed) ep.shutdownWrite();
      for (;;) {
        const n = ep.read(inBuf);
        if (n === 0) break;
        progress = true;
        received += n;
        gotHash.update(inBuf.subarray(0, n));
      }
      if (ep.readEnded) break;
      expect(ep.isReset).toBe(false);
      if (++loops % 64 === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss);
      if (!progress) {
        let sleep = ep.armRead();
        if (pending || sent < TOTAL) sleep = ep.armWrite() && sleep;
        if (sleep) await bell.wait(10_000);
      }
    }
    const ms = performance.now() - t0;
    const done = await w.next('done');
    expect(done['moved']).toBe(TOTAL);
    expect(received).toBe(TOTAL);
    expect(gotHash.digest('hex')).toBe(sentHash.digest('hex'));
    // Ring memory is fixed; the transfer must not accumulate anything near its size.
    expect(rssMax - rss0).toBeLessThan(16 * 1024 * 1024);
    ep.release();
    expect(table.inUse()).toBe(0);
    console.log(`ring echo: 50 MB each way in ${ms.toFixed(0)} ms (${((TOTAL / 1048576) / (ms / 1000)).toFixed(0)} MB/s), rss growth ${((rssMax - rss0) / 1048576).toFixed(1)} MB`);
    await w.worker.terminate();
  }, 120_000);

  it('a full ring stops the producer; draining resumes it; worker half-close arrives first', async () => {
    const CAP = 4096;
    const TOTAL = 100_000;
    const table = RingTable.create({ slots: 1, capacity: CAP });
    const slot = table.alloc()!;
    const ep = table.endpoint(slot, 'dataplane');
    const w = startWorker(table, slot, 'produce', TOTAL);
    const blocked = await w.next('blocked');
    expect(blocked['written']).toBe(CAP);
    expect(blocked['free']).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(ep.readable()).toBe(CAP); // the worker stayed stopped
    const h = createHash('sha256');
    const got = await drain(table, ep, (b) => h.update(b));
    expect(got).toBe(TOTAL);
    const produced = await w.next('produced');
    expect(h.digest('hex')).toBe(produced['sha256']);
    // Our direction still works after the worker's half-close.
    expect(ep.write(new Uint8Array(1000))).toBe(1000);
    ep.shutdownWrite();
    expect((await w.next('done'))['got']).toBe(1000);
    await w.worker.terminate();
  }, 30_000);

  it('reset from the dataplane wakes a parked backend', async () => {
    const table = RingTable.create({ slots: 1, capacity: 1024 });
    const slot = table.alloc()!;
    const ep = table.endpoint(slot, 'dataplane');
    const w = startWorker(table, slot, 'await-reset');
    await w.next('parked');
    await new Promise((r) => setTimeout(r, 20));
    ep.reset();
    await w.next('reset-seen');
    ep.release();
    expect(table.inUse()).toBe(0);
    await w.worker.terminate();
  });

  it('reset from the backend wakes a parked dataplane and stops its writes', async () => {
    const table = RingTable.create({ slots: 1, capacity: 1024 });
    const slot = table.alloc()!;
    const ep = table.endpoint(slot, 'dataplane');
    const w = startWorker(table, slot, 'reset-after', 10);
    expect(ep.write(new Uint8Array(10))).toBe(10);
    await drain(table, ep);
    expect(ep.isReset).toBe(true);
    expect(ep.write(new Uint8Array(1))).toBe(0);
    expect((await w.next('reset-sent'))['got']).toBe(10);
    await w.worker.terminate();
  });

  it('wakes the dataplane through an eventfd hook instead of waitAsync', async () => {
    const TOTAL = 2 * 1024 * 1024;
    const table = RingTable.create({ slots: 2, capacity: 8192 });
    const slot = table.alloc()!;
    const ep = table.endpoint(slot, 'dataplane');
    const bell = table.doorbell('dataplane');
    const efd = new EventFd();
    let wakeups = 0;
    let wake: (() => void) | undefined;
    efd.onSignal(() => {
      wakeups++;
      wake?.();
    });
    try {
      const w = startWorker(table, slot, 'produce', TOTAL, { eventfd: efd.fd, addon: nativeAddonPath() });
      const buf = new Uint8Array(16 * 1024);
      let got = 0;
      for (;;) {
        const n = ep.read(buf);
        got += n;
        if (n > 0) continue;
        if (ep.readEnded) break;
        // Park the way the main loop will: flag, then return to libuv until the eventfd fires.
        if (ep.armRead() && bell.prepareToPark()) {
          await new Promise<void>((r) => (wake = r));
          bell.unpark();
        }
        bell.takeReady();
      }
      expect(got).toBe(TOTAL);
      expect(wakeups).toBeGreaterThan(0);
      ep.shutdownWrite();
      await w.next('done');
      await w.worker.terminate();
    } finally {
      efd.close();
    }
  }, 30_000);

  it('no lost wakeups: tiny rings, random chunk sizes, sleeps without timeouts', async () => {
    // Every park/wake race is hit thousands of times; a lost wakeup hangs and fails the test by timeout.
    const table = RingTable.create({ slots: 1, capacity: 64 });
    const bell = table.doorbell('dataplane');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 200, maxLength: 2000 }), fc.integer({ min: 1, max: 100 }), async (sizes, readSize) => {
        const slot = table.alloc()!;
        const ep = table.endpoint(slot, 'dataplane');
        const w = startWorker(table, slot, 'echo', undefined, { strict: true });
        await w.next('ready');
        const sent = createHash('sha256');
        const got = createHash('sha256');
        const inBuf = new Uint8Array(readSize);
        let i = 0;
        let pending: Uint8Array | undefined;
        let total = 0;
        let received = 0;
        for (;;) {
          let progress = false;
          for (;;) {
            if (!pending) {
              if (i >= sizes.length) break;
              pending = new Uint8Array(sizes[i++]!).map((_, k) => (total + k) * 31);
              sent.update(pending);
            }
            const n = ep.write(pending);
            if (n === 0) break;
            progress = true;
            total += n;
            pending = n < pending.length ? pending.subarray(n) : undefined;
          }
          if (!pending && i >= sizes.length && !ep.writeClosed) ep.shutdownWrite();
          for (let n; (n = ep.read(inBuf)) > 0; ) {
            received += n;
            got.update(inBuf.subarray(0, n));
            progress = true;
          }
          if (ep.readEnded) break;
          if (!progress) {
            let sleep = ep.armRead();
            if (pending || i < sizes.length) sleep = ep.armWrite() && sleep;
            if (sleep) await bell.wait();
          }
        }
        expect(received).toBe(total);
        expect(got.digest('hex')).toBe(sent.digest('hex'));
        await w.next('done');
        ep.release();
        await w.worker.terminate();
      }),
      { numRuns: 6 },
    );
  }, 60_000);
});
