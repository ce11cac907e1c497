// A session: one transport connection as applications see it (VPP's session_t). Applications read
// the rx fifo and write the tx fifo through it; every request is applied by the transport at its
// next flush, which the session layer schedules.

import type { TcpConnection } from '../net/tcp/connection.js';
import type { TcpTxSource } from '../net/tcp/types.js';
import { DequeueNotify, type SessionFifo } from './fifo.js';

/** What an application gets told about its sessions. */
export interface SessionApp {
  readonly name: string;
  /** A passive open completed; return false to refuse it (the peer gets a RST). */
  onAccept?(s: Session): boolean | void;
  onConnected?(s: Session): void;
  onConnectFailed?(s: Session, reason: 'refused' | 'timeout'): void;
  /** Data is waiting in the rx fifo (raised once per empty→non-empty; `read` re-arms it). */
  onRx?(s: Session): void;
  /** Space freed in the tx fifo after `wantTxSpace`. */
  onTxSpace?(s: Session): void;
  /** The peer sent FIN: nothing more will arrive. */
  onPeerClosed?(s: Session): void;
  onReset?(s: Session): void;
  /** The session is gone; it must not be used afterwards. */
  onClosed?(s: Session): void;
}

/** What a session needs from the layer that owns it. */
export interface SessionOwner {
  /** The transport has pending requests: flush soon. */
  kick(): void;
  send(conn: TcpConnection): void;
  shutdownWrite(conn: TcpConnection): void;
  close(conn: TcpConnection): void;
  abort(conn: TcpConnection): void;
}

export class Session {
  /** Application state hung on the session. */
  appData: unknown = undefined;
  closed = false;
  /** Fifo tail positions at the session layer's last idle sweep (storage of fifos unchanged since is released). */
  sweepRxTail = -1;
  sweepTxTail = -1;

  constructor(
    readonly id: number,
    readonly app: SessionApp,
    readonly conn: TcpConnection,
    private readonly owner: SessionOwner,
    readonly createdAt: number,
  ) {}

  get rxFifo(): SessionFifo {
    return this.conn.rxFifo;
  }

  get txFifo(): SessionFifo {
    return this.conn.txFifo;
  }

  get localIp(): number {
    return this.conn.localIp;
  }
  get localPort(): number {
    return this.conn.localPort;
  }
  get remoteIp(): number {
    return this.conn.remoteIp;
  }
  get remotePort(): number {
    return this.conn.remotePort;
  }

  /**
   * Moves up to `len` received bytes into dst; clears the rx event when the fifo is drained so the
   * next arrival raises `onRx` again. The freed space reopens the peer's window at the next flush.
   */
  read(dst: Uint8Array, off = 0, len = dst.length - off): number {
    const n = this.conn.rxFifo.dequeue(dst, off, len);
    if (this.conn.rxFifo.isEmpty) this.conn.rxFifo.unsetEvent();
    if (n > 0) this.owner.kick();
    return n;
  }

  /** Like `read`, but `drain(src, at, n)` takes the bytes straight from the rx fifo (fifo.dequeueWith). */
  readWith(len: number, drain: (src: Uint8Array, at: number, n: number) => number): number {
    const n = this.conn.rxFifo.dequeueWith(len, drain);
    if (this.conn.rxFifo.isEmpty) this.conn.rxFifo.unsetEvent();
    if (n > 0) this.owner.kick();
    return n;
  }

  /** Drops up to `len` received bytes without copying them (sinks, or after `rxFifo.peek`); returns how many. */
  discard(len: number): number {
    const n = this.conn.rxFifo.dequeueDrop(len);
    if (this.conn.rxFifo.isEmpty) this.conn.rxFifo.unsetEvent();
    if (n > 0) this.owner.kick();
    return n;
  }

  /** Queues up to `len` bytes for sending; returns how many fitted (0 after `spliceTx`). */
  write(src: Uint8Array, off = 0, len = src.length - off): number {
    if (this.conn.txSpliced !== null) return 0;
    const n = this.conn.txFifo.enqueue(src, off, len);
    if (n > 0) {
      this.owner.send(this.conn);
      this.owner.kick();
    }
    return n;
  }

  /** Like `write`, but `fill(dst, at, n)` puts the bytes straight into the tx fifo (fifo.enqueueWith). */
  writeWith(len: number, fill: (dst: Uint8Array, at: number, n: number) => number): number {
    if (this.conn.txSpliced !== null) return 0;
    const n = this.conn.txFifo.enqueueWith(len, fill);
    if (n > 0) {
      this.owner.send(this.conn);
      this.owner.kick();
    }
    return n;
  }

  /**
   * From now on the transport sends `src`'s bytes after what the tx fifo holds, straight from the source
   * (no copy into the fifo); they leave the source when the peer acknowledges them. Writes to the tx fifo
   * are refused afterwards (they would go out of order): `write`/`writeWith` return 0. `shutdownWrite`
   * puts the FIN after the source's bytes, so call it only once the source will grow no more. Returns
   * false when a source is spliced already or the session is gone.
   */
  spliceTx(src: TcpTxSource): boolean {
    if (this.closed || !this.conn.spliceTx(src)) return false;
    this.txReady();
    return true;
  }

  /** The spliced source has more bytes (or the app wants the send queue looked at): send at the next flush. */
  txReady(): void {
    this.owner.send(this.conn);
    this.owner.kick();
  }

  /** Asks for `onTxSpace` once at least `bytes` are free in the tx fifo. */
  wantTxSpace(bytes: number): void {
    const fifo = this.conn.txFifo;
    // The fifo notifies when its fill drops below a threshold: size - bytes leaves `bytes` free.
    fifo.wantDequeueNotify(DequeueNotify.BelowThreshold, Math.max(1, fifo.size - bytes + 1));
  }

  /** FIN after the queued data; receiving goes on (half-close). */
  shutdownWrite(): void {
    this.owner.shutdownWrite(this.conn);
    this.owner.kick();
  }

  close(): void {
    this.owner.close(this.conn);
    this.owner.kick();
  }

  /** RST now. */
  abort(): void {
    this.owner.abort(this.conn);
    this.owner.kick();
  }
}
