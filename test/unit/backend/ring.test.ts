import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteRing, RingTable, SLOT_CHUNK } from '../../../src/backend/index.js';

const bytes = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

describe('ByteRing', () => {
  it('rejects bad geometry', () => {
    const sab = new SharedArrayBuffer(4096);
    expect(() => new ByteRing(sab, 0, 100)).toThrow();
    expect(() => new ByteRing(sab, 4, 64)).toThrow();
    expect(() => new ByteRing(sab, 0, 4096)).toThrow();
    expect(new ByteRing(sab, 0, 1024).capacity).toBe(1024);
  });

  it('write/read/peek/skip agree with a model, from any start position (u32 wraparound)', () => {
    type Op = { op: 'write'; n: number } | { op: 'read'; n: number } | { op: 'peek'; n: number; off: number } | { op: 'skip'; n: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('write' as const), n: fc.nat(150) }),
      fc.record({ op: fc.constant('read' as const), n: fc.nat(150) }),
      fc.record({ op: fc.constant('peek' as const), n: fc.nat(150), off: fc.nat(80) }),
      fc.record({ op: fc.constant('skip' as const), n: fc.nat(150) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(0, 0xffffffff - 100, 0x7fffffff - 30, 0xfffffff0), fc.array(opArb, { maxLength: 80 }), (start, ops) => {
        const sab = new SharedArrayBuffer(ByteRing.bytesFor(64));
        const ring = new ByteRing(sab, 0, 64);
        ring.clear(start);
        const model: number[] = [];
        let counter = 0;
        for (const o of ops) {
          if (o.op === 'write') {
            const src = bytes(o.n, counter);
            const n = ring.write(src);
            expect(n).toBe(Math.min(o.n, 64 - model.length));
            model.push(...src.subarray(0, n));
            counter += n;
          } else if (o.op === 'read') {
            const dst = new Uint8Array(o.n);
            const n = ring.read(dst);
            expect(n).toBe(Math.min(o.n, model.length));
            expect([...dst.subarray(0, n)]).toEqual(model.splice(0, n));
          } else if (o.op === 'peek') {
            const dst = new Uint8Array(o.n);
            const n = ring.peek(dst, o.off);
            expect(n).toBe(Math.max(0, Math.min(o.n, model.length - o.off)));
            expect([...dst.subarray(0, n)]).toEqual(model.slice(o.off, o.off + n));
          } else {
            expect(ring.skip(o.n)).toBe(Math.min(o.n, model.length));
            model.splice(0, Math.min(o.n, model.length));
          }
          expect(ring.used()).toBe(model.length);
          expect(ring.free()).toBe(64 - model.length);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('EOF: no more writes, reader drains then sees the end', () => {
    const ring = new ByteRing(new SharedArrayBuffer(ByteRing.bytesFor(64)), 0, 64);
    ring.write(bytes(10));
    ring.setEof();
    expect(ring.write(bytes(1))).toBe(0);
    expect(ring.atEnd()).toBe(false);
    expect(ring.read(new Uint8Array(64))).toBe(10);
    expect(ring.atEnd()).toBe(true);
  });

  it('reset voids pending bytes and stops both sides', () => {
    const ring = new ByteRing(new SharedArrayBuffer(ByteRing.bytesFor(64)), 0, 64);
    ring.write(bytes(10));
    ring.setReset();
    expect(ring.read(new Uint8Array(64))).toBe(0);
    expect(ring.write(bytes(1))).toBe(0);
    expect(ring.isReset()).toBe(true);
  });

  it('wakeup requests: armed only when there is nothing to do; taken once', () => {
    const ring = new ByteRing(new SharedArrayBuffer(ByteRing.bytesFor(64)), 0, 64);
    expect(ring.armDataWakeup()).toBe(true);
    expect(ring.takeDataWakeup()).toBe(true);
    expect(ring.takeDataWakeup()).toBe(false);
    ring.write(bytes(64));
    expect(ring.armDataWakeup()).toBe(false);
    expect(ring.armSpaceWakeup()).toBe(true);
    ring.read(new Uint8Array(1));
    expect(ring.takeSpaceWakeup()).toBe(true);
    expect(ring.armSpaceWakeup()).toBe(false);
  });

  it('copies whose ends disagree mod 8 (staged for speed) keep every byte, across the wrap and in chunks over 64 KiB', () => {
    const cap = 256 * 1024;
    const ring = new ByteRing(new SharedArrayBuffer(ByteRing.bytesFor(cap)), 0, cap);
    const source = bytes(200_000, 3);
    const sink = new Uint8Array(200_008);
    fc.assert(
      fc.property(fc.nat(cap - 1), fc.array(fc.record({ n: fc.integer({ min: 1, max: 150_000 }), so: fc.nat(7), doff: fc.nat(7) }), { minLength: 1, maxLength: 6 }), (start, ops) => {
        ring.clear(start);
        for (const { n, so, doff } of ops) {
          const src = source.subarray(so, so + n);
          const w = ring.write(src);
          expect(w).toBe(Math.min(n, cap));
          const dst = sink.subarray(doff, doff + w);
          expect(ring.peek(dst)).toBe(w);
          expect(Buffer.compare(dst, src.subarray(0, w))).toBe(0); // toEqual is slow on 100k-byte arrays
          expect(ring.skip(w)).toBe(w);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('a space wakeup with a threshold is taken only once that much is free', () => {
    const ring = new ByteRing(new SharedArrayBuffer(ByteRing.bytesFor(64)), 0, 64);
    ring.write(bytes(64));
    expect(ring.armSpaceWakeup(32)).toBe(true);
    ring.read(new Uint8Array(16));
    expect(ring.takeSpaceWakeup()).toBe(false); // 16 free: not yet, and the ask stays armed
    ring.read(new Uint8Array(16));
    expect(ring.takeSpaceWakeup()).toBe(true);
    expect(ring.takeSpaceWakeup()).toBe(false);
    expect(ring.armSpaceWakeup(32)).toBe(false); // 32 free already
    expect(ring.armSpaceWakeup(1000)).toBe(true); // clamped to the capacity: woken when empty
    ring.read(new Uint8Array(32));
    expect(ring.takeSpaceWakeup()).toBe(true);
  });

  it('in-place spans: fill the free spans, publish, then send from the used spans (across the wrap)', () => {
    fc.assert(
      fc.property(fc.nat(63), fc.integer({ min: 1, max: 64 }), (pre, n) => {
        const ring = new ByteRing(new SharedArrayBuffer(ByteRing.bytesFor(64)), 0, 64);
        ring.write(bytes(pre));
        ring.skip(pre); // the next write starts at offset `pre` and wraps past 64
        const sp = new Int32Array(4);
        expect(ring.freeSpans(sp)).toBe(64);
        expect(sp[1]! + sp[3]!).toBe(64);
        expect(sp[0]).toBe(pre);
        const src = bytes(n, 9);
        const first = Math.min(n, sp[1]!);
        ring.bytes.set(src.subarray(0, first), sp[0]!);
        ring.bytes.set(src.subarray(first, n), sp[2]!);
        ring.commitWrite(n);
        expect(ring.used()).toBe(n);
        expect(ring.freeSpans(sp)).toBe(64 - n);
        const total = ring.usedSpans(sp, 0);
        expect(total).toBe(n);
        const out = new Uint8Array(n);
        out.set(ring.bytes.subarray(sp[0]!, sp[0]! + sp[1]!), 0);
        out.set(ring.bytes.subarray(sp[2]!, sp[2]! + sp[3]!), sp[1]!);
        expect(out).toEqual(src);
        expect(ring.usedSpans(sp, n)).toBe(0);
        ring.setEof();
        expect(ring.freeSpans(sp)).toBe(0); // half-closed: no more room for the producer
      }),
    );
  });
});

describe('RingTable', () => {
  it('allocates every slot once, frees when both sides release, bumps generations', () => {
    const t = RingTable.create({ slots: 5, capacity: 256 });
    const got = [0, 1, 2, 3, 4].map(() => t.alloc());
    expect(new Set(got).size).toBe(5);
    expect(t.alloc()).toBeUndefined();
    expect(t.inUse()).toBe(5);
    const g = t.generation(2);
    expect(t.release(2, 'dataplane')).toBe(false);
    expect(t.alloc()).toBeUndefined();
    expect(t.release(2, 'backend')).toBe(true);
    expect(t.release(2, 'backend')).toBe(false);
    expect(t.alloc()).toBe(2);
    expect(t.generation(2)).toBe(g + 1);
    expect(() => t.pair(5)).toThrow(RangeError);
  });

  it('a second view (as a worker would attach) sees the same rings and slot states', () => {
    const t = RingTable.create({ slots: 40, capacity: 1024 });
    const other = RingTable.attach(t.sab);
    expect(other.slots).toBe(40);
    expect(other.capacity).toBe(1024);
    const slot = t.alloc()!;
    expect(other.isAllocated(slot)).toBe(true);
    const dp = t.endpoint(slot, 'dataplane');
    const be = other.endpoint(slot, 'backend');
    expect(dp.write(bytes(100))).toBe(100);
    const buf = new Uint8Array(200);
    expect(be.read(buf)).toBe(100);
    expect([...buf.subarray(0, 100)]).toEqual([...bytes(100)]);
    expect(be.write(bytes(3, 9))).toBe(3);
    expect(dp.readable()).toBe(3);
    expect(() => RingTable.attach(new SharedArrayBuffer(1024))).toThrow();
  });

  it('commits memory for slots only as allocation reaches them, a chunk at a time, seen by the other side', () => {
    // 1024 streams of 1 MiB rings reserve 2 GiB; only the first chunk is committed at creation.
    const t = RingTable.create({ slots: 1024, capacity: 1 << 20 });
    const other = RingTable.attach(t.sab);
    const perSlot = 2 * ByteRing.bytesFor(1 << 20);
    expect(t.sab.growable).toBe(true);
    expect(t.committedSlots()).toBe(SLOT_CHUNK);
    expect(t.memory().reserved).toBeGreaterThan(1024 * perSlot);
    expect(t.memory().committed).toBeLessThan((SLOT_CHUNK + 1) * perSlot);
    const first = Array.from({ length: SLOT_CHUNK }, () => t.alloc()!);
    expect(new Set(first).size).toBe(SLOT_CHUNK);
    expect(t.committedSlots()).toBe(SLOT_CHUNK);
    // The next stream commits the next chunk; the worker's view sees it and can use the new slot.
    const next = t.alloc()!;
    expect(next).toBe(SLOT_CHUNK);
    expect(t.committedSlots()).toBe(2 * SLOT_CHUNK);
    expect(other.committedSlots()).toBe(2 * SLOT_CHUNK);
    expect(t.endpoint(next, 'dataplane').write(bytes(10))).toBe(10);
    expect(other.endpoint(next, 'backend').readable()).toBe(10);
    // Churn reuses committed slots (freed by either side) instead of growing.
    for (let i = 0; i < 500; i++) {
      const s = first[i % SLOT_CHUNK]!;
      t.release(s, 'dataplane');
      other.release(s, 'backend');
      first[i % SLOT_CHUNK] = t.alloc()!;
    }
    expect(t.committedSlots()).toBe(2 * SLOT_CHUNK);
    expect(() => other.pair(3 * SLOT_CHUNK)).toThrow(/past the committed memory/);
    // Every slot can still be had.
    let n = SLOT_CHUNK + 1;
    while (t.alloc() !== undefined) n++;
    expect(n).toBe(1024);
    expect(t.committedSlots()).toBe(1024);
  });

  it('doorbells ring only when the peer armed, list the slot, and wake a waiter', async () => {
    const t = RingTable.create({ slots: 70, capacity: 256 });
    for (let i = 0; i < 65; i++) t.alloc();
    const dp = t.endpoint(64, 'dataplane');
    const be = t.endpoint(64, 'backend');
    const bell = t.doorbell('backend');
    dp.write(bytes(5));
    expect(bell.takeReady()).toEqual([]); // backend did not ask
    be.read(new Uint8Array(10));
    expect(be.armRead()).toBe(true);
    const waiting = bell.wait(5_000);
    dp.write(bytes(5));
    expect(await waiting).toEqual([64]);
    // Producer blocked on a full ring is rung when the consumer drains.
    const dpBell = t.doorbell('dataplane');
    while (dp.write(bytes(256)) > 0);
    expect(dp.armWrite()).toBe(true);
    be.read(new Uint8Array(1));
    expect(dpBell.takeReady()).toEqual([64]);
  });

  it('the wake hook runs only when the owner is parked', () => {
    const t = RingTable.create({ slots: 2, capacity: 64 });
    const slot = t.alloc()!;
    let hooks = 0;
    t.doorbell('dataplane').setWakeHook(() => hooks++);
    const be = t.endpoint(slot, 'backend');
    const dp = t.endpoint(slot, 'dataplane');
    dp.armRead();
    be.write(bytes(1));
    expect(hooks).toBe(0); // dataplane not parked: it will poll its doorbell bits
    expect(t.doorbell('dataplane').takeReady()).toEqual([slot]);
    expect(t.doorbell('dataplane').prepareToPark()).toBe(true);
    dp.read(new Uint8Array(8));
    dp.armRead();
    be.write(bytes(1));
    expect(hooks).toBe(1);
    be.shutdownWrite();
    expect(hooks).toBe(1); // already woken, not parked again
    expect(t.doorbell('dataplane').takeReady()).toEqual([slot]);
  });

  it('half-close and reset reach the peer in both directions', () => {
    const t = RingTable.create({ slots: 1, capacity: 64 });
    const slot = t.alloc()!;
    const dp = t.endpoint(slot, 'dataplane');
    const be = t.endpoint(slot, 'backend');
    dp.write(bytes(4));
    dp.shutdownWrite();
    expect(dp.write(bytes(1))).toBe(0);
    expect(be.readEnded).toBe(false);
    be.read(new Uint8Array(8));
    expect(be.readEnded).toBe(true);
    // The other direction still flows after a half-close.
    expect(be.write(bytes(2))).toBe(2);
    be.shutdownWrite();
    dp.read(new Uint8Array(8));
    expect(dp.readEnded).toBe(true);

    const s2 = (t.release(slot, 'dataplane'), t.release(slot, 'backend'), t.alloc()!);
    const a = t.endpoint(s2, 'backend');
    const b = t.endpoint(s2, 'dataplane');
    expect(a.isReset || b.isReset || a.readEnded).toBe(false);
    a.reset();
    expect(b.isReset).toBe(true);
    expect(b.write(bytes(1))).toBe(0);
    expect(t.doorbell('dataplane').takeReady()).toEqual([s2]);
  });
});
