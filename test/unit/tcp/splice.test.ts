// A spliced tx source: the send queue is the tx fifo, then the source; segments are built from both,
// bytes leave the source only when ACKed, retransmissions read it again, the FIN goes after its bytes.
import { describe, expect, it } from 'vitest';
import { TcpFlag, type TcpRepr } from '../../../src/net/wire/tcp.js';
import { TcpCounter } from '../../../src/net/tcp/counters.js';
import { TcpState, type TcpTxSource } from '../../../src/net/tcp/types.js';
import type { TcpConnection } from '../../../src/net/tcp/connection.js';
import type { TcpStack } from '../../../src/net/tcp/stack.js';
import { Harness, bytes } from './harness.js';
import { IP_A, IP_B, SimNet } from './sim.js';
import { randomBytes, Receiver, sha256 } from './transfer.js';

const { ACK, FIN, RST } = TcpFlag;

/** A source over `data`: the producer makes `written` bytes visible; ACKed bytes advance `head`. */
class ArraySource implements TcpTxSource {
  head = 0;
  written = 0;
  void = false;
  readonly drops: number[] = [];
  peeks = 0;
  constructor(readonly data: Uint8Array, readonly capacity = Infinity) {}
  get maxDequeue(): number { return this.void ? 0 : this.written - this.head; }
  /** Producer: make up to n more bytes visible (bounded by capacity, like a ring); returns how many. */
  produce(n: number): number {
    const k = Math.max(0, Math.min(n, this.data.length - this.written, this.capacity - (this.written - this.head)));
    this.written += k;
    return k;
  }
  peek(offset: number, dst: Uint8Array, dstOff: number, len: number): number {
    this.peeks++;
    if (this.void) return 0;
    const n = Math.max(0, Math.min(len, this.maxDequeue - offset));
    dst.set(this.data.subarray(this.head + offset, this.head + offset + n), dstOff);
    return n;
  }
  dequeueDrop(n: number): void {
    this.drops.push(n);
    this.head += Math.min(n, this.written - this.head);
  }
}

/** Established connection (peer MSS 1000, no SACK/timestamps) with `fifo` in the tx fifo and `src` spliced after it. */
function setup(fifo: Uint8Array, src: ArraySource, window = 60_000, opts: Partial<TcpRepr> = { mss: 1000 }) {
  const h = new Harness({ initialCwndSegments: 10 });
  const iss = h.acceptFrom(opts);
  const c = h.conn!;
  h.send({ flags: ACK, seq: 1001, ack: iss + 1, window });
  h.take();
  c.txFifo.enqueue(fifo, 0, fifo.length);
  expect(c.spliceTx(src)).toBe(true);
  h.stack.send(c);
  h.stack.flush(h.now);
  return { h, c, una: iss + 1 };
}

/** Payload bytes of the segments, in sequence order from `base`, checked contiguous. */
function joined(segs: TcpRepr[], base: number): Uint8Array {
  const sorted = segs.filter((s) => s.payload.length > 0).sort((a, b) => ((a.seq - base) | 0) - ((b.seq - base) | 0));
  const parts: Uint8Array[] = [];
  let at = base;
  for (const s of sorted) {
    expect(s.seq >>> 0).toBe(at >>> 0);
    parts.push(s.payload);
    at = (at + s.payload.length) >>> 0;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const concat = (a: Uint8Array, b: Uint8Array) => { const o = new Uint8Array(a.length + b.length); o.set(a); o.set(b, a.length); return o; };

describe('tx splice (connection)', () => {
  it('sends the fifo bytes, then the source bytes, in order across the boundary', () => {
    const head = bytes(1500, 3);
    const src = new ArraySource(bytes(5000, 9));
    src.produce(5000);
    const { h, una } = setup(head, src);
    const sent = h.take();
    // One segment straddles the boundary (bytes 1000..1999: 500 from the fifo, 500 from the source).
    expect(sent.some((s) => s.seq === una + 1000 && s.payload.length === 1000)).toBe(true);
    expect(joined(sent, una)).toEqual(concat(head, src.data));
    expect(src.drops).toEqual([]); // nothing leaves the source before it is ACKed
  });

  it('ACKs drop bytes from the fifo first, then from the source', () => {
    const src = new ArraySource(bytes(5000, 9));
    src.produce(5000);
    const { h, c, una } = setup(bytes(1500, 3), src);
    h.take();
    h.send({ flags: ACK, seq: 1001, ack: una + 1000, window: 60_000 });
    expect(c.txFifo.maxDequeue).toBe(500);
    expect(src.drops).toEqual([]);
    h.send({ flags: ACK, seq: 1001, ack: una + 3000, window: 60_000 });
    expect(c.txFifo.maxDequeue).toBe(0);
    expect(src.drops).toEqual([1500]);
    expect(src.maxDequeue).toBe(3500);
    h.send({ flags: ACK, seq: 1001, ack: una + 6500, window: 60_000 });
    expect(src.drops).toEqual([1500, 3500]);
    expect(src.maxDequeue).toBe(0);
    expect(c.flightSize).toBe(0);
  });

  it('sends bytes the source gains later when told, and reports the splice in info()', () => {
    const src = new ArraySource(bytes(4000, 5));
    const { h, c, una } = setup(bytes(100, 1), src);
    expect(joined(h.take(), una).length).toBe(100);
    src.produce(2500);
    h.stack.send(c);
    h.stack.flush(h.now);
    const more = h.take();
    expect(joined(more, una + 100)).toEqual(src.data.subarray(0, 2500));
    expect(c.info(h.now).txSpliced).toEqual({ used: 2500 });
  });

  it('a retransmission after loss reads the source again', () => {
    const src = new ArraySource(bytes(6000, 7));
    src.produce(6000);
    const { h, c, una } = setup(bytes(200, 2), src);
    const first = h.take();
    expect(first.length).toBe(7); // 6200 bytes in 1000-byte segments
    const peeksBefore = src.peeks;
    // Segment 3 (bytes 2000..2999, all from the source) is lost: three duplicate ACKs for it.
    h.send({ flags: ACK, seq: 1001, ack: una + 2000, window: 60_000 });
    for (let i = 0; i < 3; i++) h.send({ flags: ACK, seq: 1001, ack: una + 2000, window: 60_000 });
    const rx = h.take().filter((s) => s.payload.length > 0);
    expect(rx.length).toBeGreaterThan(0);
    expect(rx[0]!.seq).toBe(una + 2000);
    expect(rx[0]!.payload).toEqual(src.data.subarray(1800, 2800));
    expect(src.peeks).toBeGreaterThan(peeksBefore);
    expect(src.drops).toEqual([1800]);
    // And after an RTO everything unacknowledged is read from the source once more.
    h.advance(5000);
    const afterRto = h.take().filter((s) => s.payload.length > 0);
    expect(afterRto[0]!.seq).toBe(una + 2000);
    expect(afterRto[0]!.payload).toEqual(src.data.subarray(1800, 2800));
    expect(c.retransmitted).toBeGreaterThanOrEqual(2); // segments
  });

  it('puts the FIN after the source bytes, even when they exceed the window', () => {
    const src = new ArraySource(bytes(3000, 4));
    src.produce(3000);
    const { h, c, una } = setup(bytes(100, 1), src, 2000);
    h.stack.shutdownWrite(c);
    h.stack.flush(h.now);
    const sent = h.take();
    expect(sent.some((s) => s.flags & FIN)).toBe(false); // window-limited: FIN still waits
    h.send({ flags: ACK, seq: 1001, ack: una + 2000, window: 2000 });
    const rest = h.take();
    const fin = rest.find((s) => s.flags & FIN)!;
    expect(fin).toBeDefined();
    expect((fin.seq + fin.payload.length) >>> 0).toBe((una + 3100) >>> 0);
    expect(joined([...sent, ...rest], una)).toEqual(concat(bytes(100, 1), src.data));
    h.send({ flags: ACK, seq: 1001, ack: una + 3101, window: 2000 });
    expect(c.state).toBe(TcpState.FinWait2);
    expect(src.maxDequeue).toBe(0);
  });

  it('after the FIN went out, bytes the source gains are not sent', () => {
    const src = new ArraySource(bytes(3000, 4));
    src.produce(1000);
    const { h, c, una } = setup(new Uint8Array(0), src);
    h.stack.shutdownWrite(c);
    h.stack.flush(h.now);
    const fin = h.take().find((s) => s.flags & FIN)!;
    expect((fin.seq + fin.payload.length) >>> 0).toBe((una + 1000) >>> 0);
    src.produce(2000); // a misbehaving producer
    h.stack.send(c);
    h.stack.flush(h.now);
    h.advance(3000); // an RTO resends up to the FIN only
    const later = h.take();
    for (const s of later) expect(((s.seq + s.payload.length) - (una + 1000)) | 0).toBeLessThanOrEqual(0);
  });

  it('a source that goes void stops sending (counted when it happens under a send); abort resets', () => {
    const src = new ArraySource(bytes(8000, 6));
    src.produce(8000);
    const { h, c, una } = setup(new Uint8Array(0), src, 4000);
    expect(joined(h.take(), una).length).toBe(4000);
    src.void = true;
    h.send({ flags: ACK, seq: 1001, ack: una + 1000, window: 60_000 });
    expect(h.take().every((s) => s.payload.length === 0)).toBe(true);
    // Void between the length check and the copy: the segment goes out short and is counted.
    src.void = false;
    const realPeek = src.peek.bind(src);
    src.peek = () => 0;
    h.send({ flags: ACK, seq: 1001, ack: una + 2000, window: 60_000 });
    expect(h.stack.counters[TcpCounter.TxSourceShort]).toBeGreaterThan(0);
    src.peek = realPeek;
    h.stack.abort(c);
    h.stack.flush(h.now);
    expect(h.take().some((s) => s.flags & RST)).toBe(true);
    expect(h.events).toContain('closed');
  });

  it('refuses a second splice', () => {
    const src = new ArraySource(bytes(10));
    const { c } = setup(new Uint8Array(0), src);
    expect(c.spliceTx(new ArraySource(bytes(10)))).toBe(false);
  });
});

describe('tx splice over a lossy link', () => {
  it('moves a bounded source of 2 MB with loss and reordering; the receiver gets every byte in order', () => {
    const net = new SimNet(21, { delayMs: 5, rate: 0, queueBytes: 1 << 30, loss: 0.02, reorder: 0.02, dup: 0.01 });
    net.keepLog = false;
    const a = net.addStack(IP_A);
    const b = net.addStack(IP_B);
    const data = randomBytes(2_000_000, 4);
    const reply = bytes(10, 8);
    // A ring-sized source (64 KiB): the producer refills it only as ACKs drain it.
    const src = new ArraySource(data, 65536);
    let srv: TcpConnection | null = null;
    const refill = (st: TcpStack, c: TcpConnection) => {
      if (src.produce(data.length) > 0) st.send(c);
      if (src.written === data.length && !finQueued) { finQueued = true; st.close(c); }
    };
    let finQueued = false;
    b.listen(IP_B, 80, {
      onAccept: (c) => {
        srv = c;
        c.txFifo.enqueue(reply, 0, reply.length);
        c.spliceTx(src);
        refill(b, c);
      },
      onClosed: () => {},
    });
    const rx = new Receiver(() => a);
    a.connect(IP_A, IP_B, 80, rx, 0);
    net.run(600_000, () => {
      if (srv && src.written < data.length) refill(b, srv);
      return rx.closed;
    });
    expect(rx.received).toBe(reply.length + data.length);
    expect(rx.hash.digest('hex')).toBe(sha256(concat(reply, data)));
    expect(src.head).toBe(data.length);
    expect(net.dropped).toBeGreaterThan(0);
  });
});

describe('tx splice wakeups and alignment', () => {
  it('asks a drained source for a signal only when little is in flight, and looks again when bytes came meanwhile', () => {
    const src = new ArraySource(bytes(40_000, 5));
    const asks: number[] = [];
    let raceBytes = 0;
    Object.assign(src, {
      wantData(known: number): boolean {
        asks.push(known);
        src.produce(raceBytes); // the producer writes between the connection's look and the ask
        raceBytes = 0;
        return src.maxDequeue > known;
      },
    });
    src.produce(500);
    const { h, c, una } = setup(new Uint8Array(0), src);
    expect(joined(h.take(), una).length).toBe(500);
    expect(asks).toEqual([500]); // all sent, 500 bytes in flight: ACKs would not come back soon enough
    // More bytes while asking: the connection sends them at the next flush without another signal.
    src.produce(300);
    raceBytes = 200;
    h.stack.send(c);
    h.stack.flush(h.now);
    // The re-look happens within the same flush (the connection went back on the pending list).
    expect(asks).toEqual([500, 800, 1000]);
    expect(joined(h.take(), una + 500)).toEqual(src.data.subarray(500, 1000));
    // Window-limited (much unsent): no ask; the peer's ACKs drive output.
    asks.length = 0;
    src.produce(30_000);
    h.send({ flags: ACK, seq: 1001, ack: una + 1000, window: 8000 });
    expect(h.take().some((s) => s.payload.length > 0)).toBe(true);
    expect(asks).toEqual([]);
    expect(c.flightSize).toBeGreaterThan(0);
  });

  it('asks the sink to place the segment so the source bytes land at their own alignment mod 8', () => {
    const src = new ArraySource(bytes(9000, 5));
    Object.assign(src, { alignment: (offset: number) => (src.head + offset + 3) & 7 });
    src.produce(9000);
    const placed: Array<{ off: number }> = [];
    const h = new Harness({ initialCwndSegments: 10 });
    const sink = (h.stack as unknown as { sink: { reserve(n: number, a?: number): boolean; txOff: number } }).sink;
    const reserve = sink.reserve.bind(sink);
    sink.reserve = (n: number, a?: number) => {
      const ok = reserve(n);
      if (ok && a !== undefined) sink.txOff -= (sink.txOff - a) & 7;
      placed.push({ off: a === undefined ? -1 : sink.txOff });
      return ok;
    };
    const iss = h.acceptFrom({ mss: 1000, timestamp: { tsVal: 100, tsEcr: 0 } });
    const c = h.conn!;
    h.send({ flags: ACK, seq: 1001, ack: iss + 1, window: 60_000, timestamp: { tsVal: 101, tsEcr: 0 } });
    h.take();
    placed.length = 0;
    c.txFifo.enqueue(bytes(13, 1), 0, 13);
    c.spliceTx(src);
    h.stack.send(c);
    h.stack.flush(h.now);
    const segs = h.take().filter((s) => s.payload.length > 0);
    expect(joined(segs, iss + 1)).toEqual(concat(bytes(13, 1), src.data));
    const hl = 32; // with the timestamp option
    expect(placed.length).toBe(segs.length);
    segs.forEach((s, i) => {
      const queueOff = (s.seq - (iss + 1)) | 0;
      const fifoPart = Math.max(0, 13 - queueOff);
      const srcOff = Math.max(0, queueOff - 13);
      expect((placed[i]!.off + hl + fifoPart) & 7).toBe((srcOff + 3) & 7);
    });
  });
});
