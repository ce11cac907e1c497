// Moves one Tor stream's bytes between the proto Stream and its slot's rings, with backpressure both
// ways. Down (exit -> client): cells go into the toDataplane ring; what does not fit waits in a
// bounded overflow (one stream window), and the stream's SENDMEs are withheld until ring + overflow
// can take a further window, so a slow SOCKS client stops the exit. On a congestion-controlled
// circuit there are no stream windows: the stream sends XOFF once ring + overflow are half full
// (Stream's default thresholds, from freeSpace() at open) and XON once a quarter full; cells the
// exit had in flight when XOFF landed still queue here, up to a hard limit past which the stream is
// aborted. Up (client -> exit): bytes leave the toBackend ring only as fast as the stream and
// circuit package windows (or cwnd and the exit's XOFF) allow. Tor streams have no half-close: as
// C tor does on a SOCKS client's EOF, the client's EOF ends the stream with END DONE once its bytes
// are sent; that END, or the exit's END DONE, becomes ring EOF; other END reasons, a dead circuit,
// or a ring reset abort both ways.
import type { StreamEndpoint } from '../../backend/ring-table.js';
import { EndReason } from '../cell/relay/end.js';
import { RELAY_DATA_MAX } from '../cell/relay-cell.js';
import type { StreamSink } from '../circmgr/circmgr.js';
import { STREAM_WINDOW_INCREMENT, STREAM_WINDOW_START } from '../proto/flow-control.js';
import type { Stream, StreamEvent } from '../proto/stream.js';

/** Overflow above the ring: one full stream window (500 cells × 498 bytes) rounded up. */
export const OVERFLOW_CAPACITY = 256 * 1024;
/**
 * Congestion-controlled streams: most bytes queued above the ring. XOFF goes out long before this;
 * what exceeds it is an exit ignoring XOFF (or a cwnd beyond any sane size), and the stream ends.
 */
export const CC_OVERFLOW_LIMIT = 8 * 1024 * 1024;
/** Most bytes moved from the ring into the stream per pass. */
const MAX_UP_CHUNK = 32 * RELAY_DATA_MAX;

/**
 * Pumps with data queued by deliver(), drained once the event loop has run every I/O callback of this
 * turn. A TLS read yields one callback per TLS record (C tor's are a few KiB), so draining per callback
 * (a microtask) cost one ring write and one dataplane wakeup per record; per turn it is one per socket
 * read of up to 64 KiB.
 */
const drainQueue: RingStreamPump[] = [];
function queueDrain(pump: RingStreamPump): void {
  if (drainQueue.push(pump) === 1) setImmediate(drainQueued);
}
function drainQueued(): void {
  // Take the list first: a pump queued during the drain waits for the next turn.
  const pumps = drainQueue.splice(0);
  for (const p of pumps) p.drainBatch();
}

export class RingStreamPump implements StreamSink {
  private stream: Stream | undefined;
  private readonly overflow: Uint8Array[] = [];
  private overflowBytes = 0;
  /** The exit ended the stream with DONE: EOF the ring once the overflow has drained. */
  private remoteDone = false;
  private clientEof = false;
  private finished = false;
  private scheduled = false;
  /** A timer for the exit's XON rate advisory (uploads paced). */
  private paceTimer: ReturnType<typeof setTimeout> | undefined;
  private doneBeforeAttach: number | undefined;
  private batchQueued = false;
  private readonly upBuf = new Uint8Array(MAX_UP_CHUNK);
  bytesDown = 0;
  bytesUp = 0;
  /** Most bytes ever queued above the ring (for tests and stats). */
  overflowPeak = 0;

  /** `onDone(reason)` runs once, after the backend released its hold on the slot. */
  constructor(
    private readonly ep: StreamEndpoint,
    private readonly onDone: (reason: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  // ---- StreamSink ----

  freeSpace(): number {
    if (this.finished) return 0;
    // Queued bytes are headed for the ring: they use up ring space first, then the overflow.
    return Math.max(0, this.ep.writable() + OVERFLOW_CAPACITY - this.overflowBytes);
  }

  onEvent(e: StreamEvent): void {
    if (this.finished) return;
    switch (e.type) {
      case 'data':
        return this.deliver(e.data);
      case 'writable':
        return this.pullUp();
      case 'end':
        if (e.reason === EndReason.DONE && (e.remote || this.clientEof)) {
          this.remoteDone = true;
          this.drainDown();
        } else {
          this.abortRing(e.reason === EndReason.DONE ? EndReason.MISC : e.reason);
        }
        return;
      default:
        return;
    }
  }

  /** The stream is connected: start moving bytes (the dataplane may have written optimistic data). */
  attach(stream: Stream): void {
    this.stream = stream;
    if (this.doneBeforeAttach !== undefined) return this.onDone(this.doneBeforeAttach);
    if (stream.state === 'closed' && !this.finished && !this.remoteDone) this.abortRing(EndReason.DESTROY);
    this.service();
  }

  /** The backend doorbell listed this slot: data, space, EOF or reset. */
  service(): void {
    if (this.finished || !this.stream) return;
    if (this.ep.isReset) {
      // The client aborted: finish first (the END we send comes back as an 'end' event), then END.
      const s = this.stream;
      this.finish(EndReason.CONNRESET);
      if (s.state !== 'closed') s.end(EndReason.DONE, this.now());
      return;
    }
    this.drainDown();
    if (!this.finished) this.pullUp();
  }

  /** Abort from the dataplane side (abort request, shutdown). */
  abort(reason: number = EndReason.MISC): void {
    if (this.finished) return;
    const s = this.stream;
    this.abortRing(reason);
    if (s && s.state !== 'closed') s.end(EndReason.DONE, this.now());
  }

  /**
   * The open was given up before the stream was attached and the slot is already released: never
   * touch the ring again (it may belong to another stream by now) and report nothing.
   */
  cancel(): void {
    this.finished = true;
    this.overflow.length = 0;
    this.overflowBytes = 0;
  }

  // ---- down: exit -> ring (queued cells + overflow share one bounded list) ----

  private deliver(data: Uint8Array): void {
    this.bytesDown += data.length;
    // Cells arrive back to back: queue them (cell bodies are the decoder's own copies) and write them
    // to the ring once this turn's reads are processed, so the dataplane gets at most one doorbell
    // ring per batch instead of one per 498-byte cell or per TLS record.
    this.overflow.push(data);
    this.overflowBytes += data.length;
    if (this.overflowBytes > this.overflowPeak) this.overflowPeak = this.overflowBytes;
    if (this.overflowBytes > CC_OVERFLOW_LIMIT) return this.abort(EndReason.RESOURCELIMIT);
    if (!this.batchQueued) {
      this.batchQueued = true;
      queueDrain(this);
    }
  }

  /** @internal The batch of reads queued by deliver() is complete: write it to the ring. */
  drainBatch(): void {
    this.batchQueued = false;
    if (!this.finished) this.drainDown();
  }

  private drainDown(): void {
    while (this.overflowBytes > 0) {
      const room = this.ep.writable();
      if (room === 0) break;
      // Each queued chunk goes straight into the ring: the dataplane is woken by the first write only.
      const head = this.overflow[0]!;
      const n = this.ep.write(head.length > room ? head.subarray(0, room) : head);
      if (n === 0) break;
      this.consumeOverflow(n);
    }
    if (this.overflowBytes > 0) return this.waitForSpace();
    if (this.remoteDone) {
      this.ep.shutdownWrite();
      return this.finish(EndReason.DONE);
    }
    // Room freed: send any withheld stream SENDMEs; if still withheld, ask to hear about more space.
    const s = this.stream;
    if (s && s.state === 'open') {
      s.notifyConsumed(this.now());
      // Withheld stream SENDMEs (fixed windows) or an XOFF we sent (congestion control).
      const waiting = s.xonXoff ? s.awaitingConsumer : s.deliverWindow <= STREAM_WINDOW_START - STREAM_WINDOW_INCREMENT;
      if (waiting) this.ep.armWrite();
    }
  }

  private consumeOverflow(n: number): void {
    this.overflowBytes -= n;
    while (n > 0) {
      const head = this.overflow[0]!;
      if (head.length <= n) {
        n -= head.length;
        this.overflow.shift();
      } else {
        this.overflow[0] = head.subarray(n);
        n = 0;
      }
    }
  }

  private waitForSpace(): void {
    // armWrite() always registers; false means space is free right now, so retry soon instead.
    if (!this.ep.armWrite()) this.schedule();
  }

  // ---- up: ring -> exit ----

  private pullUp(): void {
    const s = this.stream;
    if (!s || this.finished || this.clientEof) return;
    for (;;) {
      if (s.state !== 'open') return;
      const now = this.now();
      // Congestion control: the exit's XON rate advisory paces uploads too.
      const room = s.xonXoff ? Math.min(s.writableBytes, s.uploadAllowance(now)) : s.writableBytes;
      if (room === 0) {
        // Out of window: a 'writable' event resumes us. Out of the exit's advised rate: a timer does.
        if (s.xonXoff && s.writableBytes > 0) this.paceAt(s.uploadResumeAt(now), now);
        return;
      }
      const avail = this.ep.readable();
      if (avail === 0) {
        if (this.ep.readEnded) {
          // No half-close in Tor: the client's EOF ends the stream (END DONE), as C tor does.
          this.clientEof = true;
          s.end(EndReason.DONE, this.now());
          return;
        }
        if (this.ep.isReset) return this.service();
        if (this.ep.armRead()) return;
        continue;
      }
      const n = this.ep.read(this.upBuf.subarray(0, Math.min(avail, room, MAX_UP_CHUNK)));
      const sent = s.write(this.upBuf.subarray(0, n), this.now());
      this.bytesUp += sent;
      if (sent < n) {
        // Windows shrank under us (cannot happen single-threaded, but never drop bytes).
        return this.abort(EndReason.INTERNAL);
      }
    }
  }

  // ---- endings ----

  private paceAt(at: number | null, now: number): void {
    if (at === null || this.paceTimer !== undefined) return;
    this.paceTimer = setTimeout(() => {
      this.paceTimer = undefined;
      if (!this.finished) this.pullUp();
    }, Math.max(1, Math.ceil(at - now)));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.service();
    });
  }

  private abortRing(reason: number): void {
    this.ep.reset();
    this.finish(reason);
  }

  private finish(reason: number): void {
    if (this.finished) return;
    this.finished = true;
    this.overflow.length = 0;
    this.overflowBytes = 0;
    if (this.paceTimer !== undefined) clearTimeout(this.paceTimer);
    this.paceTimer = undefined;
    this.ep.release();
    // Ended between CONNECTED and attach(): report after the opener has announced the connection.
    if (!this.stream) this.doneBeforeAttach = reason;
    else this.onDone(reason);
  }
}
