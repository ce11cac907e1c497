import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../../../src/net/wire/tcp.js';
import { TcpCounter } from '../../../src/net/tcp/counters.js';
import { RttEstimator } from '../../../src/net/tcp/rtt.js';
import { Harness, LOCAL, PEER, bytes } from './harness.js';

const { SYN, ACK, FIN } = TcpFlag;

describe('RFC 6298 estimator', () => {
  it('first sample sets SRTT=R, RTTVAR=R/2; later samples use α=1/8, β=1/4; bounds and backoff apply', () => {
    const r = new RttEstimator(1000, 200, 60_000);
    expect(r.rto).toBe(1000);
    r.sample(100);
    expect(r.srtt).toBe(100);
    expect(r.rttvar).toBe(50);
    expect(r.rto).toBe(300);
    r.sample(200);
    expect(r.rttvar).toBeCloseTo(0.75 * 50 + 0.25 * 100);
    expect(r.srtt).toBeCloseTo(0.875 * 100 + 0.125 * 200);
    expect(r.rto).toBeCloseTo(r.srtt + 4 * r.rttvar);
    r.sample(1); r.sample(1); r.sample(1); r.sample(1); r.sample(1); r.sample(1); r.sample(1); r.sample(1);
    r.sample(1); r.sample(1); r.sample(1); r.sample(1); r.sample(1); r.sample(1); r.sample(1); r.sample(1);
    expect(r.rto).toBe(200); // minimum
    for (let i = 0; i < 20; i++) r.backoff();
    expect(r.rto).toBe(60_000); // maximum
  });
});

describe('retransmission timer', () => {
  it('SYN is retransmitted at 1 s, then with exponential backoff, then the connect fails', () => {
    const h = new Harness({ maxSynRetransmits: 3 });
    h.stack.connect(LOCAL, PEER, 443, h.recorder(), 0);
    const times: number[] = [];
    const n0 = h.out.length;
    for (let t = 0; t < 20_000; t += 1) {
      h.advance(1);
      while (h.out.length > n0 + times.length) times.push(h.now);
    }
    expect(times).toEqual([1000, 3000, 7000]);
    expect(h.events).toEqual(['connect-failed:timeout']);
    expect(h.stack.connectionCount).toBe(0);
  });

  it('after a SYN retransmission the connection starts with RTO = 3 s (RFC 6298 §5.7)', () => {
    const h = new Harness();
    h.stack.connect(LOCAL, PEER, 443, h.recorder(), 0);
    const syn = h.last();
    h.advance(1000); // SYN retransmitted
    h.peerPort = 443; h.localPort = syn.srcPort;
    h.send({ flags: SYN | ACK, seq: 1, ack: syn.seq + 1 });
    expect(h.conn!.rtt.rto).toBe(3000);
  });

  it('data is retransmitted after the RTO with doubling, capped at 60 s, and the connection resets after maxRetransmits', () => {
    const h = new Harness({ maxRetransmits: 8 });
    const iss = h.acceptFrom({}); // no timestamps: Karn timing
    const c = h.conn!;
    expect(c.rtt.rto).toBe(200); // handshake RTT ≈ 0 → clamped to the 200 ms minimum
    h.take();
    c.txFifo.enqueue(bytes(100), 0, 100);
    h.stack.send(c);
    h.stack.flush(h.now);
    const sendTimes: number[] = [h.now];
    expect(h.take()[0]!.seq).toBe(iss + 1);
    for (let i = 0; i < 400_000; i += 100) {
      h.advance(100);
      for (const s of h.take()) { if (s.payload.length === 100) sendTimes.push(h.now); }
    }
    const gaps = sendTimes.slice(1).map((t, i) => t - sendTimes[i]!);
    expect(gaps).toEqual([200, 400, 800, 1600, 3200, 6400, 12800, 25600]);
    expect(h.stack.counters[TcpCounter.RtoTimeouts]).toBe(9);
    expect(h.events).toEqual(['accept', 'reset', 'closed']);
    expect(h.out.length === 0 || h.stack.counters[TcpCounter.ResetsOut] === 1).toBe(true);
  });

  it('RTO backoff is capped at maxRtoMs', () => {
    const h = new Harness({ maxRetransmits: 12, maxRtoMs: 5000 });
    h.acceptFrom({});
    const c = h.conn!;
    c.txFifo.enqueue(bytes(10), 0, 10);
    h.stack.send(c); h.stack.flush(h.now);
    h.advance(200 + 400 + 800 + 1600 + 3200 + 10);
    expect(c.rtt.rto).toBe(5000);
  });

  it('an ACK of new data restarts the timer and resets backoff once RTT is re-measured', () => {
    const h = new Harness();
    const iss = h.acceptFrom({});
    const c = h.conn!;
    c.txFifo.enqueue(bytes(3000), 0, 3000);
    h.stack.send(c); h.stack.flush(h.now);
    const first = h.take()[0]!;
    h.advance(200); // first RTO
    expect(c.rtt.rto).toBe(400);
    expect(h.take()[0]!.seq).toBe(first.seq);
    h.now += 50;
    h.send({ flags: ACK, seq: 1001, ack: iss + 1 + first.payload.length, window: 60000 });
    // Karn: the ACK covers a retransmission, so no sample; the backed-off RTO stays and the timer restarts.
    expect(c.rtt.rto).toBe(400);
    expect(c.rtoAt).toBe(h.now + 400);
  });
});

describe('delayed ACK', () => {
  it('acknowledges every second segment at once and a lone segment after the delay', () => {
    const h = new Harness({ delayedAckMs: 40 });
    const iss = h.acceptFrom({});
    h.take();
    h.send({ flags: ACK, seq: 1001, ack: iss + 1, payload: bytes(500) });
    expect(h.take()).toEqual([]);
    h.send({ flags: ACK, seq: 1501, ack: iss + 1, payload: bytes(500) });
    expect(h.take().map((s) => s.ack)).toEqual([2001]);
    h.send({ flags: ACK, seq: 2001, ack: iss + 1, payload: bytes(100) });
    h.advance(39);
    expect(h.take()).toEqual([]);
    h.advance(1);
    expect(h.take().map((s) => s.ack)).toEqual([2101]);
    expect(h.stack.counters[TcpCounter.DelayedAcks]).toBe(1);
  });

  it('out-of-order data is acknowledged immediately', () => {
    const h = new Harness();
    const iss = h.acceptFrom({});
    h.take();
    h.send({ flags: ACK, seq: 1501, ack: iss + 1, payload: bytes(100) });
    expect(h.take().map((s) => s.ack)).toEqual([1001]);
  });
});

describe('persist timer (zero window)', () => {
  it('probes a zero window with backoff and resumes when the window opens', () => {
    const h = new Harness();
    const iss = h.acceptFrom({});
    const c = h.conn!;
    h.send({ flags: ACK, seq: 1001, ack: iss + 1, window: 0 });
    h.take();
    c.txFifo.enqueue(bytes(2000), 0, 2000);
    h.stack.send(c); h.stack.flush(h.now);
    expect(h.take()).toEqual([]); // nothing fits
    const probes: number[] = [];
    const t0 = h.now;
    for (let i = 0; i < 3000; i += 10) {
      h.advance(10);
      for (const s of h.take()) {
        expect(s.payload.length).toBe(0);
        expect(s.seq).toBe(iss); // SND.UNA - 1 elicits an ACK
        probes.push(h.now - t0);
        h.send({ flags: ACK, seq: 1001, ack: iss + 1, window: 0 }); // still closed
      }
    }
    expect(probes).toEqual([200, 600, 1400, 3000].filter((t) => t <= 3000));
    expect(h.stack.counters[TcpCounter.PersistProbes]).toBe(probes.length);
    h.send({ flags: ACK, seq: 1001, ack: iss + 1, window: 5000 });
    const data = h.take();
    expect(data.reduce((n, s) => n + s.payload.length, 0)).toBe(2000);
  });
});

describe('TIME-WAIT', () => {
  it('the active closer waits timeWaitMs, re-ACKs a retransmitted FIN, then disappears', () => {
    const h = new Harness({ timeWaitMs: 500 });
    const iss = h.acceptFrom({});
    const c = h.conn!;
    h.stack.close(c);
    h.stack.flush(h.now);
    const fin = h.take().pop()!;
    expect(fin.flags & FIN).toBeTruthy();
    expect(c.stateName).toBe('FIN-WAIT-1');
    h.send({ flags: ACK, seq: 1001, ack: iss + 2 });
    expect(c.stateName).toBe('FIN-WAIT-2');
    h.send({ flags: FIN | ACK, seq: 1001, ack: iss + 2 });
    expect(c.stateName).toBe('TIME-WAIT');
    expect(h.take().map((s) => [s.flags, s.ack])).toEqual([[ACK, 1002]]);
    expect(h.events).toEqual(['accept', 'peer-closed', 'closed']);
    h.advance(300);
    h.send({ flags: FIN | ACK, seq: 1001, ack: iss + 2 });
    expect(h.take().map((s) => s.ack)).toEqual([1002]);
    h.advance(499);
    expect(h.stack.connectionCount).toBe(1);
    h.advance(200);
    expect(h.stack.connectionCount).toBe(0);
  });

  it('a new SYN with a higher sequence number recycles a TIME-WAIT connection (RFC 6191)', () => {
    const h = new Harness({ timeWaitMs: 60_000 });
    const iss = h.acceptFrom({});
    h.stack.close(h.conn!); h.stack.flush(h.now);
    h.send({ flags: ACK, seq: 1001, ack: iss + 2 });
    h.send({ flags: FIN | ACK, seq: 1001, ack: iss + 2 });
    h.take();
    h.send({ flags: SYN, seq: 900 });
    expect(h.take().map((s) => s.flags)).toEqual([ACK]); // old sequence: challenge ACK
    h.send({ flags: SYN, seq: 50_000 });
    const sa = h.take();
    expect(sa.map((s) => s.flags)).toEqual([SYN | ACK]);
    expect(h.stack.counters[TcpCounter.TimeWaitRecycled]).toBe(1);
  });
});
