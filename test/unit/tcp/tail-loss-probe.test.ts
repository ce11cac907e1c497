// Tail loss probes (RFC 8985 §7) and lost-retransmission detection in SACK recovery.
import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../../../src/net/wire/tcp.js';
import { TcpCounter } from '../../../src/net/tcp/counters.js';
import { Harness, bytes } from './harness.js';

const { ACK } = TcpFlag;
const MSS = 1460;
const PEER_OPTS = { mss: MSS, sackPermitted: true };

/** An accepted connection (SACK, no timestamps) with three full segments in flight. */
function threeInFlight(tailLossProbe: boolean): { h: Harness; una: number } {
  const h = new Harness({ tailLossProbe, delayedAckMs: 40 });
  const iss = h.acceptFrom(PEER_OPTS);
  const una = (iss + 1) >>> 0;
  h.send({ flags: ACK, seq: 1001, ack: una, window: 65535 });
  const c = h.conn!;
  c.txFifo.enqueue(bytes(3 * MSS), 0, 3 * MSS);
  h.stack.send(c);
  h.stack.flush(h.now);
  expect(h.take().map((s) => s.payload.length)).toEqual([MSS, MSS, MSS]);
  return { h, una };
}

describe('tail loss probe', () => {
  it('probes with the last segment well before the RTO, and a SACK for it starts recovery of the hole', () => {
    const { h, una } = threeInFlight(true);
    const c = h.conn!;
    // Segment 2 is lost: the peer acknowledges segment 1 and SACKs segment 3 (one duplicate ACK only).
    h.send({ flags: ACK, seq: 1001, ack: una + MSS, window: 65535 });
    h.send({ flags: ACK, seq: 1001, ack: una + MSS, window: 65535, sackBlocks: [[una + 2 * MSS, una + 3 * MSS]] });
    expect(h.take()).toEqual([]);
    expect(c.probeAt).toBeLessThan(c.rtoAt);
    // The probe: the last segment again, long before the 200 ms RTO.
    for (let t = 0; t < 100 && h.out.length === 0; t++) h.advance(1);
    const probe = h.take();
    expect(probe.length).toBe(1);
    expect(probe[0]!.seq).toBe(una + 2 * MSS);
    expect(h.now).toBeLessThan(100);
    expect(h.stack.counters[TcpCounter.TailLossProbes]).toBe(1);
    // Its SACK (a duplicate ACK) is enough to retransmit the hole at once.
    h.send({ flags: ACK, seq: 1001, ack: una + MSS, window: 65535, sackBlocks: [[una + 2 * MSS, una + 3 * MSS]] });
    const rtx = h.take().filter((s) => s.payload.length > 0);
    expect(rtx[0]!.seq).toBe(una + MSS);
    expect(h.stack.counters[TcpCounter.FastRetransmits]).toBe(1);
    expect(h.stack.counters[TcpCounter.RtoTimeouts]).toBe(0);
  });

  it('is off by default in the engine: the RTO recovers the tail', () => {
    const { h, una } = threeInFlight(false);
    h.send({ flags: ACK, seq: 1001, ack: una + MSS, window: 65535 });
    h.advance(150);
    expect(h.take()).toEqual([]);
    h.advance(100);
    expect(h.take()[0]!.seq).toBe(una + MSS);
    expect(h.stack.counters[TcpCounter.RtoTimeouts]).toBe(1);
  });
});

describe('lost retransmission', () => {
  it('resends a hole whose retransmission was lost once data sent after it is SACKed', () => {
    const h = new Harness({ delayedAckMs: 40 });
    const iss = h.acceptFrom(PEER_OPTS);
    const una = (iss + 1) >>> 0;
    h.send({ flags: ACK, seq: 1001, ack: una, window: 65535 });
    const c = h.conn!;
    c.txFifo.enqueue(bytes(20 * MSS), 0, 20 * MSS);
    h.stack.send(c);
    h.stack.flush(h.now);
    const first = h.take().filter((s) => s.payload.length > 0);
    expect(first.length).toBe(10); // IW10
    // Segment 1 lost; 2..4 SACKed → fast retransmit of segment 1 and new data as the pipe allows.
    for (let k = 2; k <= 4; k++) h.send({ flags: ACK, seq: 1001, ack: una, window: 65535, sackBlocks: [[una + MSS, una + k * MSS]] });
    const rtx1 = h.take().filter((s) => s.payload.length > 0 && s.seq === una);
    expect(rtx1.length).toBe(1);
    const sndMaxAtRtx = c.sndMax;
    // The rest of the first flight is SACKed: the pipe drains and new data goes out after the retransmission.
    h.send({ flags: ACK, seq: 1001, ack: una, window: 65535, sackBlocks: [[una + MSS, sndMaxAtRtx]] });
    const fresh = h.take().filter((s) => s.payload.length > 0);
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.every((s) => s.seq >= sndMaxAtRtx)).toBe(true);
    expect(h.stack.counters[TcpCounter.LostRetransmits]).toBe(0);
    // The retransmission is lost too: data sent after it is SACKed while the ACK stays at the hole.
    h.send({ flags: ACK, seq: 1001, ack: una, window: 65535, sackBlocks: [[una + MSS, sndMaxAtRtx + MSS]] });
    const rtx2 = h.take().filter((s) => s.payload.length > 0 && s.seq === una);
    expect(rtx2.length).toBe(1);
    expect(h.stack.counters[TcpCounter.LostRetransmits]).toBe(1);
    expect(h.stack.counters[TcpCounter.RtoTimeouts]).toBe(0);
  });
});
