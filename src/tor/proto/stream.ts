import { RelayCmd } from '../cell/commands.js';
import { RELAY_DATA_MAX } from '../cell/relay-cell.js';
import { decodeConnectedBody, type Connected } from '../cell/relay/connected.js';
import { EndReason, decodeEndBody, encodeEndBody } from '../cell/relay/end.js';
import { decodeResolvedBody, type ResolvedAnswer } from '../cell/relay/resolve.js';
import { decodeXoffBody, decodeXonBody, encodeXoffBody, encodeXonBody } from '../cell/relay/flow-control.js';
import { protoError, type ProtoError } from './errors.js';
import { StreamWindows, STREAM_WINDOW_INCREMENT, STREAM_WINDOW_START } from './flow-control.js';

/**
 * Default XON/XOFF thresholds on congestion-controlled circuits, as fractions of the consumer's free
 * space when the stream opens (its capacity): XOFF once less than half is free (a 512 KiB consumer
 * then holds about cc_xoff_client = 500 cells), XON once three quarters are free again. Past XOFF the
 * consumer must still take what the exit had in flight.
 */
export const CC_XOFF_FREE_FRACTION = 1 / 2;
export const CC_XON_FREE_FRACTION = 3 / 4;

/** What a stream was opened with: BEGIN (exit TCP), BEGIN_DIR (relay's directory), RESOLVE. */
export type StreamKind = 'data' | 'dir' | 'resolve';
export type StreamState = 'connecting' | 'open' | 'closed';

export type StreamEvent =
  | { readonly type: 'connected'; readonly connected: Connected }
  | { readonly type: 'data'; readonly data: Uint8Array }
  /** Package windows grew: write() may accept more now. */
  | { readonly type: 'writable' }
  | { readonly type: 'resolved'; readonly answers: ResolvedAnswer[] }
  /** The stream is over. `remote` = the peer sent END; otherwise we ended it or the circuit died. */
  | { readonly type: 'end'; readonly reason: number; readonly remote: boolean; readonly error: ProtoError | null };

export interface StreamOptions {
  /**
   * Free space (bytes) of whatever consumes this stream's data. Stream SENDMEs are withheld until it
   * can hold everything the exit may send after the credit, so a slow consumer stops the exit.
   * After freeing space, call `stream.notifyConsumed()`. The consumer must be able to hold one initial
   * window (500 cells × 498 bytes) before any credit. Omitted: the consumer never pushes back.
   */
  readonly freeSpace?: () => number;
  /** Congestion-controlled circuits: send XOFF when `freeSpace()` drops below this (bytes). */
  readonly xoffFreeBelow?: number;
  /** Congestion-controlled circuits: send XON once `freeSpace()` is at least this again (bytes). */
  readonly xonFreeAtLeast?: number;
  // Defaults: CC_XOFF_FREE_FRACTION / CC_XON_FREE_FRACTION of freeSpace() when the stream opens.
}

export interface StreamFlowCounters {
  xoffSent: number;
  xonSent: number;
  xoffReceived: number;
  xonReceived: number;
}

/** The circuit as a stream sees it. */
export interface StreamHost {
  sendStreamMessage(stream: Stream, command: number, data: Uint8Array): void;
  /** Send one DATA cell; false if the circuit's package window toward the stream's hop is closed. */
  packageStreamData(stream: Stream, data: Uint8Array, nowMs: number): boolean;
  circuitPackageWindow(hop: number): number;
  detachStream(stream: Stream): void;
  /** The stream holds received data; the host calls `flush()` once the current batch of cells is done. */
  holdsData(stream: Stream): void;
}

/**
 * One stream on a circuit (tor-spec §6): an engine with no buffers of its own. write() sends what
 * the stream and circuit windows allow and returns how many bytes it took; data is handed to the
 * consumer through 'data' events. On a hop with congestion control (`xonXoff`) there are no stream
 * windows or stream SENDMEs: the circuit's cwnd paces sending, XOFF/XON from the exit pause and
 * resume it, and we send XOFF/XON as the consumer's free space crosses the thresholds.
 */
export class Stream {
  onEvent: (e: StreamEvent) => void = () => {};
  private st: StreamState = 'connecting';
  private readonly windows = new StreamWindows();
  private readonly freeSpace: () => number;
  /**
   * DATA received in the current batch of cells (views into the channel's read buffer), handed over
   * as one owned copy by flush(): one event and one allocation per TLS read instead of per cell, and
   * the consumer never pins the channel's buffers.
   */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private readonly xoffFreeBelow: number;
  private readonly xonFreeAtLeast: number;
  /** We sent XOFF and no XON since. */
  private xoffSent = false;
  /** The exit sent XOFF and no XON since: write() takes nothing. */
  private xoffReceived = false;
  /** The exit's last XON rate advisory (kbit/s, 0 = unlimited). */
  advisedKbps = 0;
  /** Upload pacing from the advisory: a token bucket in bytes, refilled at advisedKbps. */
  private tokens = 0;
  private tokensAt = 0;
  readonly flowCounters: StreamFlowCounters = { xoffSent: 0, xonSent: 0, xoffReceived: 0, xonReceived: 0 };

  constructor(
    private readonly host: StreamHost,
    readonly id: number,
    readonly kind: StreamKind,
    /** Index of the hop this stream terminates at. */
    readonly hop: number,
    opts: StreamOptions = {},
    /** The hop negotiated congestion control: XON/XOFF instead of stream windows. */
    readonly xonXoff = false,
  ) {
    this.freeSpace = opts.freeSpace ?? (() => Number.POSITIVE_INFINITY);
    const capacity = xonXoff ? this.freeSpace() : 0;
    this.xoffFreeBelow = opts.xoffFreeBelow ?? capacity * CC_XOFF_FREE_FRACTION;
    this.xonFreeAtLeast = Math.max(this.xoffFreeBelow, opts.xonFreeAtLeast ?? capacity * CC_XON_FREE_FRACTION);
  }

  get state(): StreamState {
    return this.st;
  }

  /** Bytes write() would accept right now. */
  get writableBytes(): number {
    if (this.st !== 'open') return 0;
    if (this.xonXoff) return this.xoffReceived ? 0 : this.host.circuitPackageWindow(this.hop) * RELAY_DATA_MAX;
    return Math.min(this.windows.packageWindow, this.host.circuitPackageWindow(this.hop)) * RELAY_DATA_MAX;
  }

  /**
   * The stream waits for consumer space (withheld stream SENDMEs, or an XOFF we sent): the consumer
   * must call notifyConsumed() when space frees up.
   */
  get awaitingConsumer(): boolean {
    if (this.st !== 'open') return false;
    return this.xonXoff ? this.xoffSent : this.windows.deliverWindow <= STREAM_WINDOW_START - STREAM_WINDOW_INCREMENT;
  }
  /**
   * Bytes the exit's XON rate advisory allows us to send now (Infinity when it set no limit), as
   * C tor paces reading from an edge after XON. write() does not enforce it (callers without timers
   * would stall); consumers that can wait (the ring pump, the duplex) send at most this much and
   * retry at uploadResumeAt().
   */
  uploadAllowance(nowMs: number): number {
    if (!this.xonXoff || this.advisedKbps === 0) return Number.POSITIVE_INFINITY;
    this.refill(nowMs);
    return Math.max(0, Math.floor(this.tokens));
  }

  /** When the paced allowance reaches one full cell again (ms), or null when uploads are not paced. */
  uploadResumeAt(nowMs: number): number | null {
    if (!this.xonXoff || this.advisedKbps === 0) return null;
    this.refill(nowMs);
    if (this.tokens >= RELAY_DATA_MAX) return nowMs;
    return nowMs + (RELAY_DATA_MAX - this.tokens) / this.bytesPerMs();
  }

  private bytesPerMs(): number {
    return this.advisedKbps / 8; // kbit/s → bytes/ms
  }
  /** Burst: 100 ms at the advised rate, at least one SENDME increment of cells. */
  private burst(): number {
    return Math.max(31 * RELAY_DATA_MAX, this.bytesPerMs() * 100);
  }
  private refill(nowMs: number): void {
    if (nowMs > this.tokensAt) {
      this.tokens = Math.min(this.burst(), this.tokens + (nowMs - this.tokensAt) * this.bytesPerMs());
      this.tokensAt = nowMs;
    }
  }

  /** We have told the exit to stop (XOFF) and not resumed it yet. */
  get stoppedExit(): boolean {
    return this.xoffSent;
  }
  /** The exit told us to stop sending (XOFF). */
  get stoppedByExit(): boolean {
    return this.xoffReceived;
  }

  get packageWindow(): number {
    return this.windows.packageWindow;
  }
  get deliverWindow(): number {
    return this.windows.deliverWindow;
  }

  /** Send as much of `data` as the windows allow, in cells of up to 498 bytes; returns bytes taken. */
  write(data: Uint8Array, nowMs: number): number {
    if (this.st !== 'open' || this.kind === 'resolve') return 0;
    let off = 0;
    if (this.xonXoff) {
      if (this.xoffReceived) return 0;
      while (off < data.length) {
        const chunk = data.subarray(off, Math.min(data.length, off + RELAY_DATA_MAX));
        if (!this.host.packageStreamData(this, chunk, nowMs)) break;
        off += chunk.length;
      }
      if (this.advisedKbps !== 0) {
        this.refill(nowMs);
        this.tokens -= off;
      }
      return off;
    }
    while (off < data.length && this.windows.packageWindow > 0) {
      const chunk = data.subarray(off, Math.min(data.length, off + RELAY_DATA_MAX));
      if (!this.host.packageStreamData(this, chunk, nowMs)) break;
      this.windows.packageWindow--;
      off += chunk.length;
    }
    return off;
  }

  /** Close the stream with RELAY_END (default DONE). */
  end(reason: number = EndReason.DONE, _nowMs?: number): void {
    if (this.st === 'closed') return;
    this.host.sendStreamMessage(this, RelayCmd.END, encodeEndBody({ reason }));
    this.host.detachStream(this);
    this.finish(reason, false, null);
  }

  /** The consumer freed space: send any stream SENDMEs it now has room for (or XON). */
  notifyConsumed(_nowMs?: number): void {
    if (this.xonXoff) this.maybeSendXon();
    else this.maybeSendSendme();
  }

  // ---- called by the circuit ----

  /** @internal */
  handleMessage(command: number, data: Uint8Array, nowMs: number): void {
    if (this.st === 'closed') return;
    switch (command) {
      case RelayCmd.CONNECTED: {
        if (this.st !== 'connecting' || this.kind === 'resolve') return this.violation('unexpected CONNECTED');
        const c = decodeConnectedBody(data);
        if (!c.ok) return this.violation('malformed CONNECTED');
        this.st = 'open';
        this.onEvent({ type: 'connected', connected: c.value });
        return;
      }
      case RelayCmd.DATA: {
        if (this.st !== 'open') return this.violation('DATA before CONNECTED');
        if (!this.xonXoff && !this.windows.noteDelivered()) return this.violation('stream deliver window exceeded');
        if (data.length > 0) {
          if (this.held.length === 0) this.host.holdsData(this);
          this.held.push(data);
          this.heldBytes += data.length;
        }
        if (this.xonXoff) this.maybeSendXoff();
        else this.maybeSendSendme();
        return;
      }
      case RelayCmd.SENDME: {
        if (this.xonXoff) return this.violation('stream SENDME on a congestion-controlled circuit');
        if (!this.windows.noteSendme()) return this.violation('stream SENDME overflows the package window');
        if (this.st === 'open') this.onEvent({ type: 'writable' });
        return;
      }
      case RelayCmd.XOFF: {
        if (!this.xonXoff) return this.violation('XOFF without congestion control');
        if (!decodeXoffBody(data).ok) return this.violation('malformed XOFF');
        this.flowCounters.xoffReceived++;
        this.xoffReceived = true;
        return;
      }
      case RelayCmd.XON: {
        if (!this.xonXoff) return this.violation('XON without congestion control');
        const x = decodeXonBody(data);
        if (!x.ok) return this.violation('malformed XON');
        this.flowCounters.xonReceived++;
        if (x.value.kbpsEwma !== 0 && this.advisedKbps === 0) {
          // Pacing starts with a full burst.
          this.advisedKbps = x.value.kbpsEwma;
          this.tokens = this.burst();
          this.tokensAt = nowMs;
        } else {
          this.refill(nowMs);
          this.advisedKbps = x.value.kbpsEwma;
          this.tokens = Math.min(this.tokens, this.burst());
        }
        const was = this.xoffReceived;
        this.xoffReceived = false;
        if (was && this.st === 'open') this.onEvent({ type: 'writable' });
        return;
      }
      case RelayCmd.END: {
        const e = decodeEndBody(data);
        this.host.detachStream(this);
        this.finish(e.ok ? e.value.reason : EndReason.MISC, true, null);
        return;
      }
      case RelayCmd.RESOLVED: {
        if (this.kind !== 'resolve') return this.violation('unexpected RESOLVED');
        const r = decodeResolvedBody(data);
        if (!r.ok) return this.violation('malformed RESOLVED');
        this.onEvent({ type: 'resolved', answers: r.value });
        this.host.detachStream(this);
        this.finish(EndReason.DONE, true, null);
        return;
      }
      default:
        return; // other relay commands on a stream are ignored, as C tor does for unknown ones
    }
  }

  /** @internal The circuit's window toward our hop grew. */
  circuitWritable(): void {
    if (this.st === 'open' && this.windows.packageWindow > 0) this.onEvent({ type: 'writable' });
  }

  /** @internal Deliver the data held from the current batch of cells as one 'data' event. */
  flush(): void {
    const held = this.held;
    if (held.length === 0) return;
    let data: Uint8Array;
    if (held.length === 1) {
      data = held[0]!.slice();
    } else {
      data = new Uint8Array(this.heldBytes);
      let off = 0;
      for (const h of held) {
        data.set(h, off);
        off += h.length;
      }
    }
    this.held = [];
    this.heldBytes = 0;
    this.onEvent({ type: 'data', data });
  }

  /** @internal The circuit is gone. */
  circuitClosed(error: ProtoError | null): void {
    this.finish(EndReason.DESTROY, false, error);
  }

  /** Consumer space (minus held bytes) fell below the threshold: ask the exit to stop reading. */
  private maybeSendXoff(): void {
    if (this.xoffSent || this.st !== 'open') return;
    if (this.freeSpace() - this.heldBytes >= this.xoffFreeBelow) return;
    this.xoffSent = true;
    this.flowCounters.xoffSent++;
    this.host.sendStreamMessage(this, RelayCmd.XOFF, encodeXoffBody());
  }

  /**
   * The consumer drained enough: resume the exit. The rate advisory is 0 ("no limit"): the consumer
   * side of this engine is a local ring or buffer, not a link whose rate the exit should match.
   */
  private maybeSendXon(): void {
    if (!this.xoffSent || this.st !== 'open') return;
    if (this.freeSpace() - this.heldBytes < this.xonFreeAtLeast) return;
    this.xoffSent = false;
    this.flowCounters.xonSent++;
    this.host.sendStreamMessage(this, RelayCmd.XON, encodeXonBody(0));
  }

  private maybeSendSendme(): void {
    // Held bytes are already on their way to the consumer: count them as used.
    while (this.st === 'open' && this.windows.shouldSendSendme(this.freeSpace() - this.heldBytes, RELAY_DATA_MAX)) {
      this.windows.creditSendme();
      this.host.sendStreamMessage(this, RelayCmd.SENDME, new Uint8Array(0));
    }
  }

  private violation(what: string): void {
    this.host.sendStreamMessage(this, RelayCmd.END, encodeEndBody({ reason: EndReason.TORPROTOCOL }));
    this.host.detachStream(this);
    this.finish(EndReason.TORPROTOCOL, false, protoError('PROTOCOL_VIOLATION', what));
  }

  private finish(reason: number, remote: boolean, error: ProtoError | null): void {
    if (this.st === 'closed') return;
    this.flush(); // data that arrived before the end goes first
    if ((this.st as StreamState) === 'closed') return; // the consumer ended the stream on that data
    this.st = 'closed';
    this.onEvent({ type: 'end', reason, remote, error });
  }
}
