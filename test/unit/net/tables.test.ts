import { describe, expect, it } from 'vitest';
import { Ip4Fib } from '../../../src/net/ip4/fib.js';
import { NeighborTable } from '../../../src/net/ip4/neighbor-table.js';
import { TokenBucket } from '../../../src/net/ip4/token-bucket.js';
import { FaultInjector, FaultVerdict, NO_FAULTS, REORDER_HOLD_MS } from '../../../src/net/fault/fault-injector.js';
import { parseIp4 } from '../../../src/net/wire/ipv4.js';
import { NONE } from '../../../src/runtime/buffer-pool.js';

const ip = (s: string): number => parseIp4(s)!;

describe('Ip4Fib', () => {
  it('matches the longest prefix and resolves static routes through connected ones', () => {
    const fib = new Ip4Fib();
    fib.add({ prefix: ip('10.0.0.0'), len: 24, kind: 'connected', swIfIndex: 1, nextHop: 0 });
    fib.add({ prefix: ip('10.0.0.1'), len: 32, kind: 'local', swIfIndex: 1, nextHop: 0 });
    fib.add({ prefix: 0, len: 0, kind: 'static', swIfIndex: NONE, nextHop: ip('10.0.0.254') });
    fib.add({ prefix: ip('172.16.0.0'), len: 12, kind: 'static', swIfIndex: NONE, nextHop: ip('192.0.2.1') });
    fib.add({ prefix: ip('192.0.2.0'), len: 24, kind: 'static', swIfIndex: 2, nextHop: ip('192.0.2.1') });
    expect(fib.lookup(ip('10.0.0.1'))!.kind).toBe('local');
    expect(fib.resolve(ip('10.0.0.9'))).toMatchObject({ swIfIndex: 1, nextHop: ip('10.0.0.9') });
    expect(fib.resolve(ip('8.8.8.8'))).toMatchObject({ swIfIndex: 1, nextHop: ip('10.0.0.254') });
    expect(fib.resolve(ip('172.20.1.1'))).toMatchObject({ swIfIndex: 2, nextHop: ip('192.0.2.1') });
    expect(fib.size).toBe(5);
    expect(fib.remove(0, 0, 'connected')).toBe(false);
    expect(fib.remove(0, 0)).toBe(true);
    expect(fib.resolve(ip('8.8.8.8'))).toBeUndefined();
    fib.removeInterface(1);
    expect(fib.resolve(ip('10.0.0.9'))).toBeUndefined();
    expect(fib.routes().map((r) => r.len)).toEqual([12, 24]);
  });

  it('does not loop on a static route whose next hop resolves through itself', () => {
    const fib = new Ip4Fib();
    fib.add({ prefix: 0, len: 0, kind: 'static', swIfIndex: NONE, nextHop: ip('10.0.0.254') });
    expect(fib.resolve(ip('8.8.8.8'))).toBeUndefined();
  });
});

describe('NeighborTable', () => {
  it('queues packets with bounds, releases them on resolution', () => {
    const t = new NeighborTable({ maxEntries: 2, maxPendingPerEntry: 2, maxPendingTotal: 3, maxRequests: 3, retryIntervalMs: 1000 });
    expect(t.queue(1, 5, 100, 0)).toEqual({ kind: 'queued', sendRequest: true });
    expect(t.queue(1, 5, 101, 0)).toEqual({ kind: 'queued', sendRequest: false });
    expect(t.queue(1, 5, 102, 0)).toEqual({ kind: 'entry-queue-full' });
    expect(t.queue(1, 6, 103, 0).kind).toBe('queued');
    expect(t.queue(1, 6, 104, 0)).toEqual({ kind: 'pending-limit' });
    expect(t.queue(1, 7, 105, 0)).toEqual({ kind: 'table-full' });
    expect(t.learn(1, 5, 0xaabbccdd, 0xeeff, 10, false)).toEqual([100, 101]);
    expect(t.pendingPackets).toBe(1);
    expect(t.resolved(1, 5)).toMatchObject({ macHi: 0xaabbccdd, macLo: 0xeeff });
    expect(t.queue(1, 5, 106, 20).kind).toBe('resolved');
  });

  it('learns new entries only when asked to, keeps static ones', () => {
    const t = new NeighborTable();
    expect(t.learn(1, 9, 1, 2, 0, false)).toBeUndefined();
    expect(t.learn(1, 9, 1, 2, 0, false, true)).toBeUndefined();
    expect(t.learn(1, 9, 1, 2, 0, true, true)).toEqual([]);
    t.learn(1, 9, 3, 4, 1, true);
    expect(t.resolved(1, 9)).toMatchObject({ macHi: 1, macLo: 2, isStatic: true });
  });

  it('retries and gives up on simulated time', () => {
    const t = new NeighborTable();
    t.queue(1, 5, 100, 0);
    expect(t.expire(999)).toEqual({ dropped: [], retry: [], nextDue: 1000 });
    expect(t.expire(1000).retry).toHaveLength(1);
    expect(t.expire(2000).retry).toHaveLength(1);
    const last = t.expire(3000);
    expect(last.dropped).toEqual([100]);
    expect(last.nextDue).toBeUndefined();
    expect(t.size).toBe(0);
  });
});

describe('TokenBucket', () => {
  it('allows a burst then the rate', () => {
    const b = new TokenBucket(10, 3);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(50)).toBe(false);
    expect(b.take(100)).toBe(true);
    expect(b.take(100)).toBe(false);
  });
});

describe('FaultInjector', () => {
  it('is reproducible from its seed and close to the configured rates', () => {
    const run = (seed: number): boolean[] => {
      const f = new FaultInjector({ ...NO_FAULTS, dropPct: 30, seed });
      return Array.from({ length: 10_000 }, () => f.shouldDrop());
    };
    const a = run(7);
    expect(run(7)).toEqual(a);
    expect(run(8)).not.toEqual(a);
    const dropped = a.filter(Boolean).length;
    expect(dropped).toBeGreaterThan(2700);
    expect(dropped).toBeLessThan(3300);
  });

  it('delays, reorders and bounds its queues', () => {
    const f = new FaultInjector({ ...NO_FAULTS, delayMs: 10 }, 2);
    expect(f.schedule(1, 0)).toBe(FaultVerdict.HELD);
    expect(f.schedule(2, 1)).toBe(FaultVerdict.HELD);
    expect(f.schedule(3, 2)).toBe(FaultVerdict.QUEUE_FULL);
    const out = new Uint32Array(8);
    expect(f.release(9, out, 0)).toBe(0);
    expect(f.nextDue()).toBe(10);
    expect(f.release(10, out, 0)).toBe(1);
    expect(out[0]).toBe(1);
    expect(f.release(11, out, 0)).toBe(1);
    expect(out[0]).toBe(2);
    const r = new FaultInjector({ ...NO_FAULTS, reorderPct: 100 });
    expect(r.schedule(5, 0)).toBe(FaultVerdict.HELD);
    expect(r.nextDue()).toBe(REORDER_HOLD_MS);
    const none = new FaultInjector(NO_FAULTS);
    expect(none.schedule(6, 0)).toBe(FaultVerdict.PASS);
    expect(none.corruptBit(100, 14)).toBe(-1);
    const c = new FaultInjector({ ...NO_FAULTS, corruptPct: 100 });
    const bit = c.corruptBit(100, 14);
    expect(bit).toBeGreaterThanOrEqual(14 * 8);
    expect(bit).toBeLessThan(100 * 8);
  });
});
