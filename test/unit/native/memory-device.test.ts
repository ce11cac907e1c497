import { describe, expect, it } from 'vitest';
import { MemoryDevice } from '../../../src/native/memory-device.js';
import { FrameFlag, RxBatch, formatMac, type TxBatch } from '../../../src/native/packet-device.js';

function frame(len: number, marker: number): Uint8Array {
  const f = new Uint8Array(len);
  f.fill(0xff, 0, 6);
  f[12] = 0x88;
  f[13] = 0xb5;
  f.fill(marker, 14);
  return f;
}

function txBatchOf(frames: Uint8Array[]): TxBatch {
  const total = frames.reduce((a, f) => a + f.length, 0);
  const data = new Uint8Array(total);
  const offsets = new Uint32Array(frames.length);
  const lengths = new Uint32Array(frames.length);
  let at = 0;
  frames.forEach((f, i) => {
    data.set(f, at);
    offsets[i] = at;
    lengths[i] = f.length;
    at += f.length;
  });
  return { data, offsets, lengths, count: frames.length };
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe('MemoryDevice', () => {
  it('has identity fields', () => {
    const d = new MemoryDevice({ name: 'mem0', ifindex: 7, mac: Uint8Array.of(2, 0, 0, 0, 0, 9), mtu: 1400 });
    expect(d.name).toBe('mem0');
    expect(d.ifindex).toBe(7);
    expect(formatMac(d.mac)).toBe('02:00:00:00:00:09');
    expect(d.mtu).toBe(1400);
    expect(d.txMaxFrame).toBe(1418);
    expect(d.fd).toBe(-1);
  });

  it('delivers injected frames packed into one batch with metadata', () => {
    const d = new MemoryDevice({ name: 'mem0' });
    d.inject(frame(60, 1));
    d.inject(frame(1514, 2), { flags: FrameFlag.CSUM_PARTIAL, csumStart: 34, csumOffset: 16 });
    d.inject(frame(42, 3));
    const b = RxBatch.packed(8, 4096);
    expect(d.rxBatch(b)).toBe(3);
    expect(b.count).toBe(3);
    expect(Array.from(b.lengths.subarray(0, 3))).toEqual([60, 1514, 42]);
    expect(Array.from(b.offsets.subarray(0, 3))).toEqual([0, 60, 1574]);
    expect(b.frame(1)[20]).toBe(2);
    expect(b.flags(0)).toBe(0);
    expect(b.flags(1)).toBe(FrameFlag.CSUM_PARTIAL);
    expect(b.csumStart(1)).toBe(34);
    expect(b.csumOffset(1)).toBe(16);
    expect(d.pending).toBe(0);
    expect(d.stats().rxFrames).toBe(3);
    expect(d.stats().rxBytes).toBe(1616);
  });

  it('leaves frames that do not fit the arena for the next call, drops frames that never fit', () => {
    const d = new MemoryDevice({ name: 'mem0' });
    d.inject(frame(600, 1));
    d.inject(frame(600, 2));
    d.inject(frame(2000, 3)); // larger than the whole arena
    d.inject(frame(100, 4));
    const b = RxBatch.packed(8, 1000);
    expect(d.rxBatch(b)).toBe(1);
    expect(d.rxBatch(b)).toBe(2); // 600 then (2000 dropped) then 100
    expect(b.frame(0)[14]).toBe(2);
    expect(b.frame(1)[14]).toBe(4);
    expect(d.stats().rxDropped).toBe(1);
    expect(d.rxBatch(b)).toBe(0);
  });

  it('honours the batch limit', () => {
    const d = new MemoryDevice({ name: 'mem0' });
    for (let i = 0; i < 5; i++) d.inject(frame(60, i));
    const b = RxBatch.packed(8);
    b.limit = 2;
    expect(d.rxBatch(b)).toBe(2);
    b.limit = 8;
    expect(d.rxBatch(b)).toBe(3);
    expect(b.frame(0)[14]).toBe(2);
  });

  it('fills caller-provided slots and drops frames longer than a slot', () => {
    const d = new MemoryDevice({ name: 'mem0' });
    d.inject(frame(100, 1));
    d.inject(frame(300, 2));
    d.inject(frame(200, 3));
    const arena = new Uint8Array(4 * 256);
    const b = RxBatch.slots(arena, 256, 4);
    b.offsets.set([768, 512, 256, 0]);
    b.limit = 3;
    expect(d.rxBatch(b)).toBe(2);
    expect(Array.from(b.offsets.subarray(0, 2))).toEqual([768, 512]);
    expect(arena[768 + 14]).toBe(1);
    expect(arena[512 + 14]).toBe(3);
    expect(d.stats().rxDropped).toBe(1);
  });

  it('bounds the RX queue and counts overflow', () => {
    const d = new MemoryDevice({ name: 'mem0', rxQueueCapacity: 3 });
    const ok = [1, 2, 3, 4, 5].map((i) => d.inject(frame(60, i)));
    expect(ok).toEqual([true, true, true, false, false]);
    expect(d.stats().rxDropped).toBe(2);
    expect(d.pending).toBe(3);
  });

  it('captures transmitted frames and drops unsendable ones', () => {
    const d = new MemoryDevice({ name: 'mem0', mtu: 1500 });
    const r = d.txBatch(txBatchOf([frame(60, 1), frame(1600, 2), new Uint8Array(0), frame(1518, 3)]));
    expect(r).toEqual({ accepted: 4, ringFull: false });
    const sent = d.takeTransmitted();
    expect(sent.map((f) => f.length)).toEqual([60, 1518]);
    expect(sent[1]![14]).toBe(3);
    expect(d.takeTransmitted()).toEqual([]);
    const s = d.stats();
    expect(s.txFrames).toBe(2);
    expect(s.txBytes).toBe(1578);
    expect(s.txDropped).toBe(2);
  });

  it('reports ringFull while TX is blocked', () => {
    const d = new MemoryDevice({ name: 'mem0' });
    d.setTxBlocked(true);
    expect(d.txBatch(txBatchOf([frame(60, 1)]))).toEqual({ accepted: 0, ringFull: true });
    expect(d.stats().txRingFull).toBe(1);
    d.setTxBlocked(false);
    expect(d.txBatch(txBatchOf([frame(60, 1)])).accepted).toBe(1);
  });

  it('pairs devices back to back, turning a TX checksum request into CSUM_PARTIAL', () => {
    const [a, b] = MemoryDevice.pair({ name: 'a' }, { name: 'b' });
    const batch = txBatchOf([frame(60, 7), frame(80, 8)]);
    batch.meta = new Uint16Array(8);
    batch.meta.set([FrameFlag.CSUM_PARTIAL, 34, 6, 0], 4);
    a.txBatch(batch);
    expect(a.takeTransmitted()).toEqual([]); // paired devices capture nothing by default
    const rx = RxBatch.packed(4);
    expect(b.rxBatch(rx)).toBe(2);
    expect(rx.frame(0)[14]).toBe(7);
    expect(rx.flags(0)).toBe(0);
    expect(rx.flags(1)).toBe(FrameFlag.CSUM_PARTIAL);
    expect(rx.csumStart(1)).toBe(34);
    expect(rx.csumOffset(1)).toBe(6);
  });

  it('offers no TX GSO by default: GSO frames are dropped and counted', () => {
    const d = new MemoryDevice({ name: 'mem0' });
    expect(d.txGsoMaxSize).toBe(0);
    const batch = txBatchOf([frame(4000, 1)]);
    batch.meta = Uint16Array.of(FrameFlag.GSO_TCPV4 | FrameFlag.CSUM_PARTIAL, 34, 16, 1448);
    expect(d.txBatch(batch)).toEqual({ accepted: 1, ringFull: false });
    expect(d.takeTransmitted()).toEqual([]);
    expect(d.stats().txDropped).toBe(1);
    expect(() => new MemoryDevice({ name: 'x', txGsoMaxSize: -1 })).toThrow(RangeError);
  });

  it('with txGsoMaxSize, records GSO frames with their metadata and drops invalid ones', () => {
    const d = new MemoryDevice({ name: 'mem0', txGsoMaxSize: 65549 });
    expect(d.txGsoMaxSize).toBe(65549);
    const gso = FrameFlag.GSO_TCPV4 | FrameFlag.CSUM_PARTIAL;
    const batch = txBatchOf([frame(60, 1), frame(30000, 2), frame(65550, 3), frame(3000, 4), frame(3000, 5), frame(1600, 6)]);
    batch.meta = new Uint16Array(6 * 4);
    batch.meta.set([FrameFlag.CSUM_PARTIAL | FrameFlag.CSUM_VALID, 34, 16, 0], 0); // CSUM_VALID means nothing on TX
    batch.meta.set([gso | FrameFlag.GSO_ECN, 34, 16, 1448], 4);
    batch.meta.set([gso, 34, 16, 1448], 8); // longer than txGsoMaxSize
    batch.meta.set([FrameFlag.GSO_TCPV4, 34, 16, 1448], 12); // no CSUM_PARTIAL
    batch.meta.set([gso, 34, 16, 0], 16); // no segment size
    // 1600 > txMaxFrame (1518) without GSO flags: dropped
    expect(d.txBatch(batch)).toEqual({ accepted: 6, ringFull: false });
    const sent = d.takeTransmittedFrames();
    expect(sent.map((f) => [f.bytes.length, f.bytes[14], f.flags, f.csumStart, f.csumOffset, f.gsoSize])).toEqual([
      [60, 1, FrameFlag.CSUM_PARTIAL, 34, 16, 0],
      [30000, 2, gso | FrameFlag.GSO_ECN, 34, 16, 1448],
    ]);
    expect(d.stats().txDropped).toBe(4);
    expect(d.stats().txFrames).toBe(2);
    expect(d.stats().txBytes).toBe(30060);
  });

  it('delivers a GSO super-frame to its peer whole, with GSO metadata, as veth does', () => {
    const [a, b] = MemoryDevice.pair({ name: 'a', txGsoMaxSize: 65549 }, { name: 'b' });
    const batch = txBatchOf([frame(20000, 7)]);
    batch.meta = Uint16Array.of(FrameFlag.GSO_TCPV4 | FrameFlag.CSUM_PARTIAL, 34, 16, 1448);
    a.txBatch(batch);
    const rx = RxBatch.packed(4, 1 << 16);
    expect(b.rxBatch(rx)).toBe(1);
    expect(rx.lengths[0]).toBe(20000);
    expect(rx.frame(0)[100]).toBe(7);
    expect(rx.flags(0)).toBe(FrameFlag.GSO_TCPV4 | FrameFlag.CSUM_PARTIAL);
    expect([rx.csumStart(0), rx.csumOffset(0), rx.gsoSize(0)]).toEqual([34, 16, 1448]);
  });

  it('drops traffic while the link is down', () => {
    const [a, b] = MemoryDevice.pair({ name: 'a' }, { name: 'b' });
    b.setLinkUp(false);
    expect(b.linkState()).toEqual({ up: false, running: false });
    a.txBatch(txBatchOf([frame(60, 1)]));
    expect(b.pending).toBe(0);
    expect(b.stats().rxDropped).toBe(1);
    a.setLinkUp(false);
    a.txBatch(txBatchOf([frame(60, 1)]));
    expect(a.stats().txDropped).toBe(1);
  });

  it('calls onReadable once per loop turn while frames wait (level-triggered), and not when idle', async () => {
    const d = new MemoryDevice({ name: 'mem0' });
    const b = RxBatch.packed(2);
    const seen: number[] = [];
    d.onReadable(() => seen.push(d.rxBatch(b)));
    await nextTurn();
    expect(seen).toEqual([]);
    for (let i = 0; i < 5; i++) d.inject(frame(60, i));
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(seen).toEqual([2, 2, 1]);
    d.onReadable(null);
    d.inject(frame(60, 9));
    await nextTurn();
    await nextTurn();
    expect(seen).toEqual([2, 2, 1]);
    expect(d.pending).toBe(1);
  });
});

describe('RxBatch', () => {
  it('rejects invalid sizes', () => {
    expect(() => RxBatch.packed(0)).toThrow(RangeError);
    expect(() => RxBatch.slots(new Uint8Array(10), 0, 1)).toThrow(RangeError);
  });
});
