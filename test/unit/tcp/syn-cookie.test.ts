import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../../../src/net/wire/tcp.js';
import { TcpCounter } from '../../../src/net/tcp/counters.js';
import { TcpSecrets } from '../../../src/net/tcp/secrets.js';
import { checkSynCookie, makeSynCookie } from '../../../src/net/tcp/syn-cookie.js';
import { Harness, LOCAL, PEER, bytes } from './harness.js';

const { SYN, ACK, RST } = TcpFlag;

describe('ISN (RFC 6528) and cookie primitives', () => {
  it('ISN advances with a 4 µs clock and differs per 4-tuple', () => {
    const s = new TcpSecrets(new Uint8Array(32).fill(1));
    const a0 = s.isn(0, 1, 80, 2, 1234);
    expect((s.isn(1, 1, 80, 2, 1234) - a0) >>> 0).toBe(250);
    expect(s.isn(0, 1, 80, 2, 1235)).not.toBe(a0);
  });

  it('cookies validate for two periods and reject tampering', () => {
    const s = new TcpSecrets(new Uint8Array(32).fill(2));
    const c = makeSynCookie(s, 10_000, LOCAL, 80, PEER, 5555, 777, 1460);
    expect(checkSynCookie(s, 10_000, LOCAL, 80, PEER, 5555, 777, c)).toBe(1460);
    expect(checkSynCookie(s, 100_000, LOCAL, 80, PEER, 5555, 777, c)).toBe(1460);
    expect(checkSynCookie(s, 200_000, LOCAL, 80, PEER, 5555, 777, c)).toBe(0); // expired
    expect(checkSynCookie(s, 10_000, LOCAL, 80, PEER, 5556, 777, c)).toBe(0);
    expect(checkSynCookie(s, 10_000, LOCAL, 80, PEER, 5555, 778, c)).toBe(0);
    expect(checkSynCookie(s, 10_000, LOCAL, 80, PEER, 5555, 777, (c ^ 1) >>> 0)).toBe(0);
    expect(checkSynCookie(s, 10_000, LOCAL, 80, PEER, 5555, 777, makeSynCookie(s, 10_000, LOCAL, 80, PEER, 5555, 777, 1000))).toBe(536);
  });
});

describe('SYN backlog and SYN cookies', () => {
  it('a full backlog answers with stateless cookies; the final ACK creates the connection with its options', () => {
    const h = new Harness();
    const evs = h.recorder();
    h.stack.listen(LOCAL, 80, evs, { backlog: 2 });
    for (let p = 0; p < 2; p++) { h.peerPort = 30000 + p; h.send({ flags: SYN, seq: 100 }); }
    expect(h.stack.connectionCount).toBe(2);
    h.take();
    h.peerPort = 40000;
    h.send({ flags: SYN, seq: 5000, mss: 1400, wscale: 6, sackPermitted: true, timestamp: { tsVal: 42, tsEcr: 0 } });
    expect(h.stack.connectionCount).toBe(2); // no state for the third
    const sa = h.take().pop()!;
    expect(sa.flags).toBe(SYN | ACK);
    expect(sa.ack).toBe(5001);
    expect(sa.wscale).toBe(3);
    expect(sa.sackPermitted).toBe(true);
    expect(h.stack.counters[TcpCounter.SynBacklogFull]).toBe(1);
    expect(h.stack.counters[TcpCounter.SynCookiesSent]).toBe(1);
    expect(h.stack.listenerList()[0]!.synCookiesSent).toBe(1);
    h.now = 20;
    h.send({ flags: ACK, seq: 5001, ack: sa.seq + 1, window: 100, payload: bytes(10),
      timestamp: { tsVal: 43, tsEcr: sa.timestamp!.tsVal } });
    expect(h.events).toEqual(['accept', 'rx']);
    const c = h.conn!;
    expect(c.stateName).toBe('ESTABLISHED');
    expect(c.sndMss).toBe(1400 - 12);
    expect(c.sndWscale).toBe(6);
    expect(c.sndWnd).toBe(100 << 6);
    expect(c.sackEnabled && c.timestampsEnabled).toBe(true);
    expect(c.rxFifo.maxDequeue).toBe(10);
    expect(h.stack.counters[TcpCounter.SynCookiesOk]).toBe(1);
    h.advance(40); // a single segment is acknowledged by the delayed-ACK timer
    expect(h.last().ack).toBe(5011);
  });

  it('an ACK with a bad cookie gets a RST', () => {
    const h = new Harness();
    h.stack.listen(LOCAL, 80, h.recorder(), { backlog: 1 });
    h.send({ flags: ACK, seq: 5001, ack: 123456 });
    expect(h.last().flags).toBe(RST);
    expect(h.last().seq).toBe(123456);
    expect(h.stack.counters[TcpCounter.SynCookieBad]).toBe(1);
    expect(h.stack.connectionCount).toBe(0);
  });

  it('without cookies a full backlog drops SYNs and counts them', () => {
    const h = new Harness({ synCookies: false, synBacklog: 1 });
    h.stack.listen(LOCAL, 80, h.recorder());
    h.send({ flags: SYN, seq: 1 });
    h.peerPort++;
    h.send({ flags: SYN, seq: 1 });
    expect(h.stack.counters[TcpCounter.SynDropped]).toBe(1);
    expect(h.stack.connectionCount).toBe(1);
  });

  it('half-open connections expire after SYN-ACK retransmissions and free the backlog', () => {
    const h = new Harness({ maxSynRetransmits: 2 });
    h.stack.listen(LOCAL, 80, h.recorder(), { backlog: 1 });
    h.send({ flags: SYN, seq: 1 });
    h.advance(1000 + 2000 + 4000 + 1);
    expect(h.stack.connectionCount).toBe(0);
    expect(h.stack.listenerList()[0]!.halfOpen).toBe(0);
    expect(h.events).toEqual([]);
    expect(h.stack.counters[TcpCounter.SynRetransmitLimit]).toBe(1);
  });
});
