import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DequeueNotify, FIFO_INITIAL_STORAGE, SessionFifo } from '../../../src/session/fifo.js';

const bytes = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

describe('SessionFifo', () => {
  it('rounds size to a power of two and allocates storage lazily', () => {
    const f = new SessionFifo(3000);
    expect(f.size).toBe(4096);
    expect(f.hasStorage).toBe(false);
    expect(f.maxEnqueue).toBe(4096);
    f.enqueue(bytes(10), 0, 10);
    expect(f.hasStorage).toBe(true);
    const out = new Uint8Array(10);
    expect(f.dequeue(out, 0, 10)).toBe(10);
    expect(out).toEqual(bytes(10));
    expect(f.releaseIfIdle()).toBe(true);
    expect(f.hasStorage).toBe(false);
  });

  it('enqueue stops at capacity; peek does not consume; dequeueDrop consumes without copying', () => {
    const f = new SessionFifo(16);
    expect(f.enqueue(bytes(20), 0, 20)).toBe(16);
    expect(f.isFull).toBe(true);
    const out = new Uint8Array(4);
    expect(f.peek(2, out, 0, 4)).toBe(4);
    expect(out).toEqual(bytes(20).subarray(2, 6));
    expect(f.maxDequeue).toBe(16);
    expect(f.dequeueDrop(6)).toBe(6);
    expect(f.peek(0, out, 0, 4)).toBe(4);
    expect(out).toEqual(bytes(20).subarray(6, 10));
    expect(f.peek(9, out, 0, 4)).toBe(1);
  });

  it('is wrap-safe across the u32 position boundary', () => {
    const f = new SessionFifo(64);
    f.head = f.tail = 0xffffffe0;
    const src = bytes(50, 3);
    expect(f.enqueue(src, 0, 50)).toBe(50);
    expect(f.tail).toBe((0xffffffe0 + 50) >>> 0);
    expect(f.maxDequeue).toBe(50);
    // out-of-order range straddling the wrap too
    const out = new Uint8Array(50);
    expect(f.dequeue(out, 0, 50)).toBe(50);
    expect(out).toEqual(src);
    expect(f.enqueueAt(10, src, 10, 20)).toBe(20);
    expect(f.enqueue(src, 0, 10)).toBe(30);
    expect(f.dequeue(out, 0, 30)).toBe(30);
    expect(out.subarray(0, 30)).toEqual(src.subarray(0, 30));
  });

  it('collects out-of-order ranges on in-order arrival and merges overlapping ranges', () => {
    const f = new SessionFifo(1024);
    const src = bytes(300, 9);
    expect(f.enqueueAt(200, src, 200, 50)).toBe(50);
    expect(f.enqueueAt(100, src, 100, 50)).toBe(50);
    expect(f.oooSegmentCount).toBe(2);
    expect(f.oooSegmentOffset(0)).toBe(100);
    expect(f.oooLastIndex).toBe(0);
    expect(f.enqueueAt(140, src, 140, 70)).toBe(70); // bridges both
    expect(f.oooSegmentCount).toBe(1);
    expect(f.oooSegmentOffset(0)).toBe(100);
    expect(f.oooSegmentLength(0)).toBe(150);
    expect(f.enqueue(src, 0, 100)).toBe(250);
    expect(f.oooSegmentCount).toBe(0);
    const out = new Uint8Array(250);
    f.dequeue(out, 0, 250);
    expect(out).toEqual(src.subarray(0, 250));
  });

  it('refuses out-of-order data beyond capacity and bounds the number of ranges', () => {
    const f = new SessionFifo(64, 2);
    expect(f.enqueueAt(60, bytes(10), 0, 10)).toBe(4);
    expect(f.enqueueAt(64, bytes(10), 0, 10)).toBe(0);
    expect(f.enqueueAt(10, bytes(2), 0, 2)).toBe(2);
    expect(f.enqueueAt(20, bytes(2), 0, 2)).toBe(-1);
    expect(f.oooSegmentCount).toBe(2);
  });

  it('event flag is set only on the 0→1 transition', () => {
    const f = new SessionFifo(8);
    expect(f.setEvent()).toBe(true);
    expect(f.setEvent()).toBe(false);
    f.unsetEvent();
    expect(f.setEvent()).toBe(true);
  });

  it('dequeue notifications fire once when empty or below threshold', () => {
    const f = new SessionFifo(64);
    let fired = 0;
    f.onDequeueNotify = () => { fired++; };
    f.enqueue(bytes(40), 0, 40);
    f.wantDequeueNotify(DequeueNotify.IfEmpty);
    f.dequeueDrop(10);
    expect(fired).toBe(0);
    f.dequeueDrop(30);
    expect(fired).toBe(1);
    f.enqueue(bytes(40), 0, 40);
    f.dequeueDrop(40);
    expect(fired).toBe(1); // one-shot
    f.enqueue(bytes(60), 0, 60);
    f.wantDequeueNotify(DequeueNotify.BelowThreshold, 32);
    f.dequeueDrop(20);
    expect(fired).toBe(1);
    f.dequeueDrop(10);
    expect(fired).toBe(2);
  });

  it('property: random in-order/out-of-order writes reassemble the stream', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(400), fc.integer({ min: 1, max: 120 })), { minLength: 1, maxLength: 60 }),
      fc.nat(0xffffffff),
      (writes, start) => {
        const f = new SessionFifo(512, 64);
        f.head = f.tail = start >>> 0;
        const stream = bytes(2000, 5);
        let base = 0; // stream offset of tail
        const got: number[] = [];
        const out = new Uint8Array(512);
        for (const [o, l] of writes) {
          const pos = base + (o % 300);
          const off = pos - base;
          if (off === 0) base += f.enqueue(stream, pos, Math.min(l, stream.length - pos));
          else f.enqueueAt(off, stream, pos, Math.min(l, stream.length - pos));
          const n = f.dequeue(out, 0, 97);
          for (let i = 0; i < n; i++) got.push(out[i]!);
          base = got.length + f.maxDequeue;
        }
        // fill from the current tail to flush every remaining range
        while (base < 1000) {
          const n = f.enqueue(stream, base, Math.min(50, stream.length - base));
          const m = f.dequeue(out, 0, 512);
          for (let i = 0; i < m; i++) got.push(out[i]!);
          base = got.length + f.maxDequeue;
          if (n === 0 && m === 0) break;
        }
        expect(Uint8Array.from(got)).toEqual(stream.subarray(0, got.length));
      },
    ), { numRuns: 200 });
  });

  it('storage starts small and doubles up to the capacity as the data held needs it', () => {
    const f = new SessionFifo(256 * 1024);
    f.enqueue(bytes(100), 0, 100);
    expect(f.storageBytes).toBe(FIFO_INITIAL_STORAGE);
    const big = bytes(100_000, 3);
    f.enqueue(big, 0, big.length);
    expect(f.storageBytes).toBe(128 * 1024);
    const out = new Uint8Array(100_100);
    expect(f.peek(0, out, 0, out.length)).toBe(100_100);
    expect(out.subarray(0, 100)).toEqual(bytes(100));
    expect(out.subarray(100)).toEqual(big);
    // Out-of-order data far beyond tail grows it too; the capacity is the limit.
    expect(f.enqueueAt(150_000, big, 0, 10)).toBe(10);
    expect(f.storageBytes).toBe(256 * 1024);
    expect(f.maxDequeue).toBe(100_100);
  });

  it('property: growing storage keeps in-order and out-of-order bytes across the u32 wrap', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(40_000), fc.integer({ min: 1, max: 9000 }), fc.nat(12_000)), { minLength: 1, maxLength: 50 }),
      fc.nat(0xffffffff),
      (writes, start) => {
        const f = new SessionFifo(64 * 1024, 64);
        f.head = f.tail = start >>> 0;
        const stream = bytes(400_000, 9);
        let base = 0;
        const got: number[] = [];
        const out = new Uint8Array(64 * 1024);
        for (const [o, l, d] of writes) {
          const pos = base + o;
          if (pos >= stream.length) continue;
          const len = Math.min(l, stream.length - pos);
          if (o === 0) f.enqueue(stream, pos, len);
          else f.enqueueAt(o, stream, pos, len);
          expect(f.storageBytes).toBeLessThanOrEqual(f.size);
          const n = f.dequeue(out, 0, d);
          for (let i = 0; i < n; i++) got.push(out[i]!);
          base = got.length + f.maxDequeue;
        }
        for (let guard = 0; guard < 100 && base < stream.length; guard++) {
          const n = f.enqueue(stream, base, Math.min(7000, stream.length - base));
          const m = f.dequeue(out, 0, out.length);
          for (let i = 0; i < m; i++) got.push(out[i]!);
          base = got.length + f.maxDequeue;
          if (n === 0 && m === 0) break;
        }
        expect(Buffer.from(Uint8Array.from(got)).equals(Buffer.from(stream.subarray(0, got.length)))).toBe(true);
      },
    ), { numRuns: 150 });
  });

  it('enqueueWith/dequeueWith move bytes straight into and out of storage, across the wrap, stopping short', () => {
    const f = new SessionFifo(64);
    f.head = f.tail = 0xffffffff - 20; // positions wrap inside the next writes
    const src = bytes(100, 1);
    let fed = 0;
    const fill = (dst: Uint8Array, at: number, n: number) => {
      dst.set(src.subarray(fed, fed + n), at);
      fed += n;
      return n;
    };
    expect(f.enqueueWith(50, fill)).toBe(50);
    expect(f.enqueueWith(50, fill)).toBe(14); // capacity
    const got: number[] = [];
    const drain = (s: Uint8Array, at: number, n: number) => {
      const k = Math.min(n, 10); // a consumer that takes 10 at most per piece
      got.push(...s.subarray(at, at + k));
      return k;
    };
    expect(f.dequeueWith(64, drain)).toBe(10); // a short first piece ends the call
    while (f.maxDequeue > 0) f.dequeueWith(64, drain);
    expect(Uint8Array.from(got)).toEqual(src.subarray(0, 64));
    // A fill that writes nothing appends nothing.
    expect(f.enqueueWith(10, () => 0)).toBe(0);
    expect(f.isEmpty).toBe(true);
  });
});

