import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../../../src/net/wire/tcp.js';
import { TcpCounter } from '../../../src/net/tcp/counters.js';
import { TCP_COUNTER_DESCS, counterKey, TcpCounter as C } from '../../../src/net/tcp/counters.js';
import { Harness, LOCAL, PEER, bytes } from './harness.js';

const { SYN, ACK, RST, FIN } = TcpFlag;

describe('handshake and options', () => {
  it('passive open answers SYN with SYN-ACK carrying MSS from the MTU, WS, SACK-permitted and timestamps', () => {
    const h = new Harness({ mtu: 9000, rxFifoSize: 1 << 20 });
    h.stack.listen(LOCAL, 80, h.recorder());
    h.send({ flags: SYN, seq: 1000, mss: 1460, wscale: 7, sackPermitted: true, timestamp: { tsVal: 100, tsEcr: 0 } });
    const sa = h.last();
    expect(sa.flags).toBe(SYN | ACK);
    expect(sa.ack).toBe(1001);
    expect(sa.mss).toBe(8960);
    expect(sa.wscale).toBe(5); // 1 MiB >> 5 fits 16 bits
    expect(sa.sackPermitted).toBe(true);
    expect(sa.timestamp!.tsEcr).toBe(100);
    expect(sa.window).toBe(65535); // SYN windows are never scaled
    expect(h.events).toEqual([]);
    h.send({ flags: ACK, seq: 1001, ack: sa.seq + 1, window: 100, timestamp: { tsVal: 101, tsEcr: sa.timestamp!.tsVal } });
    expect(h.events).toEqual(['accept']);
    const c = h.conn!;
    expect(c.stateName).toBe('ESTABLISHED');
    expect(c.sndWnd).toBe(100 << 7);
    expect(c.sndMss).toBe(1460 - 12);
    expect(c.timestampsEnabled && c.sackEnabled).toBe(true);
  });

  it('omits options the peer did not offer (no WS → no scaling either way)', () => {
    const h = new Harness();
    h.stack.listen(LOCAL, 80, h.recorder());
    h.send({ flags: SYN, seq: 5, mss: 1200 });
    const sa = h.last();
    expect(sa.wscale).toBeUndefined();
    expect(sa.sackPermitted).toBeUndefined();
    expect(sa.timestamp).toBeUndefined();
    h.send({ flags: ACK, seq: 6, ack: sa.seq + 1, window: 5000 });
    expect(h.conn!.sndMss).toBe(1200);
    h.conn!.txFifo.enqueue(bytes(10), 0, 10);
    h.stack.send(h.conn!);
    h.stack.flush(h.now);
    expect(h.last().window).toBe(65535); // unscaled, clamped
  });

  it('active open sends SYN with all options and completes on SYN-ACK', () => {
    const h = new Harness();
    const r = h.stack.connect(LOCAL, PEER, 443, h.recorder(), 0);
    expect(r.ok).toBe(true);
    const syn = h.last();
    expect(syn.flags).toBe(SYN);
    expect(syn.mss).toBe(1460);
    expect(syn.wscale).toBe(3); // 256 KiB default fifo
    h.peerPort = 443; h.localPort = syn.srcPort;
    h.now = 30;
    h.send({ flags: SYN | ACK, seq: 7000, ack: syn.seq + 1, mss: 1400, wscale: 2, sackPermitted: true,
      timestamp: { tsVal: 1, tsEcr: syn.timestamp!.tsVal } });
    expect(h.events).toEqual(['connected']);
    const ack = h.last();
    expect(ack.flags).toBe(ACK);
    expect(ack.ack).toBe(7001);
    const c = h.conn!;
    expect(c.sndWscale).toBe(2);
    expect(c.rtt.srtt).toBe(30);
    expect(c.sndMss).toBe(1400 - 12);
  });
});

describe('RST handling', () => {
  it('answers segments to closed ports with RST per RFC 9293', () => {
    const h = new Harness();
    h.send({ flags: SYN, seq: 100, payload: bytes(3) });
    let r = h.last();
    expect(r.flags).toBe(RST | ACK);
    expect(r.seq).toBe(0);
    expect(r.ack).toBe(104);
    h.send({ flags: ACK, seq: 5, ack: 777 });
    r = h.last();
    expect(r.flags).toBe(RST);
    expect(r.seq).toBe(777);
    const before = h.out.length;
    h.send({ flags: RST, seq: 1 });
    expect(h.out.length).toBe(before); // never answer a RST
    expect(h.stack.counters[TcpCounter.NoListener]).toBe(2);
    expect(h.stack.counters[TcpCounter.RstToClosed]).toBe(1);
  });

  it('SYN-SENT: RST with an acceptable ACK refuses the connection; with a bad ACK it is ignored', () => {
    const h = new Harness();
    h.stack.connect(LOCAL, PEER, 443, h.recorder(), 0);
    const syn = h.last();
    h.peerPort = 443; h.localPort = syn.srcPort;
    h.send({ flags: RST | ACK, seq: 0, ack: syn.seq + 5 });
    expect(h.events).toEqual([]);
    h.send({ flags: RST | ACK, seq: 0, ack: syn.seq + 1 });
    expect(h.events).toEqual(['connect-failed:refused']);
    expect(h.stack.connectionCount).toBe(0);
  });

  it('SYN-SENT: an unacceptable ACK gets a RST', () => {
    const h = new Harness();
    h.stack.connect(LOCAL, PEER, 443, h.recorder(), 0);
    const syn = h.last();
    h.peerPort = 443; h.localPort = syn.srcPort;
    h.send({ flags: SYN | ACK, seq: 1, ack: syn.seq + 99 });
    expect(h.last().flags).toBe(RST);
    expect(h.last().seq).toBe((syn.seq + 99) >>> 0);
    expect(h.stack.counters[TcpCounter.SynSentBadAck]).toBe(1);
  });

  it('SYN-RECEIVED: RST removes the embryonic connection without telling the app', () => {
    const h = new Harness();
    h.stack.listen(LOCAL, 80, h.recorder());
    h.send({ flags: SYN, seq: 1000 });
    expect(h.stack.connectionCount).toBe(1);
    h.send({ flags: RST, seq: 1001 });
    expect(h.stack.connectionCount).toBe(0);
    expect(h.events).toEqual([]);
    expect(h.stack.listenerList()[0]!.halfOpen).toBe(0);
  });

  it('ESTABLISHED: exact RST resets, in-window RST draws a challenge ACK, out-of-window RST is dropped', () => {
    const h = new Harness();
    h.acceptFrom({});
    h.take();
    h.send({ flags: RST, seq: 1001 + 300_000 }); // beyond the 256 KiB window
    expect(h.out.length).toBe(0);
    expect(h.stack.counters[TcpCounter.OutOfWindow]).toBe(1);
    h.send({ flags: RST, seq: 1001 + 10 });
    expect(h.take().map((s) => s.flags)).toEqual([ACK]);
    expect(h.stack.counters[TcpCounter.RstChallenge]).toBe(1);
    h.send({ flags: RST, seq: 1001 });
    expect(h.events).toEqual(['accept', 'reset', 'closed']);
    expect(h.stack.connectionCount).toBe(0);
  });

  it('SYN in a synchronized state draws a challenge ACK (RFC 5961 §4)', () => {
    const h = new Harness();
    h.acceptFrom({});
    h.take();
    h.send({ flags: SYN, seq: 1001 });
    expect(h.take().map((s) => s.flags)).toEqual([ACK]);
    expect(h.stack.counters[TcpCounter.SynInWindow]).toBe(1);
    expect(h.conn!.stateName).toBe('ESTABLISHED');
  });

  it('FIN-WAIT-1 / FIN-WAIT-2 / CLOSING / CLOSE-WAIT / LAST-ACK / TIME-WAIT: RST ends the connection', () => {
    for (const target of ['FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSING', 'CLOSE-WAIT', 'LAST-ACK', 'TIME-WAIT']) {
      const h = new Harness();
      const iss = h.acceptFrom({});
      const c = h.conn!;
      if (target.startsWith('FIN-WAIT') || target === 'CLOSING') {
        h.stack.shutdownWrite(c); h.stack.flush(h.now);
        if (target === 'FIN-WAIT-2') h.send({ flags: ACK, seq: 1001, ack: iss + 2 });
        if (target === 'CLOSING') h.send({ flags: FIN | ACK, seq: 1001, ack: iss + 1 });
      } else if (target === 'TIME-WAIT') {
        h.stack.close(c); h.stack.flush(h.now);
        h.send({ flags: ACK, seq: 1001, ack: iss + 2 });
        h.send({ flags: FIN | ACK, seq: 1001, ack: iss + 2 });
      } else {
        h.send({ flags: FIN | ACK, seq: 1001, ack: iss + 1 });
        if (target === 'LAST-ACK') { h.stack.close(c); h.stack.flush(h.now); }
      }
      expect(c.stateName).toBe(target);
      h.send({ flags: RST, seq: target.startsWith('FIN-WAIT') ? 1001 : 1002 });
      expect(h.stack.connectionCount).toBe(0);
      if (target.startsWith('FIN-WAIT')) expect(h.events.slice(-2)).toEqual(['reset', 'closed']);
    }
  });

  it('abort() sends RST and reports closed', () => {
    const h = new Harness();
    const iss = h.acceptFrom({});
    h.take();
    h.stack.abort(h.conn!);
    h.stack.flush(h.now);
    const r = h.last();
    expect(r.flags).toBe(RST);
    expect(r.seq).toBe(iss + 1);
    expect(h.events).toEqual(['accept', 'closed']);
  });
});

describe('input validation counters', () => {
  it('counts bad checksums and malformed headers', () => {
    const h = new Harness();
    const buf = new Uint8Array(20);
    buf[12] = 5 << 4;
    h.stack.input(PEER, LOCAL, buf, 0, 20, 0);
    expect(h.stack.counters[TcpCounter.BadChecksum]).toBe(1);
    h.stack.input(PEER, LOCAL, buf, 0, 10, 0);
    expect(h.stack.counters[TcpCounter.BadHeader]).toBe(1);
  });

  it('counter table and index enum agree', () => {
    const keys = Object.keys(C);
    expect(keys.length).toBe(TCP_COUNTER_DESCS.length);
    TCP_COUNTER_DESCS.forEach((d, i) => {
      expect((C as Record<string, number>)[counterKey(d.name)]).toBe(i);
      expect(['error', 'warn', 'info']).toContain(d.severity);
    });
  });
});
