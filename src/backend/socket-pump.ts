// Moves one stream's bytes between a kernel TCP socket (node:net) and its ring endpoint, with
// backpressure both ways: a full ring pauses the socket, a socket that will not take more stops
// reading the ring. At most one socket chunk is ever held here.
import type { Socket } from 'node:net';
import type { StreamEndpoint } from './ring-table.js';
import { errnoToEndReason } from './errno-reason.js';
import { StreamEndReason } from '../socks/codes.js';

const MAX_WRITE_CHUNK = 64 * 1024;

export class SocketPump {
  /** Part of a socket chunk the ring had no room for. */
  private held: Uint8Array | undefined;
  private remoteEnded = false;
  private eofPropagated = false;
  private socketClosed = false;
  private socketBlocked = false;
  private endSent = false;
  private finished = false;
  /** Why the stream ended, set by the first cause seen; DONE when none. */
  private reason: number | undefined;

  /** `onDone(reason)` runs once, after the backend has released its hold on the slot. */
  constructor(
    private readonly ep: StreamEndpoint,
    private readonly socket: Socket,
    private readonly onDone: (reason: number) => void,
  ) {}

  /** Attach to an already connected socket and start moving bytes. */
  start(): void {
    const s = this.socket;
    s.on('data', (chunk: Buffer) => this.fromSocket(chunk));
    s.on('end', () => {
      this.remoteEnded = true;
      this.propagateEof();
    });
    s.on('drain', () => {
      this.socketBlocked = false;
      this.toSocket();
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      this.reason ??= errnoToEndReason(err.code);
      this.ep.reset();
    });
    s.on('close', () => {
      this.socketClosed = true;
      if (!this.remoteEnded && !this.ep.isReset) {
        // Closed without a FIN from the far side: the stream did not end cleanly.
        this.reason ??= StreamEndReason.CONNRESET;
        this.ep.reset();
      }
      this.maybeFinish();
    });
    this.toSocket();
  }

  /** The doorbell listed this slot: the ring has data/space/EOF/reset for us. */
  service(): void {
    if (this.finished) return;
    if (this.ep.isReset) {
      this.abort(StreamEndReason.CONNRESET);
      return;
    }
    if (this.held) this.flushHeld();
    this.toSocket();
  }

  /** Abort: reset the ring and the connection. */
  abort(reason: number = StreamEndReason.MISC): void {
    this.reason ??= reason;
    this.ep.reset();
    this.held = undefined;
    if (!this.socketClosed) {
      const s = this.socket as Socket & { resetAndDestroy?: () => void };
      if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
      else s.destroy();
    }
    this.maybeFinish();
  }

  private fromSocket(chunk: Uint8Array): void {
    if (this.ep.isReset) return this.abort(StreamEndReason.CONNRESET);
    if (this.held) {
      // Paused streams can still deliver one chunk already in flight; hold both (bounded: two chunks).
      const merged = new Uint8Array(this.held.length + chunk.length);
      merged.set(this.held, 0);
      merged.set(chunk, this.held.length);
      this.held = merged;
    } else {
      this.held = chunk;
    }
    this.flushHeld();
  }

  private flushHeld(): void {
    const h = this.held!;
    const n = this.ep.write(h);
    if (n === h.length) {
      this.held = undefined;
      if (this.socket.isPaused()) this.socket.resume();
      this.propagateEof();
      this.maybeFinish();
      return;
    }
    if (this.ep.isReset) return this.abort(StreamEndReason.CONNRESET);
    this.held = h.subarray(n);
    this.socket.pause();
    // If space appeared between the write and arming, try again now instead of waiting for a ring.
    if (!this.ep.armWrite()) queueMicrotask(() => this.service());
  }

  private propagateEof(): void {
    if (this.remoteEnded && !this.held && !this.eofPropagated) {
      this.eofPropagated = true;
      this.ep.shutdownWrite();
    }
  }

  private toSocket(): void {
    for (;;) {
      if (this.finished || this.socketClosed || this.socketBlocked || this.endSent) return;
      const n = Math.min(this.ep.readable(), MAX_WRITE_CHUNK);
      if (n > 0) {
        // node:net keeps a reference until the kernel takes the bytes, so each write gets its own buffer.
        const buf = Buffer.allocUnsafe(n);
        this.ep.read(buf);
        if (!this.socket.write(buf)) this.socketBlocked = true;
        continue;
      }
      if (this.ep.readEnded) {
        this.endSent = true;
        this.socket.end();
        return;
      }
      if (this.ep.isReset) return this.abort(StreamEndReason.CONNRESET);
      if (this.ep.armRead()) return;
    }
  }

  private maybeFinish(): void {
    if (this.finished || !this.socketClosed) return;
    // A cleanly closed socket may still have its last bytes (and so its FIN) waiting for ring space.
    if (!this.ep.isReset && (this.held || !this.eofPropagated)) return;
    this.finished = true;
    this.ep.release();
    this.onDone(this.reason ?? StreamEndReason.DONE);
  }
}
