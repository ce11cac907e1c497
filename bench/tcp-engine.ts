/**
 * Micro-benchmark of the TCP engine alone: two TcpStacks joined by an in-memory lossless link (no IP, no
 * graph), one bulk transfer, simulated time advancing 1 µs per delivered segment. Reports goodput, segments
 * per second and heap per idle established connection.
 *   node dist/bench/tcp-engine.js [megabytes] [nomem] [tso]
 * `tso`: the sender's sink offers TSO (64 KiB segments of whole MSS), which the link delivers whole (as GRO would);
 * segments per second then counts super-segments as one.
 */
import { TcpStack } from '../src/net/tcp/stack.js';
import type { TcpConnection } from '../src/net/tcp/connection.js';
import type { TcpSegmentSink } from '../src/net/tcp/types.js';
import { DequeueNotify } from '../src/session/fifo.js';

const A = 0x0a000001, B = 0x0a000002;
const POOL = 4096, BUF = 2048, TSO_POOL = 512, TSO_BUF = 65536;

class RingLink {
  readonly bufs: Uint8Array[];
  readonly src: Uint32Array;
  readonly dst: Uint32Array;
  readonly len: Uint32Array;
  head = 0;
  tail = 0;
  constructor(readonly pool: number, readonly bufSize: number) {
    this.bufs = Array.from({ length: pool }, () => new Uint8Array(bufSize));
    this.src = new Uint32Array(pool);
    this.dst = new Uint32Array(pool);
    this.len = new Uint32Array(pool);
  }
  get size(): number { return this.tail - this.head; }
}

function makeSink(link: RingLink, tsoMax = 0): TcpSegmentSink {
  const sink: TcpSegmentSink = {
    txBuf: link.bufs[0]!, txOff: 0,
    reserve(maxLen: number): boolean {
      if (link.size >= link.pool || maxLen > link.bufSize) return false;
      this.txBuf = link.bufs[link.tail % link.pool]!;
      this.txOff = 0;
      return true;
    },
    commit(s: number, d: number, len: number): void {
      const i = link.tail % link.pool;
      link.src[i] = s; link.dst[i] = d; link.len[i] = len;
      link.tail++;
    },
  };
  if (tsoMax > 0) sink.tsoMaxSegment = () => tsoMax;
  return sink;
}

export function runTcpEngineBench(megabytes = 64, measureMemory = true, tso = false): { mbPerSec: number; segsPerSec: number; bytesPerIdleConn: number } {
  const link = tso ? new RingLink(TSO_POOL, TSO_BUF) : new RingLink(POOL, BUF);
  const cfg = { rxFifoSize: 1 << 20, txFifoSize: 1 << 20, delayedAckMs: 0 };
  const a = new TcpStack(makeSink(link, tso ? TSO_BUF - 20 : 0), cfg);
  const b = new TcpStack(makeSink(link), cfg);
  const total = megabytes * 1024 * 1024;
  const chunk = new Uint8Array(64 * 1024).map((_, i) => i & 0xff);
  const sink = new Uint8Array(64 * 1024);
  let sent = 0, received = 0, done = false;
  const push = (c: TcpConnection) => {
    while (sent < total) {
      const n = c.txFifo.enqueue(chunk, 0, Math.min(chunk.length, total - sent));
      if (n === 0) break;
      sent += n;
    }
    if (sent < total) c.txFifo.wantDequeueNotify(DequeueNotify.BelowThreshold, c.txFifo.size >>> 1);
    else a.close(c);
    a.send(c);
  };
  b.listen(B, 80, {
    onRx: (c) => { c.rxFifo.unsetEvent(); let n; while ((n = c.rxFifo.dequeue(sink, 0, sink.length)) > 0) received += n; },
    onPeerClosed: (c) => { b.close(c); },
    onClosed: () => { done = true; },
  });
  let now = 0;
  a.connect(A, B, 80, { onConnected: push, onTxSpace: push }, now);
  const t0 = process.hrtime.bigint();
  let segs = 0;
  while (!done && now < 1e7) {
    while (link.size > 0) {
      const i = link.head % link.pool;
      const st = link.dst[i] === B ? b : a;
      st.input(link.src[i]!, link.dst[i]!, link.bufs[i]!, 0, link.len[i]!, now);
      link.head++;
      segs++;
      now += 0.001;
    }
    const t = Math.min(a.pollAt(), b.pollAt());
    if (t === Infinity) break;
    now = Math.max(now, t);
    a.poll(now); b.poll(now);
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (received !== total) throw new Error(`received ${received} of ${total}`);

  if (!measureMemory) return { mbPerSec: total / 1048576 / secs, segsPerSec: segs / secs, bytesPerIdleConn: NaN };
  // Heap per idle established connection (fifo storage is lazy, so none is allocated).
  const n = 5000;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const srv = new TcpStack(makeSink(link), { timestamps: true });
  const cli = new TcpStack(makeSink(link), { timestamps: true });
  srv.listen(B, 81, {});
  for (let k = 0; k < n; k++) cli.connect(A, B, 81, {}, now);
  let guard = 0;
  while (link.size > 0 && guard++ < 10 * n) {
    const i = link.head % link.pool;
    (link.dst[i] === B ? srv : cli).input(link.src[i]!, link.dst[i]!, link.bufs[i]!, 0, link.len[i]!, now);
    link.head++;
  }
  gc?.();
  const after = process.memoryUsage().heapUsed;
  const perConn = (after - before) / (srv.connectionCount + cli.connectionCount);
  return { mbPerSec: total / 1048576 / secs, segsPerSec: segs / secs, bytesPerIdleConn: perConn };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mb = Number(process.argv[2] ?? 64);
  const tso = process.argv.includes('tso');
  const r = runTcpEngineBench(mb, !process.argv.includes('nomem'), tso);
  console.log(`tcp-engine${tso ? ' (tso)' : ''}: ${mb} MB  ${r.mbPerSec.toFixed(1)} MB/s  ${(r.segsPerSec / 1000).toFixed(0)}k segments/s  ` +
    `${(r.bytesPerIdleConn / 1024).toFixed(2)} KiB heap per idle connection`);
}
