/**
 * One TCP connection: the RFC 9293 state machine with RFC 7323 (window scale, timestamps, PAWS), RFC 2018 SACK
 * (both sides), RFC 6298 retransmission timer, RFC 5681/6582 fast retransmit and NewReno recovery, SACK-based
 * recovery in the spirit of RFC 6675, RFC 5961 challenge ACKs, delayed ACKs, zero-window probing and
 * receiver/sender silly-window avoidance.
 *
 * The connection never reads a clock or owns I/O: the stack hands it parsed segments with `now`, and it writes
 * segments through the stack's sink. Payload moves between packet buffers and the fifos (or a spliced tx source,
 * see `spliceTx`) by a single copy.
 */
import { DequeueNotify, SessionFifo } from '../../session/fifo.js';
import { TCP_HEADER_LEN, TCP_MAX_HEADER_LEN, TcpFlag, tcpOptionsLength, writeTcpOptions, type TcpOptions, type TcpView } from '../wire/tcp.js';
import type { TcpConfig } from './config.js';
import type { CongestionControl } from './congestion.js';
import { TcpCounter } from './counters.js';
import { CubicCc } from './cubic.js';
import { NewRenoCc } from './newreno.js';
import { RttEstimator } from './rtt.js';
import { SackScoreboard } from './sack-scoreboard.js';
import { seqGe, seqGt, seqLe, seqLt } from './seq.js';
import type { TimerOwner } from './timer-queue.js';
import { TCP_STATE_NAMES, TcpState, type TcpAppHandler, type TcpListener, type TcpSegmentSink, type TcpTxSource } from './types.js';

/** What a connection needs from its stack. */
export interface TcpConnectionContext {
  readonly config: TcpConfig;
  readonly counters: Float64Array;
  readonly sink: TcpSegmentSink;
  /** Scratch objects for building outgoing segments. */
  readonly txView: TcpView;
  readonly txOpts: TcpOptions;
  /** Re-evaluate this connection's timers. */
  schedule(conn: TcpConnection): void;
  /** Queue the connection for the next flush (app requests, window updates). */
  markPending(conn: TcpConnection): void;
  /** True while the stack takes a vector of segments: output waits for the flush after it (ACK per vector). */
  readonly deferOutput: boolean;
  /** Remove from the connection table (final). */
  release(conn: TcpConnection): void;
}

// Connection flag bits.
const F_TS = 1 << 0; // timestamps negotiated
const F_SACK = 1 << 1; // SACK permitted both ways
const F_FIN_PENDING = 1 << 2; // the app asked to send FIN after the queued data
const F_FIN_SENT = 1 << 3; // our FIN has been sent at least once (finSeq valid)
const F_FIN_RCVD = 1 << 4; // the peer's FIN has been processed
const F_APP_CLOSED = 1 << 5; // close(): the app will not read any more
const F_ACK_NOW = 1 << 6;
/** Timestamp ticks a segment may lag TS.Recent and still pass PAWS (Linux: TCP_PAWS_WINDOW). */
const PAWS_SLACK = 1;
const F_PENDING = 1 << 7; // in the stack's pending list
const F_FIN_OOO = 1 << 8; // a FIN beyond rcvNxt was seen (rcvFinSeq valid)
const F_RECOVERY = 1 << 9; // in fast recovery
const F_RTT_TIMING = 1 << 10; // Karn timing of one segment (no timestamps)
const F_WND_UPDATE = 1 << 11; // the app read data: maybe advertise a larger window
const F_TX_SPACE = 1 << 12; // deliver onTxSpace at flush
const F_PASSIVE = 1 << 13; // created by a listener
const F_ABORT = 1 << 14; // abort() requested
const F_RELEASED = 1 << 15;
const F_WS_OFFERED = 1 << 16; // we put a window-scale option in our SYN
const F_CLOSED_NOTIFIED = 1 << 17; // the app got its final callback
const F_SURFACED = 1 << 18; // the app knows this connection (connect() returned it, or onAccept ran)
const F_WS_OK = 1 << 19; // window scaling in effect
const F_SWS_OVERRIDE = 1 << 20; // the persist timer allows one small segment
const F_TLP_OUT = 1 << 21; // a tail loss probe is outstanding (no ACK advanced since)

/**
 * A spliced source that ran dry is asked to signal new bytes only with less than this many segments in
 * flight: with more, the peer's ACKs (every second segment) run output soon, and it finds them itself.
 */
const SOURCE_WAKE_FLIGHT_SEGMENTS = 8;
const MAX_SACK_BLOCKS_WITH_TS = 3;
const MAX_SACK_BLOCKS_NO_TS = 4;

/** Smallest shift that makes `size` fit the 16-bit window field (RFC 7323 §2.3: at most 14). */
export function windowScaleFor(size: number): number {
  let s = 0;
  while (s < 14 && size >>> s > 0xffff) s++;
  return s;
}

export class TcpConnection implements TimerOwner {
  state: TcpState = TcpState.Closed;
  flags = 0;
  readonly localIp: number;
  readonly localPort: number;
  readonly remoteIp: number;
  readonly remotePort: number;
  /** Connection-table chaining (owned by the stack). */
  hashNext: TcpConnection | null = null;
  listener: TcpListener | null = null;
  app: TcpAppHandler;
  /** Opaque slot for the session layer. */
  appCtx: unknown = undefined;
  readonly rxFifo: SessionFifo;
  readonly txFifo: SessionFifo;
  /** Bytes to send after the tx fifo's (see `spliceTx`); null when the fifo is the whole send queue. */
  private txSource: TcpTxSource | null = null;
  private readonly ctx: TcpConnectionContext;

  // Send sequence space (RFC 9293 §3.3.1). sndMax is the highest sequence sent (sndNxt goes back after RTO).
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndMax = 0;
  sndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  /** Shift applied to windows the peer advertises. */
  sndWscale = 0;
  maxSndWnd = 0;
  /** Payload bytes per segment (peer MSS, our MTU, minus the timestamp option). */
  sndMss = 536;
  finSeq = 0;

  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  /** Right edge of the window we advertised (never moves left). */
  rcvAdv = 0;
  /** Shift applied to windows we advertise. */
  rcvWscale = 0;
  /** MSS we advertise. */
  readonly rcvMss: number;
  rcvFinSeq = 0;
  lastAckSent = 0;
  tsRecent = 0;
  tsOffset = 0;
  private lastOowAckAt = -Infinity;

  readonly rtt: RttEstimator;
  private rttSeq = 0;
  private rttStart = 0;
  readonly cc: CongestionControl;
  dupAcks = 0;
  private flightAtFirstDup = 0;
  /** NewReno `recover` (RFC 6582): highest sequence sent when recovery started. */
  recover = 0;
  /** Next sequence to consider for SACK-recovery retransmission. */
  private rxtNext = 0;
  /** SND.MAX when the latest hole was retransmitted in this recovery (see detectLostRetransmit). */
  private rxtMark = 0;
  private rxtMarkArmed = false;
  private sb: SackScoreboard | null = null;
  retries = 0;
  private persistShift = 0;
  private segsUnacked = 0;
  /** This output pass: the largest TCP segment the sink sends as one TSO super-frame (0: MSS-sized only). */
  private tsoMax = 0;

  // Timers: absolute deadlines (ms) or Infinity.
  rtoAt = Infinity;
  persistAt = Infinity;
  /** Tail loss probe deadline (config tailLossProbe). */
  probeAt = Infinity;
  delackAt = Infinity;
  closeAt = Infinity;
  timerAt = Infinity;

  readonly createdAt: number;
  bytesIn = 0;
  bytesOut = 0;
  retransmitted = 0;

  constructor(
    ctx: TcpConnectionContext, localIp: number, localPort: number, remoteIp: number, remotePort: number,
    app: TcpAppHandler, rxFifoSize: number, txFifoSize: number, now: number, mtu = ctx.config.mtu,
  ) {
    this.ctx = ctx;
    this.localIp = localIp >>> 0;
    this.localPort = localPort;
    this.remoteIp = remoteIp >>> 0;
    this.remotePort = remotePort;
    this.app = app;
    const cfg = ctx.config;
    this.rxFifo = new SessionFifo(rxFifoSize, cfg.maxOooSegments);
    this.txFifo = new SessionFifo(txFifoSize);
    this.rcvMss = mtu - 40;
    this.rcvWscale = cfg.windowScaling ? windowScaleFor(this.rxFifo.size) : 0;
    this.rtt = new RttEstimator(cfg.initialRtoMs, cfg.minRtoMs, cfg.maxRtoMs);
    this.cc = cfg.ccAlgo === 'newreno'
      ? new NewRenoCc(536, cfg.initialCwndSegments)
      : new CubicCc(536, cfg.initialCwndSegments);
    this.createdAt = now;
    this.rxFifo.onDequeueNotify = () => { this.flags |= F_WND_UPDATE; this.ctx.markPending(this); };
    this.txFifo.onDequeueNotify = () => { this.flags |= F_TX_SPACE; this.ctx.markPending(this); };
  }

  // --- small accessors ----------------------------------------------------------------------------------

  get stateName(): string { return TCP_STATE_NAMES[this.state]; }
  get isReleased(): boolean { return (this.flags & F_RELEASED) !== 0; }
  get timestampsEnabled(): boolean { return (this.flags & F_TS) !== 0; }
  get sackEnabled(): boolean { return (this.flags & F_SACK) !== 0; }
  get inRecovery(): boolean { return (this.flags & F_RECOVERY) !== 0; }
  get pending(): boolean { return (this.flags & F_PENDING) !== 0; }
  setPending(on: boolean): void { if (on) this.flags |= F_PENDING; else this.flags &= ~F_PENDING; }
  /** SACK scoreboard (sender side), for inspection. */
  get scoreboard(): SackScoreboard | null { return this.sb; }
  /** Bytes sent and not yet acknowledged. */
  get flightSize(): number { return (this.sndMax - this.sndUna) >>> 0; }
  /** The spliced tx source, if any. */
  get txSpliced(): TcpTxSource | null { return this.txSource; }

  /** Send queue length: the tx fifo's bytes, then the spliced source's (sent-unacknowledged ones included). */
  private get txQueued(): number {
    const src = this.txSource;
    const n = src === null ? this.txFifo.maxDequeue : this.txFifo.maxDequeue + src.maxDequeue;
    if (!(this.flags & F_FIN_SENT)) return n;
    // Nothing goes after our FIN, even if the queue grew since (a source that kept filling).
    const upToFin = (this.finSeq - this.sndUna) | 0;
    return upToFin < n ? Math.max(0, upToFin) : n;
  }

  /**
   * Sends `src`'s bytes after everything in the tx fifo; the app must not write the fifo afterwards (its
   * bytes would go out of order) and tells the stack through `send` when the source has more. The source
   * stays attached until the connection is released. Returns false when a source is attached already.
   */
  spliceTx(src: TcpTxSource): boolean {
    if (this.txSource !== null || (this.flags & F_RELEASED)) return false;
    this.txSource = src;
    return true;
  }

  /**
   * Where the segment should start (mod 8) for its copy from a spliced source to be word-aligned: the
   * source's bytes land at txOff + hl + (the fifo's part of the segment). Undefined when no source is involved.
   */
  private payloadAlignment(off: number, hl: number): number | undefined {
    const src = this.txSource;
    if (src === null || src.alignment === undefined) return undefined;
    const fifoBytes = this.txFifo.maxDequeue;
    const fifoPart = off < fifoBytes ? fifoBytes - off : 0;
    return (src.alignment(off < fifoBytes ? 0 : off - fifoBytes) - fifoPart - hl) & 7;
  }

  /** Copies `len` bytes of the send queue starting at `off` (fifo, then source) to dst; returns bytes copied. */
  private peekTx(off: number, dst: Uint8Array, at: number, len: number): number {
    const fifo = this.txFifo;
    const fifoBytes = fifo.maxDequeue;
    let n = 0;
    if (off < fifoBytes) n = fifo.peek(off, dst, at, Math.min(len, fifoBytes - off));
    const src = this.txSource;
    if (n < len && src !== null) n += src.peek(off + n - fifoBytes, dst, at + n, len - n);
    return n;
  }

  private count(c: number, n = 1): void { this.ctx.counters[c] += n; }

  /** Earliest timer deadline. */
  nextDeadline(): number {
    return Math.min(this.rtoAt, this.persistAt, this.delackAt, this.closeAt, this.probeAt);
  }

  // --- opening ------------------------------------------------------------------------------------------

  /** Active open: send SYN. */
  openActive(iss: number, tsOffset: number, now: number): void {
    this.flags |= F_SURFACED;
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = iss;
    this.sndMax = iss;
    this.recover = iss;
    this.tsOffset = tsOffset;
    this.state = TcpState.SynSent;
    this.sendSyn(now);
  }

  /** Passive open from a SYN received by a listener: parse options, send SYN-ACK. */
  openPassive(listener: TcpListener, seg: TcpView, o: TcpOptions, iss: number, tsOffset: number, now: number): void {
    this.listener = listener;
    this.flags |= F_PASSIVE;
    this.irs = seg.seq;
    this.rcvNxt = (seg.seq + 1) >>> 0;
    this.rcvAdv = this.rcvNxt;
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = iss;
    this.sndMax = iss;
    this.recover = iss;
    this.tsOffset = tsOffset;
    this.sndWnd = seg.window; // never scaled in a SYN
    this.applyPeerSynOptions(o);
    this.state = TcpState.SynReceived;
    this.sendSyn(now);
  }

  /**
   * Passive open completed statelessly from a SYN cookie: the final ACK of the handshake arrived.
   * `mss`/`wscale`/`sackOk` come from the cookie.
   */
  openFromCookie(listener: TcpListener, seg: TcpView, o: TcpOptions, iss: number, tsOffset: number, mss: number,
    wscale: number, sackOk: boolean, now: number): void {
    this.listener = listener;
    this.flags |= F_PASSIVE;
    this.irs = (seg.seq - 1) >>> 0;
    this.rcvNxt = seg.seq;
    this.rcvAdv = (this.rcvNxt + Math.min(this.rxFifo.size, 0xffff)) >>> 0; // the window our SYN-ACK offered
    this.iss = iss;
    this.sndUna = (iss + 1) >>> 0;
    this.sndNxt = this.sndUna;
    this.sndMax = this.sndUna;
    this.recover = iss;
    this.tsOffset = tsOffset;
    const cfg = this.ctx.config;
    if (o.tsPresent && cfg.timestamps) { this.flags |= F_TS; this.tsRecent = o.tsVal; }
    if (wscale >= 0 && cfg.windowScaling) { this.sndWscale = wscale; this.flags |= F_WS_OK; } else this.rcvWscale = 0;
    if (sackOk && cfg.sack) this.flags |= F_SACK;
    this.setSndMss(mss);
    this.sndWnd = seg.window << this.sndWscale;
    this.maxSndWnd = this.sndWnd;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.state = TcpState.Established;
    this.count(TcpCounter.Established);
    listener.accepted++;
    this.surfaceAccepted();
  }

  /** Hand a newly established passive connection to the app; a refusal turns into an abort at flush. */
  private surfaceAccepted(): void {
    this.flags |= F_SURFACED;
    if (this.app.onAccept?.(this) === false) {
      this.flags |= F_ABORT;
      this.ctx.markPending(this);
    }
  }

  /**
   * RFC 6191: a SYN may reopen a TIME-WAIT connection when it is provably new — a larger timestamp when both
   * sides use them, otherwise a sequence number above RCV.NXT.
   */
  canRecycleTimeWait(seg: TcpView, o: TcpOptions): boolean {
    if (this.state !== TcpState.TimeWait) return false;
    if ((this.flags & F_TS) && o.tsPresent) return seqGt(o.tsVal, this.tsRecent);
    return seqGt(seg.seq, this.rcvNxt);
  }

  /** Drop silently (TIME-WAIT recycling, stack shutdown). */
  forceRelease(): void {
    this.flags |= F_CLOSED_NOTIFIED;
    this.release();
  }

  private applyPeerSynOptions(o: TcpOptions): void {
    const cfg = this.ctx.config;
    const passive = (this.flags & F_PASSIVE) !== 0;
    if (cfg.windowScaling && o.wscale >= 0 && (passive || (this.flags & F_WS_OFFERED))) {
      this.sndWscale = o.wscale;
      this.flags |= F_WS_OK;
    } else {
      this.sndWscale = 0;
      this.rcvWscale = 0; // RFC 7323 §2.2: scaling only when both sides sent the option
    }
    if (cfg.sack && o.sackPermitted) this.flags |= F_SACK;
    if (cfg.timestamps && o.tsPresent) { this.flags |= F_TS; this.tsRecent = o.tsVal; }
    this.setSndMss(o.mss > 0 ? o.mss : 536);
  }

  private setSndMss(peerMss: number): void {
    const m = Math.min(peerMss, this.rcvMss) - (this.flags & F_TS ? 12 : 0);
    this.sndMss = Math.max(m, 64);
    this.cc.setMss(this.sndMss);
  }

  private sendSyn(now: number): void {
    const synAck = this.state === TcpState.SynReceived;
    const flags = synAck ? TcpFlag.SYN | TcpFlag.ACK : TcpFlag.SYN;
    this.emit(flags, this.iss, 0, 0, now);
    if (seqGt((this.iss + 1) >>> 0, this.sndMax)) this.sndMax = (this.iss + 1) >>> 0;
    this.sndNxt = (this.iss + 1) >>> 0;
    if (this.rtoAt === Infinity) this.rtoAt = now + this.rtt.rto;
    this.ctx.schedule(this);
  }

  // --- segment arrival -----------------------------------------------------------------------------------

  /** Process one segment for this connection (RFC 9293 §3.10.7 "SEGMENT ARRIVES"), then send what is due. */
  input(seg: TcpView, o: TcpOptions, now: number): void {
    if (this.state === TcpState.SynSent) this.inputSynSent(seg, o, now);
    else this.inputSynchronized(seg, o, now);
    if (this.flags & F_RELEASED) return;
    // In a vector, ACKs wait for the flush after it unless enough full-sized segments are unacknowledged
    // (config ackCoalesceSegments): fewer ACKs, yet the sender stays ACK-clocked.
    if (this.ctx.deferOutput && this.segsUnacked < this.ctx.config.ackCoalesceSegments) this.ctx.markPending(this);
    else this.output(now);
  }

  private inputSynSent(seg: TcpView, o: TcpOptions, now: number): void {
    const fl = seg.flags;
    const ack = seg.ack;
    if (fl & TcpFlag.ACK) {
      if (seqLe(ack, this.iss) || seqGt(ack, this.sndMax)) {
        this.count(TcpCounter.SynSentBadAck);
        if (!(fl & TcpFlag.RST)) this.sendRst(ack, 0, false);
        return;
      }
    }
    if (fl & TcpFlag.RST) {
      if (fl & TcpFlag.ACK) {
        this.count(TcpCounter.ResetsIn);
        this.failConnect('refused');
      }
      return;
    }
    if (!(fl & TcpFlag.SYN)) return;
    this.irs = seg.seq;
    this.rcvNxt = (seg.seq + 1) >>> 0;
    this.rcvAdv = this.rcvNxt;
    this.applyPeerSynOptions(o);
    if (fl & TcpFlag.ACK) {
      this.sndUna = ack;
      this.sndWnd = seg.window; // unscaled in SYN segments
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seg.seq;
      this.sndWl2 = ack;
      this.rtoAt = Infinity;
      if (this.retries === 0) {
        if (this.flags & F_TS && o.tsEcr !== 0) this.rtt.sample(this.tsAge(o.tsEcr, now));
        else this.rtt.sample(now - this.createdAt);
      } else this.rtt.afterSynLoss();
      this.retries = 0;
      this.state = TcpState.Established;
      this.count(TcpCounter.Established);
      this.flags |= F_ACK_NOW;
      this.app.onConnected?.(this);
    } else {
      // Simultaneous open (RFC 9293 §3.5 figure 8).
      this.state = TcpState.SynReceived;
      this.rtoAt = Infinity;
      this.sendSyn(now);
    }
  }

  private tsAge(tsEcr: number, now: number): number {
    return (((now + this.tsOffset) >>> 0) - tsEcr) >>> 0;
  }

  private inputSynchronized(seg: TcpView, o: TcpOptions, now: number): void {
    const cfg = this.ctx.config;
    let fl = seg.flags;
    let seq = seg.seq;
    let dataOff = seg.payloadOffset;
    let dataLen = seg.payloadLen;

    // PAWS (RFC 7323 §5.3) with Linux's slack: a timestamp one tick old passes (TCP_PAWS_WINDOW), and so do
    // pure ACKs (a reordered ACK carries no data to protect, and dropping it would lose its SACK blocks).
    const pureAck = dataLen === 0 && !(fl & (TcpFlag.RST | TcpFlag.SYN | TcpFlag.FIN));
    if ((this.flags & F_TS) && o.tsPresent && !(fl & TcpFlag.RST) && !pureAck && ((this.tsRecent - o.tsVal) | 0) > PAWS_SLACK) {
      this.count(TcpCounter.PawsReject);
      this.flags |= F_ACK_NOW;
      return;
    }

    // In SYN-RECEIVED the peer's SYN may come again: alone (our SYN-ACK was lost: resend it) or, in a
    // simultaneous open, as its SYN-ACK (the SYN part is old; the ACK completes our handshake).
    if ((fl & TcpFlag.SYN) && this.state === TcpState.SynReceived && seq === this.irs) {
      if (!(fl & TcpFlag.ACK)) {
        this.sendSyn(now);
        return;
      }
      fl &= ~TcpFlag.SYN;
      seq = (seq + 1) >>> 0;
    }

    // Acceptability (RFC 9293 §3.10.7.4, first check).
    const rcvWnd = Math.max(0, (this.rcvAdv - this.rcvNxt) | 0);
    const segLen = dataLen + (fl & TcpFlag.SYN ? 1 : 0) + (fl & TcpFlag.FIN ? 1 : 0);
    let acceptable: boolean;
    if (segLen === 0) {
      // The right edge itself is allowed (as in BSD and Linux): a sender that filled our window sends its
      // pure ACKs with SEQ = RCV.NXT + RCV.WND, and their acknowledgements must not be lost.
      acceptable = rcvWnd === 0 ? seq === this.rcvNxt : inWindow(seq, this.rcvNxt, rcvWnd + 1);
    } else {
      acceptable = rcvWnd !== 0
        && (inWindow(seq, this.rcvNxt, rcvWnd) || inWindow((seq + segLen - 1) >>> 0, this.rcvNxt, rcvWnd));
    }
    if (!acceptable) {
      // Zero-window probes and stale duplicates land here; the ACK tells the peer where we are.
      this.count(TcpCounter.OutOfWindow);
      // Answer with an ACK, but at most one per 100 ms for empty segments: two confused peers must not
      // ping-pong ACKs forever (RFC 5961 §7 rate limiting spirit).
      if (!(fl & TcpFlag.RST) && (segLen > 0 || now - this.lastOowAckAt >= 100)) {
        if (segLen === 0) this.lastOowAckAt = now;
        this.flags |= F_ACK_NOW;
        // A retransmitted FIN in TIME-WAIT restarts the 2·MSL wait (RFC 9293 §3.10.7.4).
        if (this.state === TcpState.TimeWait && (fl & TcpFlag.FIN)) this.closeAt = now + cfg.timeWaitMs;
      }
      return;
    }

    // RST (RFC 5961 §3.2): exact match resets, otherwise a challenge ACK.
    if (fl & TcpFlag.RST) {
      if (seq !== this.rcvNxt) {
        this.count(TcpCounter.RstChallenge);
        this.count(TcpCounter.ChallengeAcks);
        this.flags |= F_ACK_NOW;
        return;
      }
      this.onRstReceived();
      return;
    }

    // SYN in a synchronized state (RFC 5961 §4); in SYN-RECEIVED a retransmitted SYN gets the SYN-ACK again.
    if (fl & TcpFlag.SYN) {
      this.count(TcpCounter.SynInWindow);
      this.count(TcpCounter.ChallengeAcks);
      this.flags |= F_ACK_NOW;
      return;
    }

    if (!(fl & TcpFlag.ACK)) {
      this.count(TcpCounter.NoAck);
      return;
    }

    // Timestamp bookkeeping (RFC 7323 §4.3).
    if ((this.flags & F_TS) && o.tsPresent && seqGe(o.tsVal, this.tsRecent) && seqLe(seq, this.lastAckSent)) {
      this.tsRecent = o.tsVal;
    }

    // Trim data already received, and data beyond the window.
    if (seqLt(seq, this.rcvNxt)) {
      const dup = (this.rcvNxt - seq) | 0;
      if (dup >= dataLen) {
        // Nothing new (a FIN exactly at rcvNxt survives as segLen - dataLen).
        dataOff += dataLen;
        if (dup > dataLen) fl &= ~TcpFlag.FIN;
        dataLen = 0;
      } else {
        dataOff += dup;
        dataLen -= dup;
      }
      seq = this.rcvNxt;
      if (dataLen === 0 && !(fl & TcpFlag.FIN)) this.flags |= F_ACK_NOW; // pure duplicate: re-ACK
    }
    const beyond = ((seq + dataLen) - (this.rcvAdv)) | 0;
    if (beyond > 0) {
      dataLen = Math.max(0, dataLen - beyond);
      fl &= ~TcpFlag.FIN;
      this.flags |= F_ACK_NOW;
    }

    if (this.state === TcpState.SynReceived) {
      const ack = seg.ack;
      if (seqLe(ack, this.sndUna) || seqGt(ack, this.sndMax)) {
        this.count(TcpCounter.SynRcvdBadAck);
        this.sendRst(ack, 0, false);
        return;
      }
      this.sndUna = ack;
      this.sndWnd = seg.window << this.sndWscale;
      this.maxSndWnd = this.sndWnd;
      this.sndWl1 = seg.seq;
      this.sndWl2 = ack;
      this.rtoAt = Infinity;
      if (this.retries === 0) {
        if ((this.flags & F_TS) && o.tsEcr !== 0) this.rtt.sample(this.tsAge(o.tsEcr, now));
        else this.rtt.sample(now - this.createdAt);
      } else this.rtt.afterSynLoss();
      this.retries = 0;
      this.state = TcpState.Established;
      this.count(TcpCounter.Established);
      if (this.listener) { this.listener.halfOpen--; this.listener.accepted++; }
      this.surfaceAccepted();
    } else if (!this.processAck(seg, o, seq, dataLen, fl, now)) {
      return;
    }

    // State changes driven by the acknowledgement of our FIN.
    const finAcked = (this.flags & F_FIN_SENT) !== 0 && seqGt(this.sndUna, this.finSeq);
    switch (this.state) {
      case TcpState.FinWait1:
        if (finAcked) {
          this.state = TcpState.FinWait2;
          if (this.flags & F_APP_CLOSED) this.closeAt = now + cfg.finWait2Ms;
        }
        break;
      case TcpState.Closing:
        if (finAcked) this.enterTimeWait(now);
        return;
      case TcpState.LastAck:
        if (finAcked) this.finish(false);
        return;
      case TcpState.TimeWait:
        // A retransmitted FIN: acknowledge it and restart the 2·MSL wait.
        if (seg.flags & TcpFlag.FIN) { this.flags |= F_ACK_NOW; this.closeAt = now + cfg.timeWaitMs; }
        return;
      default:
        break;
    }

    // Segment text.
    if (dataLen > 0) {
      if (this.state === TcpState.Established || this.state === TcpState.FinWait1 || this.state === TcpState.FinWait2) {
        if (this.flags & F_APP_CLOSED) {
          // RFC 9293 §3.10.4 / RFC 1122 4.2.2.13: nobody will read this data.
          this.count(TcpCounter.DataAfterClose);
          this.sendRst(this.sndMax, 0, false);
          this.finish(true);
          return;
        }
        this.receiveData(seg.buf, dataOff, dataLen, seq, now);
      }
    }

    // FIN.
    if (fl & TcpFlag.FIN) {
      const fseq = (seq + dataLen) >>> 0;
      if (fseq === this.rcvNxt) this.receiveFin(now);
      else if (seqGt(fseq, this.rcvNxt)) {
        this.flags |= F_FIN_OOO;
        this.rcvFinSeq = fseq;
      }
    }
  }

  /** ACK processing for synchronized states. Returns false when the segment must be dropped. */
  private processAck(seg: TcpView, o: TcpOptions, seq: number, dataLen: number, fl: number, now: number): boolean {
    const ack = seg.ack;
    if (seqGt(ack, this.sndMax)) {
      this.count(TcpCounter.AckUnsent);
      this.flags |= F_ACK_NOW;
      return false;
    }
    if (seqLt(ack, (this.sndUna - this.maxSndWnd) >>> 0)) {
      // RFC 5961 §5.2: far too old.
      this.count(TcpCounter.AckTooOld);
      this.flags |= F_ACK_NOW;
      return false;
    }
    const wnd = seg.window << this.sndWscale;
    const acked = (ack - this.sndUna) | 0;

    if ((this.flags & F_SACK) && o.sackCount > 0 && this.sndMax !== this.sndUna) {
      this.updateScoreboard(o, ack);
      if (this.rxtMarkArmed && (this.flags & F_RECOVERY)) this.detectLostRetransmit(ack);
    }

    const isDup = acked === 0 && dataLen === 0 && !(fl & (TcpFlag.FIN | TcpFlag.SYN)) && wnd === this.sndWnd
      && this.sndMax !== this.sndUna;

    // Window update (RFC 9293 §3.10.7.4, fifth check).
    if (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLe(this.sndWl2, ack))) {
      this.sndWnd = wnd;
      if (wnd > this.maxSndWnd) this.maxSndWnd = wnd;
      this.sndWl1 = seq;
      this.sndWl2 = ack;
      if (wnd > 0 && this.persistAt !== Infinity) {
        this.persistAt = Infinity;
        this.persistShift = 0;
      }
    }

    if (acked > 0) {
      this.onNewAck(ack, acked, o, now);
    } else if (isDup) {
      this.onDupAck(ack, now);
    }
    return true;
  }

  private updateScoreboard(o: TcpOptions, ack: number): void {
    if (this.sb === null) { this.sb = new SackScoreboard(); this.sbBase = this.sndUna; }
    const sb = this.sb;
    // Re-base onto `ack` first so block offsets are relative to the new SND.UNA.
    const adv = (ack - this.sbBase) | 0;
    if (adv > 0) { sb.advance(adv); this.sbBase = ack; }
    const base = this.sbBase;
    const maxOff = (this.sndMax - base) | 0;
    for (let i = 0; i < o.sackCount; i++) {
      const l = (o.sackBlocks[2 * i]! - base) | 0;
      const r = (o.sackBlocks[2 * i + 1]! - base) | 0;
      if (r <= 0 || l >= r) continue; // D-SACK or stale block
      sb.add(l, r, maxOff);
    }
  }

  /** SND.UNA that the scoreboard offsets are relative to. */
  private sbBase = 0;

  private onNewAck(ack: number, acked: number, o: TcpOptions, now: number): void {
    // RTT sample: timestamps (RFC 7323 §4) or Karn-timed segment (RFC 6298 §3).
    if ((this.flags & F_TS) && o.tsPresent && o.tsEcr !== 0) {
      const age = this.tsAge(o.tsEcr, now);
      if (age < 0x7fffffff) this.rtt.sample(age);
    } else if ((this.flags & F_RTT_TIMING) && seqGe(ack, this.rttSeq)) {
      this.flags &= ~F_RTT_TIMING;
      this.rtt.sample(now - this.rttStart);
    }
    this.retries = 0;

    const flightBefore = (this.sndMax - this.sndUna) >>> 0;
    const fifoBytes = this.txFifo.maxDequeue;
    const srcBytes = this.txSource !== null ? this.txSource.maxDequeue : 0;
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
    if (this.sb !== null && this.sbBase !== ack) {
      const adv = (ack - this.sbBase) | 0;
      if (adv > 0) this.sb.advance(adv);
      this.sbBase = ack;
    }
    // Acknowledged data leaves the tx fifo, then the spliced source (a FIN occupies one sequence number but
    // no byte of either).
    if (fifoBytes > 0) this.txFifo.dequeueDrop(Math.min(acked, fifoBytes));
    if (acked > fifoBytes && srcBytes > 0) this.txSource!.dequeueDrop(Math.min(acked - fifoBytes, srcBytes));

    if (this.flags & F_RECOVERY) {
      if (seqGe(ack, this.recover)) {
        this.flags &= ~F_RECOVERY;
        this.cc.onRecoveryExit((this.sndMax - this.sndUna) >>> 0, now);
        this.dupAcks = 0;
      } else if (this.flags & F_SACK) {
        if (seqLt(this.rxtNext, ack)) this.rxtNext = ack;
      } else {
        // NewReno partial ACK (RFC 6582 §3.2 step 5): resend the next hole, deflate by the amount acked.
        this.retransmitFirst(now);
        this.cc.cwnd = Math.max(this.sndMss, this.cc.cwnd - acked + this.sndMss);
        this.rtoAt = now + this.rtt.rto;
      }
    } else {
      this.dupAcks = 0;
      // Only grow when the window was actually in use (RFC 7661 spirit).
      if (flightBefore + this.sndMss >= this.cc.cwnd || this.cc.cwnd < this.cc.ssthresh) {
        this.cc.onAck(acked, now, this.rtt.smoothed);
      }
    }

    // RFC 6298 §5.2/5.3.
    if (this.sndUna === this.sndMax) this.rtoAt = Infinity;
    else if (!(this.flags & F_RECOVERY) || this.flags & F_SACK) this.rtoAt = now + this.rtt.rto;
    this.flags &= ~F_TLP_OUT;
    this.armProbe(now);
  }

  private onDupAck(ack: number, now: number): void {
    this.count(TcpCounter.DupAcksIn);
    if (++this.dupAcks === 1) this.flightAtFirstDup = (this.sndMax - this.sndUna) >>> 0;
    const mss = this.sndMss;
    if (!(this.flags & F_RECOVERY)) {
      // After a tail loss probe one SACK suffices: the probe went out last, so a hole below it is a loss.
      const sackLoss = (this.flags & F_SACK) !== 0 && this.sb !== null
        && (this.sb.sacked >= 3 * mss || ((this.flags & F_TLP_OUT) !== 0 && this.sb.sacked > 0));
      if ((this.dupAcks >= 3 || sackLoss) && seqGe(ack, this.recover)) {
        // Enter fast retransmit / fast recovery (RFC 5681 §3.2, RFC 6582, RFC 6675 §5).
        this.count(TcpCounter.FastRetransmits);
        // RFC 5681 §3.2: data sent by limited transmit does not count in FlightSize here.
        const flight = Math.min((this.sndMax - this.sndUna) >>> 0, this.flightAtFirstDup || Infinity);
        this.cc.onCongestion(flight, now);
        this.recover = this.sndMax;
        this.flags |= F_RECOVERY;
        this.flags &= ~F_RTT_TIMING;
        if (this.flags & F_SACK) {
          this.cc.cwnd = this.cc.ssthresh;
          this.rxtNext = this.sndUna;
          // The output pass retransmits holes as the pipe allows; the first hole goes now regardless.
          this.retransmitFirst(now);
          this.rxtNext = (this.sndUna + Math.min(mss, this.holeLenAtUna())) >>> 0;
          this.rxtMark = this.sndMax;
          this.rxtMarkArmed = true;
        } else {
          this.cc.cwnd = this.cc.ssthresh + 3 * mss;
          this.retransmitFirst(now);
        }
        this.rtoAt = now + this.rtt.rto;
      }
    } else if (!(this.flags & F_SACK)) {
      this.cc.cwnd += mss; // NewReno window inflation
    }
  }

  /**
   * Lost retransmission (the idea of RACK, RFC 8985, with sequence order standing in for send time): data
   * sent after our latest hole retransmission is SACKed, yet the cumulative ACK is still below the
   * retransmitted range, so those retransmissions are presumed lost — resend the holes again rather than
   * wait for the RTO (which would also throw the scoreboard away).
   */
  private detectLostRetransmit(ack: number): void {
    const sb = this.sb!;
    if (sb.isEmpty) return;
    const highSeq = (this.sbBase + sb.highSacked) >>> 0;
    if (seqGt(highSeq, this.rxtMark) && seqLt(ack, this.rxtNext)) {
      this.rxtMarkArmed = false;
      this.rxtNext = ack;
      this.count(TcpCounter.LostRetransmits);
    }
  }

  private holeLenAtUna(): number {
    if (this.sb === null || this.sb.isEmpty) return this.sndMss;
    return this.sb.nextHole(0) === 0 ? this.sb.holeEnd : this.sndMss;
  }

  private onRstReceived(): void {
    this.count(TcpCounter.ResetsIn);
    switch (this.state) {
      case TcpState.SynReceived:
        if (this.flags & F_PASSIVE) this.finish(false); // back to LISTEN: the app never saw it
        else this.failConnect('refused');
        return;
      case TcpState.Established:
      case TcpState.FinWait1:
      case TcpState.FinWait2:
      case TcpState.CloseWait:
        this.finish(true);
        return;
      default: // CLOSING, LAST-ACK, TIME-WAIT
        this.finish(false);
    }
  }

  private receiveData(buf: Uint8Array, off: number, len: number, seq: number, now: number): void {
    const rx = this.rxFifo;
    if (seq === this.rcvNxt) {
      const hadOoo = rx.oooSegmentCount > 0;
      const free = rx.maxEnqueue;
      if (len > free) {
        this.count(TcpCounter.RxFifoFull);
        len = free;
        if (len === 0) { this.flags |= F_ACK_NOW; return; }
      }
      const adv = rx.enqueue(buf, off, len);
      this.rcvNxt = (this.rcvNxt + adv) >>> 0;
      this.bytesIn += adv;
      this.count(TcpCounter.DataBytesIn, adv);
      if (hadOoo) this.flags |= F_ACK_NOW; // RFC 5681 §4.2: ACK at once when a hole is (partly) filled
      // Delayed ACK: at least every second full-sized segment (RFC 5681 §4.2); a GRO-style large segment
      // counts as several.
      this.segsUnacked += len > this.rcvMss ? 2 : 1;
      const cfg = this.ctx.config;
      if (this.segsUnacked >= 2 || cfg.delayedAckMs === 0) this.flags |= F_ACK_NOW;
      else if (this.delackAt === Infinity) this.delackAt = now + cfg.delayedAckMs;
      if (rx.setEvent()) this.app.onRx?.(this);
      if ((this.flags & F_FIN_OOO) && this.rcvFinSeq === this.rcvNxt) {
        this.flags &= ~F_FIN_OOO;
        this.receiveFin(now);
      }
    } else {
      // Out of order: keep it in the rx fifo beyond tail and send a duplicate ACK with SACK at once.
      this.count(TcpCounter.OooSegmentsIn);
      const r = rx.enqueueAt((seq - this.rcvNxt) >>> 0, buf, off, len);
      if (r < 0) this.count(TcpCounter.OooFull);
      this.flags |= F_ACK_NOW;
    }
  }

  private receiveFin(now: number): void {
    if (this.flags & F_FIN_RCVD) return;
    this.flags |= F_FIN_RCVD | F_ACK_NOW;
    this.rcvNxt = (this.rcvNxt + 1) >>> 0;
    switch (this.state) {
      case TcpState.SynReceived:
      case TcpState.Established:
        this.state = TcpState.CloseWait;
        break;
      case TcpState.FinWait1:
        if ((this.flags & F_FIN_SENT) && seqGt(this.sndUna, this.finSeq)) this.enterTimeWait(now, false);
        else this.state = TcpState.Closing;
        break;
      case TcpState.FinWait2:
        this.enterTimeWait(now, false);
        break;
      default:
        break;
    }
    this.app.onPeerClosed?.(this);
    if (this.state === TcpState.TimeWait) this.notifyClosed(false);
  }

  private enterTimeWait(now: number, notify = true): void {
    this.state = TcpState.TimeWait;
    this.rtoAt = Infinity;
    this.persistAt = Infinity;
    this.closeAt = now + this.ctx.config.timeWaitMs;
    // The app is done with this connection; TIME-WAIT is the stack's business.
    if (notify) this.notifyClosed(false);
  }

  // --- app requests (applied at flush) --------------------------------------------------------------------

  /** App: stop sending after the queued data (FIN); reading continues (half-close). */
  requestShutdownWrite(): void {
    this.flags |= F_FIN_PENDING;
    this.enterClosingState();
    this.ctx.markPending(this);
  }

  private enterClosingState(): void {
    if (this.state === TcpState.Established) this.state = TcpState.FinWait1;
    else if (this.state === TcpState.CloseWait) this.state = TcpState.LastAck;
    else if (this.state === TcpState.SynSent) this.flags |= F_ABORT; // nothing sent yet: just forget it
  }

  /** App: close both directions (FIN after queued data; data arriving afterwards resets the connection). */
  requestClose(): void {
    this.flags |= F_FIN_PENDING | F_APP_CLOSED;
    this.enterClosingState();
    this.ctx.markPending(this);
  }

  /** App: reset the connection. */
  requestAbort(): void {
    this.flags |= F_ABORT;
    this.ctx.markPending(this);
  }

  /** Called by the stack's flush for a pending connection. */
  flush(now: number): void {
    if (this.flags & F_RELEASED) return;
    if (this.flags & F_ABORT) {
      this.flags &= ~F_ABORT;
      if (this.state !== TcpState.SynSent && this.state !== TcpState.TimeWait) this.sendRst(this.sndMax, 0, false);
      this.finish(false);
      return;
    }
    if (this.flags & F_TX_SPACE) {
      this.flags &= ~F_TX_SPACE;
      this.app.onTxSpace?.(this);
      if (this.flags & F_RELEASED) return;
    }
    this.output(now);
  }

  // --- timers ---------------------------------------------------------------------------------------------

  /** Run expired timers, then send what is due. */
  onTimers(now: number): void {
    if (this.flags & F_RELEASED) return;
    if (this.closeAt <= now) {
      this.closeAt = Infinity;
      if (this.state === TcpState.TimeWait) { this.finish(false); return; }
      if (this.state === TcpState.FinWait2) {
        this.count(TcpCounter.FinWait2Timeout);
        this.finish(false);
        return;
      }
    }
    if (this.delackAt <= now) {
      this.delackAt = Infinity;
      if (this.rcvNxt !== this.lastAckSent) {
        this.flags |= F_ACK_NOW;
        this.count(TcpCounter.DelayedAcks);
      }
    }
    if (this.rtoAt <= now) {
      this.rtoAt = Infinity;
      this.onRetransmitTimeout(now);
      if (this.flags & F_RELEASED) return;
    }
    if (this.persistAt <= now) {
      this.persistAt = Infinity;
      this.sendWindowProbe(now);
    }
    if (this.probeAt <= now) {
      this.probeAt = Infinity;
      this.sendTailLossProbe(now);
    }
    this.output(now);
  }

  /**
   * Probe timeout, RFC 8985 §7: max(2·SRTT, 10 ms), plus room for a delayed ACK when one segment is in flight.
   * Armed when new data goes out and when an ACK advances outside recovery; none while a probe is outstanding.
   */
  private armProbe(now: number): void {
    const flight = (this.sndMax - this.sndUna) >>> 0;
    if (!this.ctx.config.tailLossProbe || flight === 0 || (this.flags & (F_RECOVERY | F_TLP_OUT | F_FIN_SENT))
      || !this.rtt.measured) {
      this.probeAt = Infinity;
      return;
    }
    let pto = Math.max(2 * this.rtt.smoothed, 10);
    if (flight <= this.sndMss) pto += this.ctx.config.delayedAckMs;
    const at = now + pto;
    this.probeAt = at < this.rtoAt ? at : Infinity;
  }

  /**
   * Tail loss probe: new data if the windows allow, else the last segment again, so that a loss at the tail
   * of a flight draws a SACK (and fast recovery) instead of waiting for the RTO.
   */
  private sendTailLossProbe(now: number): void {
    if ((this.flags & (F_RECOVERY | F_TLP_OUT | F_FIN_SENT)) || this.sndMax === this.sndUna) return;
    if (this.sndNxt !== this.sndMax) return; // after an RTO: resending from SND.UNA already
    this.count(TcpCounter.TailLossProbes);
    this.flags |= F_TLP_OUT;
    const off = (this.sndMax - this.sndUna) >>> 0;
    const fifoBytes = this.txQueued;
    const avail = fifoBytes - off;
    if (avail > 0 && this.sndWnd > off) {
      const len = Math.min(avail, this.sndMss, this.sndWnd - off);
      this.emitData(this.sndMax, off, len, len === avail ? TcpFlag.PSH : 0, now);
    } else {
      const len = Math.min(this.sndMss, off, fifoBytes);
      if (len > 0) this.emitData((this.sndMax - len) >>> 0, off - len, len, TcpFlag.PSH, now);
    }
    this.rtoAt = now + this.rtt.rto;
  }

  private onRetransmitTimeout(now: number): void {
    const cfg = this.ctx.config;
    this.count(TcpCounter.RtoTimeouts);
    if (this.state === TcpState.SynSent || this.state === TcpState.SynReceived) {
      if (++this.retries > cfg.maxSynRetransmits) {
        this.count(TcpCounter.SynRetransmitLimit);
        if (this.state === TcpState.SynSent || !(this.flags & F_PASSIVE)) this.failConnect('timeout');
        else this.finish(false);
        return;
      }
      this.rtt.backoff();
      this.count(TcpCounter.Retransmits);
      this.rtoAt = now + this.rtt.rto;
      this.sendSyn(now);
      return;
    }
    if (this.sndUna === this.sndMax) return;
    if (++this.retries > cfg.maxRetransmits) {
      this.count(TcpCounter.RetransmitLimit);
      this.sendRst(this.sndMax, 0, false);
      this.finish(true);
      return;
    }
    // RFC 5681 §3.1 eq. 4, RFC 6298 §5.5-5.6, RFC 2018 §8 (forget SACK state), RFC 6582 §3.2 step 4.
    this.cc.onRto((this.sndMax - this.sndUna) >>> 0, now);
    this.flags &= ~(F_RECOVERY | F_RTT_TIMING | F_TLP_OUT);
    this.probeAt = Infinity;
    this.dupAcks = 0;
    this.recover = this.sndMax;
    this.sb?.clear();
    this.sndNxt = this.sndUna;
    this.rtt.backoff();
    this.rtoAt = now + this.rtt.rto;
  }

  /** Zero-window probe: an ACK one below SND.UNA forces the peer to answer with its current window. */
  private sendWindowProbe(now: number): void {
    if (this.state === TcpState.TimeWait || this.sndMax !== this.sndUna) { this.persistShift = 0; return; }
    if (this.sndWnd !== 0) {
      // A window too small for sender SWS avoidance: send what fits anyway (RFC 9293 §3.8.6.2.1 override).
      this.flags |= F_SWS_OVERRIDE;
      this.persistShift = 0;
      return;
    }
    this.count(TcpCounter.PersistProbes);
    this.emit(TcpFlag.ACK, (this.sndUna - 1) >>> 0, 0, 0, now);
    this.persistShift++;
    this.persistAt = now + Math.min(this.ctx.config.maxRtoMs, this.rtt.rto * 2 ** this.persistShift);
  }

  // --- output ---------------------------------------------------------------------------------------------

  /** Send data, FIN and ACKs as windows allow; arm timers. */
  output(now: number): void {
    if (this.flags & F_RELEASED) return;
    switch (this.state) {
      case TcpState.Closed:
      case TcpState.Listen:
      case TcpState.SynSent:
        this.ctx.schedule(this);
        return;
      case TcpState.SynReceived:
        if (this.flags & F_ACK_NOW) this.emit(TcpFlag.ACK, this.sndMax, 0, 0, now);
        this.ctx.schedule(this);
        return;
      case TcpState.TimeWait:
        if (this.flags & F_ACK_NOW) this.emit(TcpFlag.ACK, this.sndMax, 0, 0, now);
        this.ctx.schedule(this);
        return;
      default:
        break;
    }
    if (this.flags & F_WND_UPDATE) {
      this.flags &= ~F_WND_UPDATE;
      if (this.windowWouldAdvance()) {
        this.flags |= F_ACK_NOW;
        this.count(TcpCounter.WindowUpdates);
      }
    }
    let sent = false;
    const sink = this.ctx.sink;
    this.tsoMax = this.ctx.config.tso && sink.tsoMaxSegment !== undefined ? sink.tsoMaxSegment(this.localIp, this.remoteIp) : 0;
    if ((this.flags & F_RECOVERY) && (this.flags & F_SACK) && this.sb !== null) {
      while (this.sackRecoverySend(now)) sent = true;
    } else {
      // RFC 3042 limited transmit: each of the first two duplicate ACKs may release one new segment.
      const limited = !(this.flags & F_RECOVERY) && this.dupAcks > 0 && this.dupAcks < 3 ? this.dupAcks * this.sndMss : 0;
      while (this.sendNew(now, ((this.sndNxt - this.sndUna) >>> 0) - limited)) sent = true;
    }
    if (this.txSource !== null) this.sourceDrained();
    if ((this.flags & F_ACK_NOW) && !sent) this.emit(TcpFlag.ACK, this.sndMax, 0, 0, now);
    this.armPersist(now);
    this.ctx.schedule(this);
  }

  /**
   * Everything the spliced source had is sent: unless enough is in flight that ACKs will run output again
   * soon, ask the source to signal new bytes (if some came meanwhile, look again at the next flush).
   */
  private sourceDrained(): void {
    const src = this.txSource!;
    if (src.wantData === undefined || (this.flags & F_FIN_PENDING)) return;
    if (((this.sndNxt - this.sndUna) >>> 0) < this.txQueued) return; // window-limited: ACKs drive output
    if (((this.sndMax - this.sndUna) >>> 0) >= SOURCE_WAKE_FLIGHT_SEGMENTS * this.sndMss) return;
    if (src.wantData(src.maxDequeue)) this.ctx.markPending(this);
  }

  /** RFC 6675-style: retransmit holes below the highest SACK, then new data, while pipe < cwnd. */
  private sackRecoverySend(now: number): boolean {
    const sb = this.sb!;
    const mss = this.sndMss;
    const high = sb.highSacked;
    const rxtOff = Math.max(0, (this.rxtNext - this.sndUna) | 0);
    const lim = Math.min(rxtOff, high);
    const pipe = (((this.sndMax - this.sndUna) >>> 0) - high) + (lim - sb.sackedIn(0, lim));
    if (this.cc.cwnd - pipe < mss) return false;
    const fifoBytes = this.txQueued;
    const hole = sb.nextHole(rxtOff);
    if (hole >= 0 && hole < fifoBytes) {
      const len = Math.min(mss, sb.holeEnd - hole, fifoBytes - hole);
      const seq = (this.sndUna + hole) >>> 0;
      const sent = this.emitData(seq, hole, len, 0, now);
      if (sent <= 0) return false;
      this.rxtNext = (seq + sent) >>> 0;
      this.rxtMark = this.sndMax;
      this.rxtMarkArmed = true;
      return true;
    }
    this.rxtNext = this.sndMax;
    return this.sendNew(now, pipe);
  }

  /** Send one segment of new (or, after an RTO, resent) data at SND.NXT if the windows allow. */
  private sendNew(now: number, inFlight: number): boolean {
    if (this.state !== TcpState.Established && this.state !== TcpState.CloseWait && this.state !== TcpState.FinWait1
      && this.state !== TcpState.Closing && this.state !== TcpState.LastAck) return false;
    const off = (this.sndNxt - this.sndUna) >>> 0;
    const fifoBytes = this.txQueued;
    const avail = fifoBytes - off;
    if (avail < 0) return false; // FIN already in flight (or a spliced source went void)
    const finWanted = (this.flags & F_FIN_PENDING) !== 0;
    const mss = this.sndMss;
    const rwnd = this.sndWnd - off;
    const cwndRoom = this.cc.cwnd - inFlight;
    let len = Math.min(avail, this.tsoMax > 0 ? this.tsoSegmentLimit() : mss, rwnd, cwndRoom);
    // A TSO segment carries whole MSS-sized segments, except at the tail of the queue (as Linux's
    // tcp_mss_split_point): no short segment in the middle of the stream.
    if (len > mss && len < avail) len -= len % mss;
    if (len <= 0) {
      if (avail === 0 && finWanted && cwndRoom > 0) {
        // FIN alone (it needs no window space).
        return this.emitData(this.sndNxt, off, 0, TcpFlag.FIN, now) >= 0;
      }
      return false;
    }
    // Sender SWS avoidance (RFC 9293 §3.8.6.2.1); no Nagle: a short tail of the queue goes at once.
    if (len < mss && len < avail && len < (this.maxSndWnd >>> 1)) {
      if (!(this.flags & F_SWS_OVERRIDE)) return false;
    }
    this.flags &= ~F_SWS_OVERRIDE;
    const fin = finWanted && len === avail ? TcpFlag.FIN : 0;
    // Nothing sent of a non-empty segment: the spliced source went void; the app aborts, stop here.
    return this.emitData(this.sndNxt, off, len, fin | (len === avail ? TcpFlag.PSH : 0), now) > 0;
  }

  /**
   * Payload bytes one TSO segment may carry: whole MSS within the sink's limit (room left for the largest
   * TCP header), and at most half the congestion window so a flight is not one burst (Linux tcp_cwnd_test).
   */
  private tsoSegmentLimit(): number {
    const mss = this.sndMss;
    const bySink = Math.floor((this.tsoMax - TCP_MAX_HEADER_LEN) / mss);
    const byCwnd = Math.floor(this.cc.cwnd / 2 / mss);
    return Math.max(1, Math.min(bySink, byCwnd)) * mss;
  }

  /** Resend the segment at SND.UNA (fast retransmit, NewReno partial ACK). */
  private retransmitFirst(now: number): void {
    const fifoBytes = this.txQueued;
    const outstandingData = Math.min(fifoBytes, (this.sndMax - this.sndUna) >>> 0);
    const len = Math.min(this.sndMss, outstandingData);
    const finOnly = len === 0 && (this.flags & F_FIN_SENT) !== 0 && this.sndUna === this.finSeq;
    if (len === 0 && !finOnly) return;
    const fin = (this.flags & F_FIN_SENT) && ((this.sndUna + len) >>> 0) === this.finSeq ? TcpFlag.FIN : 0;
    this.emitData(this.sndUna, 0, len, fin, now);
  }

  /**
   * Emit a data/FIN segment starting at `seq` (fifo offset `off`) and update the send state.
   * Returns the payload length sent, or -1 when no buffer was available.
   */
  private emitData(seq: number, off: number, len: number, extraFlags: number, now: number): number {
    const sent = this.emit(TcpFlag.ACK | extraFlags, seq, off, len, now);
    if (sent < 0) return -1;
    const fin = (extraFlags & TcpFlag.FIN) !== 0 && sent === len;
    const end = (seq + sent + (fin ? 1 : 0)) >>> 0;
    if (fin && !(this.flags & F_FIN_SENT)) {
      this.flags |= F_FIN_SENT;
      this.finSeq = (seq + sent) >>> 0;
    }
    if (seqLt(seq, this.sndMax)) {
      this.count(TcpCounter.Retransmits);
      this.retransmitted++;
      // Karn: a retransmission invalidates the timed segment.
      if ((this.flags & F_RTT_TIMING) && seqLt(seq, this.rttSeq)) this.flags &= ~F_RTT_TIMING;
    } else if (!(this.flags & F_TS) && !(this.flags & F_RTT_TIMING)) {
      this.flags |= F_RTT_TIMING;
      this.rttSeq = end;
      this.rttStart = now;
    }
    if (seq === this.sndNxt || seqGt(end, this.sndNxt)) this.sndNxt = seqGt(end, this.sndNxt) ? end : this.sndNxt;
    const newData = seqGt(end, this.sndMax);
    if (newData) this.sndMax = end;
    if (this.rtoAt === Infinity) this.rtoAt = now + this.rtt.rto;
    if (newData && !(this.flags & F_TLP_OUT)) this.armProbe(now);
    return sent;
  }

  private armPersist(now: number): void {
    // Data waiting, nothing in flight, and a window too small for it: probe (RFC 9293 §3.8.6.1).
    if (this.sndMax === this.sndUna && this.persistAt === Infinity && this.txQueued > 0
      && this.state >= TcpState.Established && this.state !== TcpState.TimeWait) {
      this.persistAt = now + Math.min(this.ctx.config.maxRtoMs, this.rtt.rto * 2 ** this.persistShift);
    }
  }

  private windowWouldAdvance(): boolean {
    const rx = this.rxFifo;
    const edge = (this.rcvNxt + rx.maxEnqueue) >>> 0;
    const inc = Math.min(rx.size >>> 1, this.rcvMss);
    return seqGe(edge, (this.rcvAdv + inc) >>> 0);
  }

  /** Window to advertise: the rx fifo's free space, with receiver SWS avoidance and no shrinking. */
  private advertiseWindow(syn: boolean): number {
    const rx = this.rxFifo;
    const edge = (this.rcvNxt + rx.maxEnqueue) >>> 0;
    if (seqGt(edge, this.rcvAdv)) {
      const inc = Math.min(rx.size >>> 1, this.rcvMss);
      if (((edge - this.rcvAdv) | 0) >= inc || this.rcvAdv === this.rcvNxt && rx.maxEnqueue >= inc) this.rcvAdv = edge;
    }
    const bytes = (this.rcvAdv - this.rcvNxt) >>> 0;
    if (syn) return Math.min(bytes, 0xffff);
    return Math.min(bytes >>> this.rcvWscale, 0xffff);
  }

  /**
   * Write one segment through the sink. Returns the payload bytes written (may be less than `len` when SACK
   * blocks take option space), or -1 when the sink had no buffer.
   */
  private emit(flags: number, seq: number, off: number, len: number, now: number): number {
    const ctx = this.ctx;
    const o = ctx.txOpts;
    o.clear();
    const syn = (flags & TcpFlag.SYN) !== 0;
    const cfg = ctx.config;
    if (syn) {
      o.mss = this.rcvMss;
      const passive = (this.flags & F_PASSIVE) !== 0;
      if (passive ? (this.flags & F_WS_OK) !== 0 : cfg.windowScaling) {
        o.wscale = this.rcvWscale;
        this.flags |= F_WS_OFFERED;
      }
      if (cfg.sack && (!passive || (this.flags & F_SACK))) o.sackPermitted = true;
      if (cfg.timestamps && (!passive || (this.flags & F_TS))) {
        o.tsPresent = true;
        o.tsVal = (now + this.tsOffset) >>> 0;
        o.tsEcr = passive ? this.tsRecent : 0;
      }
    } else if (this.flags & F_TS) {
      o.tsPresent = true;
      o.tsVal = (now + this.tsOffset) >>> 0;
      o.tsEcr = this.tsRecent;
    }
    if (!syn && (this.flags & F_SACK) && this.rxFifo.oooSegmentCount > 0) this.fillSackBlocks(o);
    const optLen = tcpOptionsLength(o);
    const extra = optLen - (this.flags & F_TS ? 12 : 0);
    // Payload per wire segment: every segment of a TSO segment carries these options too.
    const segMss = extra > 0 ? Math.max(1, this.sndMss - extra) : this.sndMss;
    if (len > segMss && len <= this.sndMss) {
      // SACK blocks took payload room: send less, and no FIN (it belongs after the last byte).
      len = segMss;
      flags &= ~TcpFlag.FIN;
    }
    const hl = TCP_HEADER_LEN + optLen;
    const sink = ctx.sink;
    const align = len > 0 ? this.payloadAlignment(off, hl) : undefined;
    if (len > segMss && !sink.reserve(hl + len, align)) {
      // No large buffer: one MSS-sized segment instead (the rest follows in this output pass).
      len = segMss;
      flags &= ~TcpFlag.FIN;
    }
    if (len <= segMss && !sink.reserve(hl + len, align)) {
      this.count(TcpCounter.TxNoBuffer);
      return -1;
    }
    const buf = sink.txBuf, base = sink.txOff;
    if (len > 0) {
      const got = this.peekTx(off, buf, base + hl, len);
      if (got < len) {
        // A spliced source went void (reset) under us: send what we have; the app aborts the connection.
        this.count(TcpCounter.TxSourceShort);
        len = got;
        flags &= ~TcpFlag.FIN;
      }
    }
    const total = hl + len;
    const v = ctx.txView;
    v.bindForWrite(buf, base, total);
    v.srcPort = this.localPort;
    v.dstPort = this.remotePort;
    v.seq = seq;
    const withAck = (flags & TcpFlag.ACK) !== 0;
    v.ack = withAck ? this.rcvNxt : 0;
    v.headerLen = hl;
    v.flags = flags;
    v.window = this.advertiseWindow(syn);
    v.checksum = 0;
    v.urgent = 0;
    if (optLen > 0) writeTcpOptions(buf, base + TCP_HEADER_LEN, o);
    if (cfg.fillChecksum) v.fillChecksum(this.localIp, this.remoteIp);
    if (len > segMss) {
      sink.commit(this.localIp, this.remoteIp, total, segMss);
      this.count(TcpCounter.SegmentsOut, Math.ceil(len / segMss));
      this.count(TcpCounter.TsoSegmentsOut);
    } else {
      sink.commit(this.localIp, this.remoteIp, total);
      this.count(TcpCounter.SegmentsOut);
    }
    if (len > 0) {
      this.count(TcpCounter.DataBytesOut, len);
      this.bytesOut += len;
    }
    if (withAck) {
      this.lastAckSent = this.rcvNxt;
      this.flags &= ~F_ACK_NOW;
      this.delackAt = Infinity;
      this.segsUnacked = 0;
      this.armWindowUpdate();
    }
    return len;
  }

  /** After advertising a reduced window, ask the rx fifo to tell us when the app has made room. */
  private armWindowUpdate(): void {
    const rx = this.rxFifo;
    if (rx.dequeueNotifyArmed) return;
    const wnd = (this.rcvAdv - this.rcvNxt) >>> 0;
    if (wnd >= rx.size >>> 1) return;
    const inc = Math.min(rx.size >>> 1, this.rcvMss);
    const thr = rx.size - wnd - inc;
    if (thr > 0) rx.wantDequeueNotify(DequeueNotify.BelowThreshold, thr + 1);
    else rx.wantDequeueNotify(DequeueNotify.IfEmpty);
  }

  /** RFC 2018 §4: the block with the most recent segment first, then the others. */
  private fillSackBlocks(o: TcpOptions): void {
    const rx = this.rxFifo;
    const max = this.flags & F_TS ? MAX_SACK_BLOCKS_WITH_TS : MAX_SACK_BLOCKS_NO_TS;
    const n = rx.oooSegmentCount;
    const first = rx.oooLastIndex >= 0 ? rx.oooLastIndex : 0;
    let k = 0;
    for (let j = 0; j < n && k < max; j++) {
      const i = j === 0 ? first : (j <= first ? j - 1 : j);
      const l = (this.rcvNxt + rx.oooSegmentOffset(i)) >>> 0;
      o.sackBlocks[2 * k] = l;
      o.sackBlocks[2 * k + 1] = (l + rx.oooSegmentLength(i)) >>> 0;
      k++;
    }
    o.sackCount = k;
  }

  /** Send RST (RFC 9293 §3.10.7.1 style): with ACK when `withAck`. */
  private sendRst(seq: number, ack: number, withAck: boolean): void {
    const ctx = this.ctx;
    const sink = ctx.sink;
    if (!sink.reserve(TCP_HEADER_LEN)) { this.count(TcpCounter.TxNoBuffer); return; }
    const v = ctx.txView;
    v.bindForWrite(sink.txBuf, sink.txOff, TCP_HEADER_LEN);
    v.srcPort = this.localPort;
    v.dstPort = this.remotePort;
    v.seq = seq;
    v.ack = withAck ? ack : 0;
    v.headerLen = TCP_HEADER_LEN;
    v.flags = TcpFlag.RST | (withAck ? TcpFlag.ACK : 0);
    v.window = 0;
    v.checksum = 0;
    v.urgent = 0;
    if (ctx.config.fillChecksum) v.fillChecksum(this.localIp, this.remoteIp);
    sink.commit(this.localIp, this.remoteIp, TCP_HEADER_LEN);
    this.count(TcpCounter.SegmentsOut);
    this.count(TcpCounter.ResetsOut);
  }

  // --- endings --------------------------------------------------------------------------------------------

  private failConnect(reason: 'refused' | 'timeout'): void {
    this.count(TcpCounter.ConnectFailed);
    this.flags |= F_CLOSED_NOTIFIED;
    this.release();
    this.app.onConnectFailed?.(this, reason);
  }

  /** Final app callbacks (once): onReset when `reset`, then onClosed. */
  private notifyClosed(reset: boolean): void {
    if ((this.flags & (F_CLOSED_NOTIFIED | F_SURFACED)) !== F_SURFACED) return;
    this.flags |= F_CLOSED_NOTIFIED;
    if (reset) this.app.onReset?.(this);
    this.app.onClosed?.(this);
  }

  /** Leave the connection table and tell the app. */
  private finish(reset: boolean): void {
    this.release();
    this.notifyClosed(reset);
  }

  private release(): void {
    if (this.flags & F_RELEASED) return;
    if (this.state === TcpState.SynReceived && this.listener && (this.flags & F_PASSIVE)) this.listener.halfOpen--;
    this.flags |= F_RELEASED;
    this.count(TcpCounter.Closed);
    // timerAt = Infinity makes any heap entry stale, so the timer queue skips this connection.
    this.rtoAt = this.persistAt = this.delackAt = this.closeAt = this.timerAt = this.probeAt = Infinity;
    this.rxFifo.onDequeueNotify = null;
    this.txFifo.onDequeueNotify = null;
    this.ctx.release(this);
    this.state = TcpState.Closed;
    // Nobody reads these any more: their rings go back to the thread's pool.
    this.rxFifo.discard();
    this.txFifo.discard();
    // The source's bytes belong to its owner (its own close/reset path disposes of them).
    this.txSource = null;
  }

  /** Per-connection details for `show session verbose`. */
  info(now: number): TcpConnectionInfo {
    return {
      state: this.stateName,
      localIp: this.localIp, localPort: this.localPort, remoteIp: this.remoteIp, remotePort: this.remotePort,
      ageMs: now - this.createdAt,
      sndUna: this.sndUna, sndNxt: this.sndNxt, sndMax: this.sndMax, sndWnd: this.sndWnd, sndWscale: this.sndWscale,
      rcvNxt: this.rcvNxt, rcvWnd: (this.rcvAdv - this.rcvNxt) >>> 0, rcvWscale: this.rcvWscale,
      sndMss: this.sndMss, cc: this.cc.algo, cwnd: Math.round(this.cc.cwnd), ssthresh: this.cc.ssthresh,
      srttMs: this.rtt.srtt, rttvarMs: this.rtt.rttvar, rtoMs: this.rtt.rto,
      timestamps: this.timestampsEnabled, sack: this.sackEnabled, inRecovery: this.inRecovery,
      rxFifo: { size: this.rxFifo.size, used: this.rxFifo.maxDequeue, ooo: this.rxFifo.oooSegmentCount },
      txFifo: { size: this.txFifo.size, used: this.txFifo.maxDequeue },
      ...(this.txSource !== null ? { txSpliced: { used: this.txSource.maxDequeue } } : {}),
      bytesIn: this.bytesIn, bytesOut: this.bytesOut, retransmitted: this.retransmitted,
    };
  }
}

export interface TcpConnectionInfo {
  state: string;
  localIp: number; localPort: number; remoteIp: number; remotePort: number;
  ageMs: number;
  sndUna: number; sndNxt: number; sndMax: number; sndWnd: number; sndWscale: number;
  rcvNxt: number; rcvWnd: number; rcvWscale: number;
  sndMss: number; cc: string; cwnd: number; ssthresh: number;
  srttMs: number; rttvarMs: number; rtoMs: number;
  timestamps: boolean; sack: boolean; inRecovery: boolean;
  rxFifo: { size: number; used: number; ooo: number };
  txFifo: { size: number; used: number };
  /** Bytes queued in a spliced tx source (sent-unacknowledged ones included), when one is attached. */
  txSpliced?: { used: number };
  bytesIn: number; bytesOut: number; retransmitted: number;
}

/** seq ∈ [start, start+len) modulo 2^32. */
function inWindow(seq: number, start: number, len: number): boolean {
  const d = (seq - start) >>> 0;
  return d < len;
}
