// Moves one stream's bytes between a kernel TCP socket (a descriptor of its own, see detach-socket.ts) and
// its ring endpoint in place: socket reads land in the ring's free space and socket writes leave from its
// queued bytes (the shim's readSpans/writeSpans), so no chunk is allocated or copied in JS. Backpressure
// both ways: a full ring stops reading the socket (the kernel's receive window closes); a socket that takes
// no more leaves bytes in the ring until it is writable. Readiness comes from a libuv poll handle asking
// only for what the pump can act on.
import { constants } from 'node:os';
import { loadNative, type NativeBinding } from '../native/binding.js';
import { FdEvent, watchFd, type FdWatcher } from '../native/fd-watch.js';
import { StreamEndReason } from '../socks/codes.js';
import { errnoNumberToEndReason } from './errno-reason.js';
import type { StreamEndpoint } from './ring-table.js';

const EAGAIN = constants.errno.EAGAIN;
const ENOTCONN = constants.errno.ENOTCONN;
/** Socket reads per readiness report before the loop serves others (each read fills up to a ring). */
const MAX_READS_PER_TURN = 8;

export class FdPump {
  private readonly native: NativeBinding = loadNative();
  private readonly spans = new Int32Array(4);
  private watch: FdWatcher | undefined;
  private events = 0;
  /** The socket read returned end of stream. */
  private remoteEnded = false;
  private eofPropagated = false;
  /** shutdown(SHUT_WR) done: the ring's EOF reached the socket. */
  private endSent = false;
  /** The ring was full: reading waits for the dataplane to make space (doorbell). */
  private readStalled = false;
  /** The socket took less than offered: writing waits for it to be writable. */
  private writeBlocked = false;
  private finished = false;
  /** Why the stream ended, set by the first cause seen; DONE when none. */
  private reason: number | undefined;

  /**
   * `head`: bytes already taken off the connection (a handshake's leftover, what node:net had buffered) that
   * go into the ring before anything read from `fd`. `watch`: the fd's watch if the opener had one (it is
   * taken over). `onDone(reason)` runs once, after the descriptor is closed and the backend released the slot.
   */
  constructor(
    private readonly ep: StreamEndpoint,
    private readonly fd: number,
    private readonly onDone: (reason: number) => void,
    private head?: Uint8Array,
    watch?: FdWatcher,
  ) {
    this.watch = watch;
  }

  start(): void {
    if (this.watch) {
      this.watch.setCallback(this.onReady);
      this.events = -1; // unknown: the first settle() sets it
    } else this.watch = watchFd(this.fd, this.onReady, 0);
    this.fromSocket();
    this.toSocket();
    this.settle();
  }

  /** The doorbell listed this slot: the ring has space, data, EOF or a reset for us. */
  service(): void {
    if (this.finished) return;
    if (this.ep.isReset) return this.abort(StreamEndReason.CONNRESET);
    if (this.readStalled && this.ep.writable() >= this.ep.tx.capacity >>> 1) {
      this.readStalled = false;
      this.fromSocket();
    }
    if (!this.writeBlocked) this.toSocket();
    this.settle();
  }

  /** Abort: reset the ring and the connection (RST). */
  abort(reason: number = StreamEndReason.MISC): void {
    if (this.finished) return;
    this.reason ??= reason;
    this.ep.reset();
    this.finish(true);
  }

  private readonly onReady = (status: number, events: number): void => {
    if (this.finished) return;
    if (status < 0) {
      // POLLERR: the connection failed; the pending socket error says why.
      const err = this.native.socketError(this.fd);
      return this.fail(err > 0 ? err : ENOTCONN);
    }
    if (events & FdEvent.READABLE) this.fromSocket();
    if (events & FdEvent.WRITABLE) {
      this.writeBlocked = false;
      this.toSocket();
    }
    this.settle();
  };

  private fromSocket(): void {
    const ep = this.ep, sp = this.spans;
    for (let i = 0; i < MAX_READS_PER_TURN && !this.finished && !this.remoteEnded; i++) {
      const free = ep.tx.freeSpans(sp);
      if (free > 0 && this.head) {
        const k = ep.write(this.head);
        this.head = k === this.head.length ? undefined : this.head.subarray(k);
        continue;
      }
      if (free === 0) {
        if (ep.isReset) return this.abort(StreamEndReason.CONNRESET);
        // Woken when half the ring is free: each wakeup then carries a large read, not a trickle.
        if (!ep.armWrite(ep.tx.capacity >>> 1)) continue; // that much is free already
        this.readStalled = true;
        return;
      }
      const n = this.native.readSpans(this.fd, ep.tx.bytes, sp[0]!, sp[1]!, sp[2]!, sp[3]!);
      if (n > 0) {
        ep.commitWrite(n);
        if (n < free) return; // the socket is drained; the poll reports more
      } else if (n === 0) {
        this.remoteEnded = true;
        this.eofPropagated = true;
        ep.shutdownWrite();
      } else {
        if (n !== -EAGAIN) this.fail(-n);
        return;
      }
    }
  }

  private toSocket(): void {
    const ep = this.ep, sp = this.spans;
    while (!this.finished && !this.endSent) {
      const n = ep.rx.usedSpans(sp);
      if (n > 0) {
        const w = this.native.writeSpans(this.fd, ep.rx.bytes, sp[0]!, sp[1]!, sp[2]!, sp[3]!);
        if (w > 0) {
          ep.skip(w);
          if (w === n) continue;
          this.writeBlocked = true;
        } else if (w === -EAGAIN) {
          this.writeBlocked = true;
        } else this.fail(-w);
        return;
      }
      if (ep.readEnded) {
        this.endSent = true;
        const r = this.native.shutdownWrite(this.fd);
        if (r < 0 && r !== -ENOTCONN) this.fail(-r);
        return;
      }
      if (ep.isReset) return this.abort(StreamEndReason.CONNRESET);
      if (ep.armRead()) return;
    }
  }

  /** Poll for what can move next, or close when both directions are done. */
  private settle(): void {
    if (this.finished) return;
    if (this.remoteEnded && this.endSent) return this.finish(false);
    const want = (this.remoteEnded || this.readStalled ? 0 : FdEvent.READABLE) | (this.writeBlocked ? FdEvent.WRITABLE : 0);
    if (want === this.events) return;
    this.events = want;
    const rc = this.watch!.setEvents(want);
    if (rc < 0) this.abort(StreamEndReason.INTERNAL);
  }

  private fail(errno: number): void {
    this.reason ??= errnoNumberToEndReason(errno);
    this.abort();
  }

  private finish(reset: boolean): void {
    this.finished = true;
    this.watch?.stop();
    this.native.closeStream(this.fd, reset);
    this.ep.release();
    this.onDone(this.reason ?? StreamEndReason.DONE);
  }
}
