/**
 * TcpStack: one per thread. Owns the listeners, the connection table (keyed by 4-tuple), the timer queue
 * and the list of connections with pending app requests. The packet graph feeds it with `input()` and drives
 * timers with `pollAt()`/`poll()`; segments leave through the `TcpSegmentSink` given at construction.
 */
import { TcpOptions, TcpView, TcpWireError, TcpFlag, TCP_HEADER_LEN, tcpOptionsLength, writeTcpOptions } from '../wire/tcp.js';
import { roundUpPow2 } from '../../session/fifo.js';
import { resolveTcpConfig, type TcpConfig } from './config.js';
import { TcpConnection, windowScaleFor, type TcpConnectionContext } from './connection.js';
import { TCP_COUNTER_COUNT, TCP_COUNTER_DESCS, TcpCounter } from './counters.js';
import { TcpSecrets } from './secrets.js';
import { checkSynCookie, decodeCookieTsBits, encodeCookieTsBits, makeSynCookie } from './syn-cookie.js';
import { TimerQueue } from './timer-queue.js';
import { TcpState, type TcpAppHandler, type TcpListenOptions, type TcpListener, type TcpSegmentSink } from './types.js';


/** Options of `TcpStack.input`. */
export const TcpInputFlag = {
  /** The checksum was verified or never computed (device offload): do not verify. */
  CHECKSUM_OK: 1,
  /** Do not flush after this segment: the caller calls `flush(now)` after its vector. */
  NO_FLUSH: 2,
} as const;

export type TcpApiError = 'address-in-use' | 'no-ports' | 'table-full' | 'invalid-argument';
export type TcpResult<T> = { ok: true; value: T } | { ok: false; error: TcpApiError };

export interface TcpConnectOptions {
  localPort?: number;
  rxFifoSize?: number;
  txFifoSize?: number;
  appCtx?: unknown;
  /** MTU of the outgoing interface (MSS = mtu - 40); the stack's `mtu` otherwise. */
  mtu?: number;
}

export interface TcpStackOptions {
  /** Secret for ISNs, SYN cookies and timestamp offsets (random when absent). */
  secret?: Uint8Array;
}

function tupleHash(localIp: number, localPort: number, remoteIp: number, remotePort: number): number {
  let h = Math.imul(remoteIp ^ 0x7f4a7c15, 0x9e3779b1) ^ Math.imul(localIp, 0x85ebca6b);
  h ^= Math.imul(((remotePort << 16) | localPort) ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff; // small-integer keys keep the Map fast
}

export class TcpStack implements TcpConnectionContext {
  readonly config: TcpConfig;
  /** Counter values indexed by TcpCounter (see TCP_COUNTER_DESCS). */
  readonly counters = new Float64Array(TCP_COUNTER_COUNT);
  readonly sink: TcpSegmentSink;
  readonly txView = new TcpView();
  readonly txOpts = new TcpOptions();
  private readonly rxView = new TcpView();
  private readonly rxOpts = new TcpOptions();
  private readonly secrets: TcpSecrets;
  private readonly table = new Map<number, TcpConnection>();
  private connCount = 0;
  private readonly listeners = new Map<number, TcpListener[]>();
  private readonly timers = new TimerQueue<TcpConnection>();
  private readonly pendingList: TcpConnection[] = [];
  private ephemeralCursor: number;

  constructor(sink: TcpSegmentSink, config: Partial<TcpConfig> = {}, opts: TcpStackOptions = {}) {
    this.config = resolveTcpConfig(config);
    this.sink = sink;
    this.secrets = new TcpSecrets(opts.secret);
    const span = this.config.ephemeralPortMax - this.config.ephemeralPortMin + 1;
    this.ephemeralCursor = this.secrets.hash(4, 0, 0, 0, 0) % span;
  }

  static readonly counterDescs = TCP_COUNTER_DESCS;

  // --- control ---------------------------------------------------------------------------------------------

  /** Listen on localIp:port (localIp 0 = any address). */
  listen(localIp: number, port: number, handler: TcpAppHandler, opts: TcpListenOptions = {}): TcpResult<TcpListener> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, error: 'invalid-argument' };
    const list = this.listeners.get(port) ?? [];
    if (list.some((l) => l.localIp === (localIp >>> 0))) return { ok: false, error: 'address-in-use' };
    const l: TcpListener = {
      localIp: localIp >>> 0, localPort: port, handler,
      backlog: opts.backlog ?? this.config.synBacklog,
      rxFifoSize: opts.rxFifoSize ?? this.config.rxFifoSize,
      txFifoSize: opts.txFifoSize ?? this.config.txFifoSize,
      mtu: opts.mtu ?? this.config.mtu,
      halfOpen: 0, accepted: 0, synCookiesSent: 0, synBacklogFull: 0,
    };
    list.push(l);
    this.listeners.set(port, list);
    return { ok: true, value: l };
  }

  /** Stop listening; established connections stay. */
  unlisten(l: TcpListener): void {
    const list = this.listeners.get(l.localPort);
    if (!list) return;
    const i = list.indexOf(l);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(l.localPort);
  }

  /** Active open: sends SYN now. The connection reports through `handler`. */
  connect(localIp: number, remoteIp: number, remotePort: number, handler: TcpAppHandler, now: number,
    opts: TcpConnectOptions = {}): TcpResult<TcpConnection> {
    if (!Number.isInteger(remotePort) || remotePort < 1 || remotePort > 65535) return { ok: false, error: 'invalid-argument' };
    if (this.connCount >= this.config.maxConnections) {
      this.counters[TcpCounter.ConnTableFull]++;
      return { ok: false, error: 'table-full' };
    }
    let port = opts.localPort ?? 0;
    if (port !== 0) {
      if (this.lookup(localIp, port, remoteIp, remotePort)) return { ok: false, error: 'address-in-use' };
    } else {
      port = this.pickEphemeral(localIp, remoteIp, remotePort);
      if (port === 0) return { ok: false, error: 'no-ports' };
    }
    const c = new TcpConnection(this, localIp, port, remoteIp, remotePort, handler,
      opts.rxFifoSize ?? this.config.rxFifoSize, opts.txFifoSize ?? this.config.txFifoSize, now, opts.mtu ?? this.config.mtu);
    c.appCtx = opts.appCtx;
    this.insert(c);
    this.counters[TcpCounter.ActiveOpens]++;
    c.openActive(this.secrets.isn(now, localIp, port, remoteIp, remotePort),
      this.config.timestamps ? this.secrets.tsOffset(localIp, port, remoteIp, remotePort) : 0, now);
    return { ok: true, value: c };
  }

  private pickEphemeral(localIp: number, remoteIp: number, remotePort: number): number {
    const { ephemeralPortMin: min, ephemeralPortMax: max } = this.config;
    const span = max - min + 1;
    for (let i = 0; i < span; i++) {
      this.ephemeralCursor = (this.ephemeralCursor + 1) % span;
      const p = min + this.ephemeralCursor;
      if (!this.lookup(localIp, p, remoteIp, remotePort) && !this.listeners.has(p)) return p;
    }
    return 0;
  }

  /** The app queued data in conn.txFifo: send at the next flush. */
  send(conn: TcpConnection): void { this.markPending(conn); }
  /** Half-close: FIN after the queued data; keep receiving. */
  shutdownWrite(conn: TcpConnection): void { conn.requestShutdownWrite(); }
  /** Close both directions (FIN after the queued data). */
  close(conn: TcpConnection): void { conn.requestClose(); }
  /** Reset the connection (RST). */
  abort(conn: TcpConnection): void { conn.requestAbort(); }

  // --- data path -------------------------------------------------------------------------------------------

  /**
   * One received TCP segment buf[off, off+len) from srcIp to dstIp (the IP layer already checked addresses).
   * `flags` (TcpInputFlag): CHECKSUM_OK when the device vouched for the checksum; NO_FLUSH when the caller
   * feeds a vector of segments and calls `flush(now)` once after it (one ACK per connection per vector).
   */
  input(srcIp: number, dstIp: number, buf: Uint8Array, off: number, len: number, now: number, flags = 0): void {
    const c = this.counters;
    c[TcpCounter.SegmentsIn]++;
    const v = this.rxView;
    if (v.reset(buf, off, len) !== TcpWireError.None) { c[TcpCounter.BadHeader]++; return; }
    if (this.config.verifyChecksum && !(flags & TcpInputFlag.CHECKSUM_OK) && !v.verifyChecksum(srcIp, dstIp)) {
      c[TcpCounter.BadChecksum]++;
      return;
    }
    const o = this.rxOpts;
    if (v.parseOptions(o) !== TcpWireError.None) { c[TcpCounter.BadOptions]++; return; }
    srcIp >>>= 0;
    dstIp >>>= 0;
    const conn = this.lookup(dstIp, v.dstPort, srcIp, v.srcPort);
    if (conn !== null) {
      const isSyn = (v.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === TcpFlag.SYN;
      if (!(isSyn && conn.canRecycleTimeWait(v, o))) {
        if (flags & TcpInputFlag.NO_FLUSH) {
          this.deferOutput = true;
          try {
            conn.input(v, o, now);
          } finally {
            this.deferOutput = false;
          }
        } else {
          conn.input(v, o, now);
          this.flush(now);
        }
        return;
      }
      c[TcpCounter.TimeWaitRecycled]++;
      conn.forceRelease();
    }
    const l = this.findListener(dstIp, v.dstPort);
    if (l === null) this.rejectClosed(srcIp, dstIp, v);
    else this.listenerInput(l, srcIp, dstIp, v, o, now);
    if (!(flags & TcpInputFlag.NO_FLUSH)) this.flush(now);
  }

  private listenerInput(l: TcpListener, srcIp: number, dstIp: number, v: TcpView, o: TcpOptions, now: number): void {
    const c = this.counters;
    const fl = v.flags;
    if (fl & TcpFlag.RST) { c[TcpCounter.ListenerBadSegment]++; return; }
    if (fl & TcpFlag.ACK) {
      if (!(fl & TcpFlag.SYN) && this.config.synCookies && this.acceptCookie(l, srcIp, dstIp, v, o, now)) return;
      c[TcpCounter.ListenerBadSegment]++;
      this.emitRst(dstIp, v.dstPort, srcIp, v.srcPort, v.ack, 0, false);
      return;
    }
    if (!(fl & TcpFlag.SYN)) { c[TcpCounter.ListenerBadSegment]++; return; }
    c[TcpCounter.PassiveOpens]++;
    if (l.halfOpen >= l.backlog) {
      c[TcpCounter.SynBacklogFull]++;
      l.synBacklogFull++;
      if (this.config.synCookies) this.sendCookieSynAck(l, srcIp, dstIp, v, o, now);
      else c[TcpCounter.SynDropped]++;
      return;
    }
    if (this.connCount >= this.config.maxConnections) { c[TcpCounter.ConnTableFull]++; return; }
    const conn = new TcpConnection(this, dstIp, v.dstPort, srcIp, v.srcPort, l.handler, l.rxFifoSize, l.txFifoSize, now, l.mtu);
    this.insert(conn);
    l.halfOpen++;
    conn.openPassive(l, v, o, this.secrets.isn(now, dstIp, v.dstPort, srcIp, v.srcPort),
      this.config.timestamps && o.tsPresent ? this.secrets.tsOffset(dstIp, v.dstPort, srcIp, v.srcPort) : 0, now);
  }

  private sendCookieSynAck(l: TcpListener, srcIp: number, dstIp: number, v: TcpView, o: TcpOptions, now: number): void {
    const cfg = this.config;
    const ourMss = l.mtu - 40;
    const mss = Math.min(o.mss > 0 ? o.mss : 536, ourMss);
    const cookie = makeSynCookie(this.secrets, now, dstIp, v.dstPort, srcIp, v.srcPort, v.seq, mss);
    const to = this.txOpts;
    to.clear();
    to.mss = ourMss;
    const peerWs = cfg.windowScaling && o.wscale >= 0;
    const ourWs = windowScaleFor(roundUpPow2(l.rxFifoSize));
    const sackOk = cfg.sack && o.sackPermitted;
    if (cfg.timestamps && o.tsPresent) {
      // Window scale and SACK survive in our TSval's low bits; without timestamps they are lost.
      to.tsPresent = true;
      const base = (now + this.secrets.tsOffset(dstIp, v.dstPort, srcIp, v.srcPort)) >>> 0;
      to.tsVal = ((base & ~63) | encodeCookieTsBits(peerWs ? o.wscale : -1, sackOk)) >>> 0;
      to.tsEcr = o.tsVal;
      to.sackPermitted = sackOk;
      if (peerWs) to.wscale = ourWs;
    }
    const win = Math.min(roundUpPow2(l.rxFifoSize), 0xffff);
    if (this.emitStateless(dstIp, v.dstPort, srcIp, v.srcPort, cookie, (v.seq + 1) >>> 0, TcpFlag.SYN | TcpFlag.ACK, win, to)) {
      this.counters[TcpCounter.SynCookiesSent]++;
      l.synCookiesSent++;
    }
  }

  private acceptCookie(l: TcpListener, srcIp: number, dstIp: number, v: TcpView, o: TcpOptions, now: number): boolean {
    const iss = (v.ack - 1) >>> 0;
    const peerIsn = (v.seq - 1) >>> 0;
    const mss = checkSynCookie(this.secrets, now, dstIp, v.dstPort, srcIp, v.srcPort, peerIsn, iss);
    if (mss === 0) { this.counters[TcpCounter.SynCookieBad]++; return false; }
    if (this.connCount >= this.config.maxConnections) { this.counters[TcpCounter.ConnTableFull]++; return true; }
    let wscale = -1, sackOk = false;
    const bits = o.tsPresent && this.config.timestamps ? decodeCookieTsBits(o.tsEcr) : null;
    if (bits) { wscale = bits.wscale; sackOk = bits.sackOk; }
    const conn = new TcpConnection(this, dstIp, v.dstPort, srcIp, v.srcPort, l.handler, l.rxFifoSize, l.txFifoSize, now, l.mtu);
    this.insert(conn);
    this.counters[TcpCounter.SynCookiesOk]++;
    conn.openFromCookie(l, v, o, iss,
      bits ? this.secrets.tsOffset(dstIp, v.dstPort, srcIp, v.srcPort) : 0, mss, wscale, sackOk, now);
    // The final ACK may carry data: process it as an ordinary segment now that the connection exists.
    if (!conn.isReleased && (v.payloadLen > 0 || (v.flags & TcpFlag.FIN))) conn.input(v, o, now);
    return true;
  }

  /** A segment for no connection and no listener (RFC 9293 §3.10.7.1). */
  private rejectClosed(srcIp: number, dstIp: number, v: TcpView): void {
    const fl = v.flags;
    if (fl & TcpFlag.RST) { this.counters[TcpCounter.RstToClosed]++; return; }
    this.counters[TcpCounter.NoListener]++;
    if (fl & TcpFlag.ACK) this.emitRst(dstIp, v.dstPort, srcIp, v.srcPort, v.ack, 0, false);
    else {
      const segLen = v.payloadLen + (fl & TcpFlag.SYN ? 1 : 0) + (fl & TcpFlag.FIN ? 1 : 0);
      this.emitRst(dstIp, v.dstPort, srcIp, v.srcPort, 0, (v.seq + segLen) >>> 0, true);
    }
  }

  private emitRst(localIp: number, localPort: number, remoteIp: number, remotePort: number, seq: number, ack: number,
    withAck: boolean): void {
    const o = this.txOpts;
    o.clear();
    if (this.emitStateless(localIp, localPort, remoteIp, remotePort, seq, ack, TcpFlag.RST | (withAck ? TcpFlag.ACK : 0), 0, o)) {
      this.counters[TcpCounter.ResetsOut]++;
    }
  }

  private emitStateless(localIp: number, localPort: number, remoteIp: number, remotePort: number, seq: number,
    ack: number, flags: number, window: number, o: TcpOptions): boolean {
    const optLen = tcpOptionsLength(o);
    const total = TCP_HEADER_LEN + optLen;
    const sink = this.sink;
    if (!sink.reserve(total)) { this.counters[TcpCounter.TxNoBuffer]++; return false; }
    const v = this.txView;
    v.bindForWrite(sink.txBuf, sink.txOff, total);
    v.srcPort = localPort; v.dstPort = remotePort; v.seq = seq; v.ack = ack; v.headerLen = total; v.flags = flags;
    v.window = window; v.checksum = 0; v.urgent = 0;
    if (optLen > 0) writeTcpOptions(sink.txBuf, sink.txOff + TCP_HEADER_LEN, o);
    if (this.config.fillChecksum) v.fillChecksum(localIp, remoteIp);
    sink.commit(localIp, remoteIp, total);
    this.counters[TcpCounter.SegmentsOut]++;
    return true;
  }

  /** Apply pending app requests (send/close/abort, window updates, tx-space callbacks). */
  flush(now: number): void {
    const list = this.pendingList;
    for (let i = 0; i < list.length; i++) {
      const conn = list[i]!;
      conn.setPending(false);
      conn.flush(now);
    }
    list.length = 0;
  }

  /** Run due timers, then flush. */
  poll(now: number): void {
    let conn: TcpConnection | null;
    while ((conn = this.timers.popDue(now)) !== null) {
      conn.onTimers(now);
      if (!conn.isReleased) this.schedule(conn);
    }
    this.flush(now);
  }

  /** When poll() should run next: 0 when requests are pending, Infinity when nothing is scheduled. */
  pollAt(): number {
    if (this.pendingList.length > 0) return 0;
    return this.timers.peekDeadline();
  }

  // --- table -----------------------------------------------------------------------------------------------

  lookup(localIp: number, localPort: number, remoteIp: number, remotePort: number): TcpConnection | null {
    localIp >>>= 0;
    remoteIp >>>= 0;
    let c = this.table.get(tupleHash(localIp, localPort, remoteIp, remotePort)) ?? null;
    while (c !== null) {
      if (c.remotePort === remotePort && c.localPort === localPort && c.remoteIp === remoteIp && c.localIp === localIp) return c;
      c = c.hashNext;
    }
    return null;
  }

  private findListener(localIp: number, port: number): TcpListener | null {
    const list = this.listeners.get(port);
    if (!list) return null;
    let any: TcpListener | null = null;
    for (const l of list) {
      if (l.localIp === localIp) return l;
      if (l.localIp === 0) any = l;
    }
    return any;
  }

  private insert(c: TcpConnection): void {
    const k = tupleHash(c.localIp, c.localPort, c.remoteIp, c.remotePort);
    c.hashNext = this.table.get(k) ?? null;
    this.table.set(k, c);
    this.connCount++;
  }

  // --- TcpConnectionContext ----------------------------------------------------------------------------------

  schedule(conn: TcpConnection): void {
    const d = conn.nextDeadline();
    if (d !== Infinity) this.timers.schedule(conn, d);
  }

  /** See TcpConnectionContext.deferOutput: set by `input` with NO_FLUSH. */
  deferOutput = false;

  markPending(conn: TcpConnection): void {
    if (conn.pending || conn.isReleased) return;
    conn.setPending(true);
    this.pendingList.push(conn);
  }

  release(conn: TcpConnection): void {
    const k = tupleHash(conn.localIp, conn.localPort, conn.remoteIp, conn.remotePort);
    let c = this.table.get(k) ?? null;
    let prev: TcpConnection | null = null;
    while (c !== null && c !== conn) { prev = c; c = c.hashNext; }
    if (c === null) return;
    if (prev === null) {
      if (conn.hashNext === null) this.table.delete(k);
      else this.table.set(k, conn.hashNext);
    } else prev.hashNext = conn.hashNext;
    conn.hashNext = null;
    this.connCount--;
  }

  // --- introspection -------------------------------------------------------------------------------------

  get connectionCount(): number { return this.connCount; }

  /** Every connection in the table (any state). */
  *connections(): IterableIterator<TcpConnection> {
    for (const head of this.table.values()) {
      for (let c: TcpConnection | null = head; c !== null; c = c.hashNext) yield c;
    }
  }

  listenerList(): TcpListener[] {
    return [...this.listeners.values()].flat();
  }

  /** Counter name → value, for `show tcp stats` (zero values included). */
  stats(): Record<string, number> {
    const out: Record<string, number> = {};
    TCP_COUNTER_DESCS.forEach((d, i) => { out[d.name] = this.counters[i]!; });
    return out;
  }

  /** Connections per state name. */
  stateCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.connections()) out[c.stateName] = (out[c.stateName] ?? 0) + 1;
    return out;
  }

  /** Drop every connection without sending anything (shutdown). */
  destroy(): void {
    for (const c of [...this.connections()]) c.forceRelease();
    this.pendingList.length = 0;
  }
}

export { TcpState };
