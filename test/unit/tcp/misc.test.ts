import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../../../src/net/wire/tcp.js';
import { TcpCounter } from '../../../src/net/tcp/counters.js';
import { TcpState } from '../../../src/net/tcp/stack.js';
import { resolveTcpConfig } from '../../../src/net/tcp/config.js';
import { TimerQueue } from '../../../src/net/tcp/timer-queue.js';
import { Harness, LOCAL, PEER } from './harness.js';
import { IP_A, IP_B, SimNet } from './sim.js';

const { SYN, ACK, FIN } = TcpFlag;

describe('misc', () => {
  it('simultaneous open reaches ESTABLISHED on both sides', () => {
    const net = new SimNet(1);
    const a = net.addStack(IP_A);
    const b = net.addStack(IP_B);
    const ev: string[] = [];
    const ca = a.connect(IP_A, IP_B, 5000, { onConnected: () => ev.push('a') }, 0, { localPort: 6000 });
    const cb = b.connect(IP_B, IP_A, 6000, { onConnected: () => ev.push('b') }, 0, { localPort: 5000 });
    expect(ca.ok && cb.ok).toBe(true);
    net.run(5000, () => ca.ok && cb.ok && ca.value.state === TcpState.Established && cb.value.state === TcpState.Established);
    expect(ca.ok && ca.value.stateName).toBe('ESTABLISHED');
    expect(cb.ok && cb.value.stateName).toBe('ESTABLISHED');
  });

  it('FIN-WAIT-2 times out after close() when the peer never sends FIN', () => {
    const h = new Harness({ finWait2Ms: 1000 });
    const iss = h.acceptFrom({});
    h.stack.close(h.conn!);
    h.stack.flush(h.now);
    h.send({ flags: ACK, seq: 1001, ack: iss + 2 });
    expect(h.conn!.stateName).toBe('FIN-WAIT-2');
    h.advance(999);
    expect(h.stack.connectionCount).toBe(1);
    h.advance(2);
    expect(h.stack.connectionCount).toBe(0);
    expect(h.stack.counters[TcpCounter.FinWait2Timeout]).toBe(1);
  });

  it('shutdownWrite keeps FIN-WAIT-2 open without a timeout (half-close)', () => {
    const h = new Harness({ finWait2Ms: 1000 });
    const iss = h.acceptFrom({});
    h.stack.shutdownWrite(h.conn!);
    h.stack.flush(h.now);
    h.send({ flags: ACK, seq: 1001, ack: iss + 2 });
    h.advance(10_000);
    expect(h.conn!.stateName).toBe('FIN-WAIT-2');
    h.send({ flags: ACK, seq: 1001, ack: iss + 2, payload: new Uint8Array(5) });
    expect(h.conn!.rxFifo.maxDequeue).toBe(5);
  });

  it('passive close: peer FIN → CLOSE-WAIT; close() → LAST-ACK; ACK of our FIN → gone', () => {
    const h = new Harness();
    const iss = h.acceptFrom({});
    h.send({ flags: FIN | ACK, seq: 1001, ack: iss + 1 });
    expect(h.conn!.stateName).toBe('CLOSE-WAIT');
    h.stack.close(h.conn!);
    h.stack.flush(h.now);
    expect(h.conn!.stateName).toBe('LAST-ACK');
    expect(h.last().flags & FIN).toBeTruthy();
    h.send({ flags: ACK, seq: 1002, ack: iss + 2 });
    expect(h.stack.connectionCount).toBe(0);
    expect(h.events).toEqual(['accept', 'peer-closed', 'closed']);
  });

  it('connect reports address conflicts and listen rejects duplicates', () => {
    const h = new Harness();
    const r1 = h.stack.connect(LOCAL, PEER, 80, {}, 0, { localPort: 1234 });
    const r2 = h.stack.connect(LOCAL, PEER, 80, {}, 0, { localPort: 1234 });
    expect(r1.ok).toBe(true);
    expect(r2).toEqual({ ok: false, error: 'address-in-use' });
    expect(h.stack.listen(LOCAL, 80, {}).ok).toBe(true);
    expect(h.stack.listen(LOCAL, 80, {})).toEqual({ ok: false, error: 'address-in-use' });
    expect(h.stack.listen(0, 80, {}).ok).toBe(true);
  });

  it('onAccept returning false refuses the connection with RST', () => {
    const h = new Harness();
    h.acceptFrom({}, { onAccept: () => false });
    expect(h.last().flags & TcpFlag.RST).toBeTruthy();
    expect(h.stack.connectionCount).toBe(0);
  });

  it('config validation rejects bad values', () => {
    expect(() => resolveTcpConfig({ minRtoMs: 2000 })).toThrow(RangeError);
    expect(() => resolveTcpConfig({ ccAlgo: 'bbr' as never })).toThrow(/cc-algo/);
    expect(resolveTcpConfig().ccAlgo).toBe('cubic');
  });

  it('timer queue pops owners in deadline order and skips stale entries', () => {
    const q = new TimerQueue<{ timerAt: number; id: number }>();
    const o = Array.from({ length: 5 }, (_, id) => ({ timerAt: Infinity, id }));
    [50, 10, 40, 20, 30].forEach((d, i) => q.schedule(o[i]!, d));
    q.schedule(o[0]!, 5); // earlier: new entry, old one goes stale
    const got: number[] = [];
    let x;
    while ((x = q.popDue(100)) !== null) got.push(x.id);
    expect(got).toEqual([0, 1, 3, 4, 2]);
    expect(q.size).toBe(0);
  });
});

describe('per-interface MTU', () => {
  it('listener and connect options override the stack MTU for the advertised MSS', () => {
    const h = new Harness({ mtu: 1500 });
    h.stack.listen(LOCAL, 80, h.recorder(), { mtu: 1280 });
    h.send({ flags: SYN, seq: 1, mss: 1460 });
    expect(h.last().mss).toBe(1240);
    h.stack.connect(LOCAL, PEER, 443, {}, 0, { mtu: 9000 });
    expect(h.last().mss).toBe(8960);
  });
});
