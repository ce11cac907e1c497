// Test worker: the backend side of one stream slot, in one of a few behaviours.
import { parentPort, workerData } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { RingTable } from '../../../src/backend/ring-table.js';

interface Data {
  table: SharedArrayBuffer;
  slot: number;
  mode: 'echo' | 'produce' | 'await-reset' | 'reset-after';
  bytes?: number;
  /** Sleep with no timeout, so a lost wakeup hangs (stress tests) instead of being papered over. */
  strict?: boolean;
  /** Wake the dataplane through this eventfd (written with the native shim at `addon`). */
  eventfd?: number;
  addon?: string;
}
const data = workerData as Data;
const table = RingTable.attach(data.table);
const ep = table.endpoint(data.slot, 'backend');
const bell = table.doorbell('backend');
const post = (m: unknown) => parentPort!.postMessage(m);
const sleepMs = data.strict ? undefined : 10_000;
if (data.eventfd !== undefined && data.addon) {
  const native = createRequire(import.meta.url)(data.addon) as { eventfdSignal(fd: number): void };
  const fd = data.eventfd;
  table.doorbell('dataplane').setWakeHook(() => native.eventfdSignal(fd));
}

async function echo(): Promise<void> {
  post({ type: 'ready' });
  // Move only what the other ring has room for, so nothing is ever held (or allocated) here.
  const buf = new Uint8Array(64 * 1024);
  let moved = 0;
  for (;;) {
    let progress = false;
    for (;;) {
      const room = Math.min(ep.writable(), buf.length);
      if (room === 0) break;
      const n = ep.read(buf.subarray(0, room));
      if (n === 0) break;
      ep.write(buf.subarray(0, n));
      moved += n;
      progress = true;
    }
    if (ep.isReset) return post({ type: 'reset-seen', moved });
    if (ep.readEnded) {
      ep.shutdownWrite();
      ep.release();
      return post({ type: 'done', moved });
    }
    if (!progress) {
      const sleep = ep.writable() === 0 ? ep.armWrite() : ep.armRead();
      if (sleep) await bell.wait(sleepMs);
    }
  }
}

async function produce(total: number): Promise<void> {
  const h = createHash('sha256');
  let written = 0;
  let blockedReported = false;
  let chunk: Uint8Array | undefined;
  while (written < total) {
    if (!chunk) {
      chunk = new Uint8Array(Math.min(16 * 1024, total - written)).map((_, i) => (written + i) * 13);
      h.update(chunk);
    }
    const n = ep.write(chunk);
    written += n;
    chunk = n < chunk.length ? chunk.subarray(n) : undefined;
    if (n === 0) {
      if (ep.isReset) return post({ type: 'reset-seen', written });
      if (ep.armWrite()) {
        if (!blockedReported) {
          blockedReported = true;
          post({ type: 'blocked', written, free: ep.writable() });
        }
        await bell.wait(sleepMs);
      }
    }
  }
  ep.shutdownWrite();
  post({ type: 'produced', written, sha256: h.digest('hex') });
  // Keep reading the other direction after our half-close.
  const buf = new Uint8Array(4096);
  let got = 0;
  for (;;) {
    const n = ep.read(buf);
    got += n;
    if (n > 0) continue;
    if (ep.readEnded) break;
    if (ep.isReset) return post({ type: 'reset-seen', got });
    if (ep.armRead()) await bell.wait(sleepMs);
  }
  ep.release();
  post({ type: 'done', got });
}

async function awaitReset(): Promise<void> {
  post({ type: 'parked' });
  while (!ep.isReset) {
    if (ep.armRead()) await bell.wait(sleepMs);
    ep.read(new Uint8Array(1024));
  }
  ep.release();
  post({ type: 'reset-seen' });
}

async function resetAfter(n: number): Promise<void> {
  const buf = new Uint8Array(1024);
  let got = 0;
  while (got < n) {
    const k = ep.read(buf);
    got += k;
    if (k === 0 && ep.armRead()) await bell.wait(sleepMs);
  }
  ep.reset();
  ep.release();
  post({ type: 'reset-sent', got });
}

const run = { echo, produce: () => produce(data.bytes ?? 0), 'await-reset': awaitReset, 'reset-after': () => resetAfter(data.bytes ?? 1) }[data.mode];
run().catch((e: unknown) => post({ type: 'error', message: String(e) }));
