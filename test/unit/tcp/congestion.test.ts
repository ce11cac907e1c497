import { describe, expect, it } from 'vitest';
import { CubicCc, CUBIC_ALPHA, CUBIC_BETA, CUBIC_C } from '../../../src/net/tcp/cubic.js';
import { NewRenoCc } from '../../../src/net/tcp/newreno.js';
import { SackScoreboard } from '../../../src/net/tcp/sack-scoreboard.js';
import { TcpCounter } from '../../../src/net/tcp/counters.js';
import { TcpFlag } from '../../../src/net/wire/tcp.js';
import { Harness, bytes } from './harness.js';

const MSS = 1000;
const { ACK } = TcpFlag;

describe('CUBIC (RFC 9438)', () => {
  it('reduces to β·cwnd and sets K = cbrt(W_max(1-β)/C)', () => {
    const cc = new CubicCc(MSS, 10);
    cc.cwnd = 100 * MSS;
    cc.ssthresh = 50 * MSS;
    cc.onCongestion(100 * MSS, 0);
    expect(cc.ssthresh).toBe(70 * MSS);
    cc.onRecoveryExit();
    expect(cc.cwnd).toBe(70 * MSS);
    expect(cc.wMax).toBe(100);
    cc.onAck(MSS, 1000, 100); // starts the epoch at t=1000 ms
    expect(cc.k).toBeCloseTo(Math.cbrt((100 * (1 - CUBIC_BETA)) / CUBIC_C), 9);
  });

  it('follows W_cubic(t) = C(t-K)^3 + W_max in the concave and convex regions', () => {
    const cc = new CubicCc(MSS, 10);
    cc.cwnd = 100 * MSS;
    cc.onCongestion(100 * MSS, 0);
    cc.onRecoveryExit();
    const rtt = 100; // ms
    const K = Math.cbrt((100 * (1 - CUBIC_BETA)) / CUBIC_C);
    // One window of ACKs per RTT, as a window-limited sender would see.
    let t = 0;
    const samples: Array<[number, number]> = [];
    while (t < 8000) {
      const acks = Math.round(cc.cwnd / MSS);
      for (let i = 0; i < acks; i++) cc.onAck(MSS, t + (rtt * i) / acks, rtt);
      t += rtt;
      samples.push([t, cc.cwnd / MSS]);
    }
    for (const [tm, w] of samples) {
      const ts = tm / 1000;
      const expected = CUBIC_C * (ts + rtt / 1000 - K) ** 3 + 100; // target one RTT ahead
      if (ts > 0.5 && expected > 70 * 1.05) {
        // cwnd tracks the cubic curve (it reaches the target within one RTT), never the Reno estimate here
        expect(Math.abs(w - expected) / expected).toBeLessThan(0.08);
      }
    }
    // Plateau near W_max around t = K, then convex growth beyond it.
    const at = (sec: number) => samples.find(([tm]) => tm >= sec * 1000)![1];
    expect(at(K)).toBeGreaterThan(95);
    expect(at(K)).toBeLessThan(105);
    expect(at(K + 2)).toBeGreaterThan(100 + CUBIC_C * 1.5 ** 3);
  });

  it('uses the Reno-friendly estimate when it is larger (short RTT, small W_max)', () => {
    const cc = new CubicCc(MSS, 10);
    cc.cwnd = 10 * MSS;
    cc.onCongestion(10 * MSS, 0);
    cc.onRecoveryExit();
    // With W_max = 10, the cubic curve is nearly flat for seconds; W_est grows by α per RTT.
    let t = 0;
    for (let r = 0; r < 20; r++) {
      const acks = Math.round(cc.cwnd / MSS);
      for (let i = 0; i < acks; i++) cc.onAck(MSS, t, 1);
      t += 1; // 1 ms RTT
    }
    expect(cc.wEst).toBeGreaterThan(7 + 20 * CUBIC_ALPHA * 0.9);
    expect(cc.cwnd / MSS).toBeCloseTo(cc.wEst, 5);
  });

  it('fast convergence lowers W_max when losses come earlier', () => {
    const cc = new CubicCc(MSS, 10);
    cc.cwnd = 100 * MSS;
    cc.onCongestion(0, 0);
    cc.cwnd = 80 * MSS;
    cc.onCongestion(0, 0);
    expect(cc.wMax).toBeCloseTo((80 * (1 + CUBIC_BETA)) / 2);
  });

  it('RTO collapses cwnd to one segment', () => {
    const cc = new CubicCc(MSS, 10);
    cc.cwnd = 40 * MSS;
    cc.onRto(40 * MSS, 0);
    expect(cc.cwnd).toBe(MSS);
    expect(cc.ssthresh).toBe(28 * MSS);
  });
});

describe('NewReno window (RFC 5681)', () => {
  it('slow start grows by acked bytes (max 2 MSS per ACK), congestion avoidance by 1 MSS per window', () => {
    const cc = new NewRenoCc(MSS, 2);
    cc.onAck(MSS); cc.onAck(5 * MSS);
    expect(cc.cwnd).toBe(5 * MSS);
    cc.ssthresh = 5 * MSS;
    for (let i = 0; i < 5; i++) cc.onAck(MSS);
    expect(cc.cwnd).toBe(6 * MSS);
    cc.onCongestion(6 * MSS);
    expect(cc.ssthresh).toBe(3 * MSS);
    cc.onRecoveryExit(10 * MSS);
    expect(cc.cwnd).toBe(3 * MSS);
  });
});

describe('SACK scoreboard', () => {
  it('merges blocks, tracks sacked bytes, finds holes and re-bases on cumulative ACKs', () => {
    const sb = new SackScoreboard();
    expect(sb.add(1000, 2000, 10_000)).toBe(true);
    expect(sb.add(3000, 4000, 10_000)).toBe(true);
    expect(sb.add(1500, 2000, 10_000)).toBe(false); // nothing new
    expect(sb.sacked).toBe(2000);
    expect(sb.nextHole(0)).toBe(0);
    expect(sb.holeEnd).toBe(1000);
    expect(sb.nextHole(1000)).toBe(2000);
    expect(sb.holeEnd).toBe(3000);
    expect(sb.nextHole(3500)).toBe(-1); // above the highest SACK: not a hole
    expect(sb.add(1900, 3100, 10_000)).toBe(true);
    expect(sb.blockCount).toBe(1);
    expect(sb.sacked).toBe(3000);
    expect(sb.sackedIn(0, 2000)).toBe(1000);
    expect(sb.add(20_000, 30_000, 10_000)).toBe(false); // beyond SND.MAX: invalid
    sb.advance(1500);
    expect(sb.blockStart(0)).toBe(0);
    expect(sb.highSacked).toBe(2500);
    expect(sb.sacked).toBe(2500);
    sb.advance(5000);
    expect(sb.isEmpty).toBe(true);
  });
});

/** Established connection with a peer that ACKs by hand; the sender has `n` segments of 1000 bytes in flight. */
function lossSetup(sack: boolean, ccAlgo: 'newreno' | 'cubic' = 'newreno') {
  const h = new Harness({ ccAlgo, initialCwndSegments: 10 });
  const peerOpts = sack ? { mss: 1000, sackPermitted: true } : { mss: 1000 };
  const iss = h.acceptFrom(peerOpts);
  const c = h.conn!;
  h.send({ flags: ACK, seq: 1001, ack: iss + 1, window: 60000 });
  c.txFifo.enqueue(bytes(30_000), 0, 30_000);
  h.stack.send(c); h.stack.flush(h.now);
  const sent = h.take();
  return { h, c, iss, sent };
}

describe('fast retransmit and NewReno recovery (RFC 6582)', () => {
  it('retransmits after 3 duplicate ACKs, inflates, handles a partial ACK and deflates on the full ACK', () => {
    const { h, c, iss, sent } = lossSetup(false);
    expect(sent.length).toBe(10);
    const una = iss + 1;
    // Segments 1 and 4 (0-based 0 and 3) are lost; the peer ACKs the others with duplicate ACKs.
    h.now = 50;
    for (let i = 0; i < 3; i++) h.send({ flags: ACK, seq: 1001, ack: una, window: 60000 });
    const out = h.take();
    // RFC 3042 limited transmit: the first two duplicate ACKs each release one new segment.
    expect(out.slice(0, 2).map((s) => s.seq - una)).toEqual([10_000, 11_000]);
    const rtx = out.slice(2);
    expect(rtx.length).toBe(1);
    expect(rtx[0]!.seq).toBe(una);
    expect(c.inRecovery).toBe(true);
    expect(c.cc.ssthresh).toBe(5000);
    expect(c.cc.cwnd).toBe(5000 + 3000);
    expect(h.stack.counters[TcpCounter.FastRetransmits]).toBe(1);
    // More duplicate ACKs inflate cwnd and release new data once cwnd exceeds the flight.
    for (let i = 0; i < 5; i++) h.send({ flags: ACK, seq: 1001, ack: una, window: 60000 });
    expect(c.cc.cwnd).toBe(13_000);
    const fresh = h.take();
    expect(fresh.map((s) => s.seq - una)).toEqual([12_000]); // cwnd 13000 − flight 12000
    // Partial ACK up to the second hole: resend it at once, stay in recovery.
    h.send({ flags: ACK, seq: 1001, ack: una + 3000, window: 60000 });
    const part = h.take();
    expect(part[0]!.seq).toBe(una + 3000);
    expect(c.inRecovery).toBe(true);
    // Full ACK of everything sent before recovery: leave recovery with cwnd = min(ssthresh, flight + MSS).
    expect(c.recover).toBe(una + 12_000); // highest sequence sent when recovery began
    const flightAfter = (c.sndMax - c.recover) >>> 0;
    h.send({ flags: ACK, seq: 1001, ack: c.recover, window: 60000 });
    expect(c.inRecovery).toBe(false);
    expect(c.cc.cwnd).toBe(Math.min(5000, flightAfter + 1000));
  });
});

describe('SACK-based recovery', () => {
  it('retransmits only the holes reported by SACK', () => {
    const { h, c, iss, sent } = lossSetup(true);
    expect(sent.length).toBe(10);
    const una = iss + 1;
    h.now = 50;
    // Segments 0 and 3 lost: SACK 1-2 then 4..9 progressively.
    const sackAck = (blocks: Array<[number, number]>) =>
      h.send({ flags: ACK, seq: 1001, ack: una, window: 60000, sackBlocks: blocks.map(([l, r]) => [una + l * 1000, una + r * 1000]) });
    sackAck([[1, 2]]);
    sackAck([[1, 3]]);
    sackAck([[4, 5], [1, 3]]);
    expect(c.inRecovery).toBe(true);
    const r1 = h.take();
    expect(r1.map((s) => (s.seq - una) / 1000)).toContain(0);
    sackAck([[4, 6], [1, 3]]);
    sackAck([[4, 7], [1, 3]]);
    sackAck([[4, 8], [1, 3]]);
    sackAck([[4, 9], [1, 3]]);
    sackAck([[4, 10], [1, 3]]);
    const r2 = h.take().map((s) => (s.seq - una) / 1000);
    expect(r2).toContain(3); // the second hole
    const all = [...r1, ...h.take()].length;
    expect(all).toBeGreaterThanOrEqual(0);
    // Nothing SACKed was resent.
    // Nothing SACKed (1, 2, 4..9) was sent again: only the holes 0 and 3, and new data from 10 on.
    for (const x of [...r1.map((s) => (s.seq - una) / 1000), ...r2]) expect(x === 0 || x === 3 || x >= 10).toBe(true);
    expect(c.scoreboard!.sacked).toBe(8000);
    h.send({ flags: ACK, seq: 1001, ack: c.recover, window: 60000 }); // everything sent before recovery
    expect(c.inRecovery).toBe(false);
    expect(c.scoreboard!.isEmpty).toBe(true);
  });
});
