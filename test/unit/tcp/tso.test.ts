// TSO in the engine (simulated links): toward a sink that offers GSO, data goes out as super-segments of whole
// MSS (gso size = MSS), bounded by the sink's limit, half the congestion window and the peer's window; the
// simulated NIC cuts them into wire segments (through the same software segmentation af-packet-output uses)
// or hands them over whole. Losing a super-segment is recovered; no large buffer falls back to MSS segments.

import { describe, expect, it } from 'vitest';
import { IP_A, IP_B, SimNet, type LinkParams, type SimTso } from './sim.js';
import { randomBytes, Receiver, Sender, sha256 } from './transfer.js';
import { TcpCounter } from '../../../src/net/tcp/counters.js';
import type { TcpConfig } from '../../../src/net/tcp/config.js';
import { TcpFlag } from '../../../src/net/wire/tcp.js';
import type { CaptureSink } from './sim.js';

const MAX_SEGMENT = 65535 - 20;

function transfer(size: number, seed: number, link: Partial<LinkParams>, cfg: Partial<TcpConfig> = {},
  tso: SimTso | null = { maxSegment: MAX_SEGMENT, segment: true }, setup?: (net: SimNet) => void) {
  const net = new SimNet(seed);
  const a = net.addStack(IP_A, cfg, tso ?? undefined);
  const b = net.addStack(IP_B, cfg);
  net.setLink(IP_A, IP_B, link);
  net.setLink(IP_B, IP_A, { ...link, rate: 0 });
  setup?.(net);
  const data = randomBytes(size, seed);
  const rx = new Receiver(() => b);
  expect(b.listen(IP_B, 80, rx).ok).toBe(true);
  const tx = new Sender(() => a, data);
  expect(a.connect(IP_A, IP_B, 80, tx, net.now).ok).toBe(true);
  net.run(600_000, () => tx.closed && rx.closed && a.connectionCount === 0);
  expect(rx.received).toBe(data.length);
  expect(rx.hash.digest('hex')).toBe(sha256(data));
  expect(tx.closed && rx.closed).toBe(true);
  return { net, a, b, rx, tx, data };
}

const dataFrom = (net: SimNet, src: number) => net.log.filter((e) => e.src === src && e.r.payload.length > 0);

describe('TSO super-segments', () => {
  it('carry whole MSS at consecutive sequence numbers; the wire sees MSS-sized segments', () => {
    const { net, a } = transfer(4 << 20, 1, { delayMs: 5, rate: 5000, queueBytes: 1 << 22 });
    const supers = net.superLog.filter((s) => s.src === IP_A);
    expect(supers.length).toBeGreaterThan(10);
    const mss = supers[0]!.gsoSize;
    expect(mss).toBe(1460 - 12); // timestamps on
    let covered = 0;
    for (const s of supers) {
      expect(s.gsoSize).toBe(mss);
      const len = s.r.payload.length;
      expect(len).toBeGreaterThan(mss);
      expect(20 + (s.r.options?.length ?? 0) + len).toBeLessThanOrEqual(MAX_SEGMENT);
      // Whole segments, except at the tail of the queued data (PSH).
      if (!(s.r.flags & TcpFlag.PSH)) expect(len % mss).toBe(0);
      covered += len;
    }
    expect(covered).toBeGreaterThan((4 << 20) * 0.9);
    // Wire segments: none longer than the MSS; sequence numbers follow each other without gaps or overlap.
    const wire = dataFrom(net, IP_A);
    let next = wire[0]!.r.seq;
    for (const w of wire) {
      expect(w.r.payload.length).toBeLessThanOrEqual(mss);
      expect(w.r.seq).toBe(next);
      next = (next + w.r.payload.length) >>> 0;
    }
    // FIN only on the last wire segment.
    expect(wire.filter((w) => w.r.flags & TcpFlag.FIN).length).toBe(1);
    expect(wire[wire.length - 1]!.r.flags & TcpFlag.FIN).toBeTruthy();
    expect(a.counters[TcpCounter.TsoSegmentsOut]).toBe(supers.length);
    expect(a.counters[TcpCounter.SegmentsOut]).toBeGreaterThanOrEqual(wire.length);
    expect(a.counters[TcpCounter.Retransmits]).toBe(0);
  });

  it('start at most half the initial window, and grow with it', () => {
    const { net } = transfer(2 << 20, 2, { delayMs: 10, rate: 0 }, { initialCwndSegments: 10 });
    const supers = net.superLog.filter((s) => s.src === IP_A);
    const mss = supers[0]!.gsoSize;
    expect(supers[0]!.r.payload.length).toBe(5 * mss);
    const largest = Math.max(...supers.map((s) => s.r.payload.length));
    expect(largest).toBe(Math.floor((MAX_SEGMENT - 60) / mss) * mss);
  });

  it('respect a small limit from the sink', () => {
    const { net } = transfer(1 << 20, 3, { delayMs: 2, rate: 0 }, {}, { maxSegment: 8000, segment: true });
    const supers = net.superLog.filter((s) => s.src === IP_A);
    expect(supers.length).toBeGreaterThan(0);
    for (const s of supers) expect(20 + 12 + s.r.payload.length).toBeLessThanOrEqual(8000);
  });

  it('are not sent with tso off, or toward a sink without GSO', () => {
    const off = transfer(1 << 20, 4, { delayMs: 2, rate: 0 }, { tso: false });
    expect(off.net.superLog.length).toBe(0);
    expect(off.a.counters[TcpCounter.TsoSegmentsOut]).toBe(0);
    const none = transfer(1 << 20, 4, { delayMs: 2, rate: 0 }, {}, null);
    expect(none.net.superLog.length).toBe(0);
  });

  it('fall back to MSS-sized segments when no large buffer is free', () => {
    const { net, a } = transfer(1 << 20, 5, { delayMs: 2, rate: 0 }, {}, { maxSegment: MAX_SEGMENT, segment: true }, (n) => {
      (n.stacks.get(IP_A)!.sink as CaptureSink).largeFree = 3;
    });
    expect(net.superLog.filter((s) => s.src === IP_A).length).toBe(3);
    expect(a.counters[TcpCounter.TxNoBuffer]).toBe(0);
    expect(a.counters[TcpCounter.Retransmits]).toBe(0);
  });

  for (const sack of [true, false]) {
    it(`recover the loss of whole super-segments (sack=${sack})`, () => {
      let n = 0;
      const lost: number[] = [];
      const { a } = transfer(4 << 20, 6, { delayMs: 10, rate: 3000, queueBytes: 1 << 22 }, { sack, tailLossProbe: true },
        { maxSegment: MAX_SEGMENT, segment: true }, (net) => {
          net.superFilter = (src, _dst, r) => {
            if (src !== IP_A || r.payload.length === 0) return true;
            // Lose the 8th and the 30th super-segment (and the first retransmission of nothing else).
            if (++n === 8 || n === 30) { lost.push(r.seq); return false; }
            return true;
          };
        });
      expect(lost.length).toBe(2);
      expect(a.counters[TcpCounter.Retransmits]).toBeGreaterThan(0);
      if (sack) expect(a.counters[TcpCounter.FastRetransmits]).toBeGreaterThan(0);
    });
  }

  it('delivered whole (as GRO would), with random loss, reordering and duplication', () => {
    const { a } = transfer(3 << 20, 7, { delayMs: 15, rate: 2000, queueBytes: 400_000, loss: 0.02, reorder: 0.02, dup: 0.01 },
      { tailLossProbe: true }, { maxSegment: MAX_SEGMENT, segment: false });
    expect(a.counters[TcpCounter.TsoSegmentsOut]).toBeGreaterThan(0);
  });

  it('segmented, with random loss, reordering and duplication of the wire segments', () => {
    const { a } = transfer(3 << 20, 8, { delayMs: 15, rate: 2000, queueBytes: 400_000, loss: 0.02, reorder: 0.02, dup: 0.01 },
      { tailLossProbe: true }, { maxSegment: MAX_SEGMENT, segment: true });
    expect(a.counters[TcpCounter.TsoSegmentsOut]).toBeGreaterThan(0);
    expect(a.counters[TcpCounter.FastRetransmits]).toBeGreaterThan(0);
  });
});
