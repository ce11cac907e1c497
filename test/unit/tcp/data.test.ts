import { describe, expect, it } from 'vitest';
import { TcpFlag } from '../../../src/net/wire/tcp.js';
import { TcpCounter } from '../../../src/net/tcp/counters.js';
import { Harness, bytes } from './harness.js';
import { IP_A, IP_B, SimNet } from './sim.js';
import { randomBytes, Receiver, Sender, sha256 } from './transfer.js';

const { ACK, FIN, PSH } = TcpFlag;
const TS = (v: number) => ({ timestamp: { tsVal: v, tsEcr: 0 } });

describe('receive path', () => {
  it('reassembles out-of-order segments into the rx fifo and reports SACK blocks (most recent first)', () => {
    const h = new Harness();
    const iss = h.acceptFrom();
    h.take();
    const data = bytes(4000, 3);
    const seg = (from: number, to: number, tsv: number) =>
      h.send({ flags: ACK, seq: 1001 + from, ack: iss + 1, payload: data.subarray(from, to), ...TS(tsv) });
    seg(1000, 2000, 200);
    let a = h.take().pop()!;
    expect(a.ack).toBe(1001);
    expect(a.sackBlocks).toEqual([[2001, 3001]]);
    seg(3000, 4000, 201);
    a = h.take().pop()!;
    expect(a.sackBlocks).toEqual([[4001, 5001], [2001, 3001]]);
    seg(2000, 2500, 202); // extends the first range, which becomes the most recent
    a = h.take().pop()!;
    expect(a.sackBlocks).toEqual([[2001, 3501], [4001, 5001]]);
    expect(h.conn!.rxFifo.maxDequeue).toBe(0);
    seg(0, 1000, 203); // fills the first hole: tail jumps to the end of the merged range
    a = h.take().pop()!;
    expect(a.ack).toBe(1001 + 2500);
    expect(a.sackBlocks).toEqual([[4001, 5001]]);
    seg(2500, 3000, 204);
    a = h.take().pop()!;
    expect(a.ack).toBe(1001 + 4000);
    expect(a.sackBlocks).toBeUndefined();
    const out = new Uint8Array(4000);
    expect(h.conn!.rxFifo.dequeue(out, 0, 4000)).toBe(4000);
    expect(out).toEqual(data);
    expect(h.stack.counters[TcpCounter.OooSegmentsIn]).toBe(3);
  });

  it('trims duplicate and overlapping data and re-ACKs pure duplicates', () => {
    const h = new Harness();
    const iss = h.acceptFrom({});
    h.take();
    const data = bytes(300);
    h.send({ flags: ACK | PSH, seq: 1001, ack: iss + 1, payload: data.subarray(0, 200) });
    h.send({ flags: ACK | PSH, seq: 1101, ack: iss + 1, payload: data.subarray(100, 300) }); // 100 old + 100 new
    h.send({ flags: ACK, seq: 1001, ack: iss + 1, payload: data.subarray(0, 100) }); // pure duplicate
    const acks = h.take().map((s) => s.ack);
    expect(acks[acks.length - 1]).toBe(1301);
    const out = new Uint8Array(300);
    expect(h.conn!.rxFifo.dequeue(out, 0, 300)).toBe(300);
    expect(out).toEqual(data);
  });

  it('PAWS drops segments with an old timestamp', () => {
    const h = new Harness();
    const iss = h.acceptFrom();
    h.send({ flags: ACK, seq: 1001, ack: iss + 1, payload: bytes(10), timestamp: { tsVal: 500, tsEcr: 0 } });
    h.send({ flags: ACK, seq: 1011, ack: iss + 1, payload: bytes(10), timestamp: { tsVal: 400, tsEcr: 0 } });
    expect(h.stack.counters[TcpCounter.PawsReject]).toBe(1);
    expect(h.conn!.rxFifo.maxDequeue).toBe(10);
  });

  it('window scaling: advertised window is rx fifo free space >> shift and shrinks as the app lags', () => {
    const h = new Harness({ rxFifoSize: 1 << 20 });
    const iss = h.acceptFrom();
    h.take();
    const c = h.conn!;
    expect(c.rcvWscale).toBe(5);
    h.send({ flags: ACK, seq: 1001, ack: iss + 1, payload: bytes(1000), ...TS(200) });
    h.send({ flags: ACK, seq: 2001, ack: iss + 1, payload: bytes(1000), ...TS(201) });
    const a = h.take().pop()!;
    expect(a.window).toBe(((1 << 20) - 2000) >> 5);
    expect(c.rxFifo.maxEnqueue).toBe((1 << 20) - 2000);
  });

  it('a slow application closes the window; reading re-opens it with a window update', () => {
    const h = new Harness({ rxFifoSize: 4096 });
    const iss = h.acceptFrom({});
    h.take();
    const c = h.conn!;
    let seq = 1001;
    for (let i = 0; i < 8; i++) { h.send({ flags: ACK, seq, ack: iss + 1, payload: bytes(512) }); seq += 512; }
    const last = h.take().pop()!;
    expect(last.window).toBe(0);
    h.send({ flags: ACK, seq, ack: iss + 1, payload: bytes(100) });
    expect(h.stack.counters[TcpCounter.OutOfWindow]).toBe(1);
    expect(h.take().pop()!.ack).toBe(seq);
    const buf = new Uint8Array(4096);
    c.rxFifo.dequeue(buf, 0, 100); // too little: receiver SWS avoidance keeps quiet
    h.stack.flush(h.now);
    expect(h.take()).toEqual([]);
    c.rxFifo.dequeue(buf, 0, 4096);
    h.stack.flush(h.now);
    const upd = h.take();
    expect(upd.length).toBe(1);
    expect(upd[0]!.window).toBe(4096);
    expect(h.stack.counters[TcpCounter.WindowUpdates]).toBe(1);
  });

  it('data after close() is answered with RST', () => {
    const h = new Harness();
    const iss = h.acceptFrom({});
    h.stack.close(h.conn!);
    h.stack.flush(h.now);
    h.send({ flags: ACK, seq: 1001, ack: iss + 2, payload: bytes(10) });
    expect(h.last().flags & TcpFlag.RST).toBeTruthy();
    expect(h.stack.counters[TcpCounter.DataAfterClose]).toBe(1);
    expect(h.events).toEqual(['accept', 'reset', 'closed']);
  });

  it('a FIN received out of order is processed once the gap fills', () => {
    const h = new Harness();
    const iss = h.acceptFrom({});
    h.send({ flags: ACK | FIN, seq: 1011, ack: iss + 1, payload: bytes(10) });
    expect(h.events).toEqual(['accept']);
    h.send({ flags: ACK, seq: 1001, ack: iss + 1, payload: bytes(10) });
    expect(h.events).toEqual(['accept', 'rx', 'peer-closed']);
    expect(h.conn!.stateName).toBe('CLOSE-WAIT');
    expect(h.last().ack).toBe(1022);
  });
});

describe('half-close', () => {
  it('shutdownWrite sends FIN while the peer can keep sending; both directions finish', () => {
    const net = new SimNet(3);
    const a = net.addStack(IP_A);
    const b = net.addStack(IP_B);
    const up = randomBytes(50_000, 1), down = randomBytes(300_000, 2);
    // Server: receives `up`; after the client's FIN it sends `down` and closes.
    const srvRx = new Receiver(() => b);
    srvRx.closeOnPeerClose = false;
    let srvConn: import('../../../src/net/tcp/connection.js').TcpConnection | null = null;
    const srvTx = new Sender(() => b, down);
    b.listen(IP_B, 80, {
      onAccept: (c) => { srvConn = c; srvRx.onAccept(c); },
      onRx: (c) => srvRx.onRx(c),
      onPeerClosed: (c) => { srvRx.peerClosed = true; srvTx.push(c); },
      onTxSpace: (c) => srvTx.onTxSpace(c),
      onClosed: () => { srvRx.closed = true; },
    });
    const cliRx = new Receiver(() => a);
    cliRx.closeOnPeerClose = false;
    const cliTx = new Sender(() => a, up, false);
    a.connect(IP_A, IP_B, 80, {
      onConnected: (c) => { cliRx.onConnected(c); cliTx.onConnected(c); a.shutdownWrite(c); },
      onRx: (c) => cliRx.onRx(c),
      onTxSpace: (c) => { cliTx.onTxSpace(c); },
      onPeerClosed: () => { cliRx.peerClosed = true; },
      onClosed: () => { cliRx.closed = true; },
    }, 0);
    net.run(60_000, () => cliRx.closed && srvRx.closed);
    expect(srvRx.received).toBe(up.length);
    expect(srvRx.hash.digest('hex')).toBe(sha256(up));
    expect(cliRx.received).toBe(down.length);
    expect(cliRx.hash.digest('hex')).toBe(sha256(down));
    expect(cliRx.peerClosed && srvRx.peerClosed).toBe(true);
    expect(srvConn).not.toBeNull();
    expect(b.connectionCount).toBe(0); // the passive side went through LAST-ACK
  });
});

describe('backpressure end to end', () => {
  it('a paused reader closes the window, the sender probes, and the transfer completes after reading resumes', () => {
    const net = new SimNet(11);
    net.keepLog = false;
    const cfg = { rxFifoSize: 16384, txFifoSize: 16384 };
    const a = net.addStack(IP_A, cfg);
    const b = net.addStack(IP_B, cfg);
    net.setLink(IP_A, IP_B, { delayMs: 5 });
    net.setLink(IP_B, IP_A, { delayMs: 5 });
    const data = randomBytes(200_000, 4);
    const rx = new Receiver(() => b);
    rx.paused = true;
    b.listen(IP_B, 80, rx);
    const tx = new Sender(() => a, data);
    a.connect(IP_A, IP_B, 80, tx, 0);
    net.run(5_000);
    const sc = tx.conn!, rc = rx.conn!;
    expect(rc.rxFifo.isFull).toBe(true);
    expect(sc.sndWnd).toBe(0);
    // Everything the app wrote sits in the two bounded fifos; the sender app is blocked.
    expect(sc.txFifo.maxDequeue + rc.rxFifo.maxDequeue).toBe(tx.sent);
    expect(tx.sent).toBeLessThan(2 * 16384 + 1);
    expect(sc.flightSize).toBe(0);
    expect(a.counters[TcpCounter.PersistProbes]).toBeGreaterThan(0);
    expect(a.counters[TcpCounter.Retransmits]).toBe(0);
    rx.paused = false;
    rx.drain();
    b.flush(net.now);
    net.run(60_000, () => rx.closed && tx.closed);
    expect(rx.received).toBe(data.length);
    expect(rx.hash.digest('hex')).toBe(sha256(data));
  });
});
