// One SOCKS client connection: the SOCKS engine during the handshake, then a splice between the
// session and the stream's rings. Upload: rx fifo → toBackend ring (a copy); a full ring leaves bytes in
// the rx fifo (the client's TCP window closes). Download: TCP sends straight from the toDataplane ring
// (spliced after the SOCKS reply in the tx fifo) and bytes leave the ring only when the client ACKs them,
// so the ring bounds queued + in-flight bytes; a slow client fills it and the backend stops reading its
// Tor stream.

import type { BackendEvent, ResolveAnswer, StreamTarget } from '../../src/backend/interface.js';
import type { StreamEndpoint } from '../../src/backend/ring-table.js';
import type { TcpTxSource } from '../../src/net/tcp/types.js';
import type { Session } from '../../src/session/session.js';
import { STREAM_END_COUNTERS, StreamEndReason, streamEndReasonName, type StreamEndReasonCode } from '../../src/socks/codes.js';
import { SocksServerSession, type SocksAction, type SocksRequest } from '../../src/socks/server.js';
import type { BackendHandle } from './backends.js';

export type StreamState = 'handshake' | 'connecting' | 'resolving' | 'open' | 'closing' | 'closed';

/** What a stream needs from the plugin. */
export interface StreamHost {
  readonly backend: BackendHandle | undefined;
  count(counter: string): void;
  register(stream: SocksStream): void;
  finished(stream: SocksStream): void;
  /** The stream's state changed (for stream events). */
  changed(stream: SocksStream): void;
  scratch: Uint8Array;
}

export class SocksStream {
  state: StreamState = 'handshake';
  request?: SocksRequest;
  backend?: BackendHandle;
  slot = -1;
  private endpoint?: StreamEndpoint;
  /** The download ring as the session's spliced tx source, once the stream is open. */
  private txSource?: RingTxSource;
  // Upload: rx fifo → ring straight from the fifo's storage (no scratch staging).
  private readonly drainToRing = (src: Uint8Array, at: number, n: number): number => this.endpoint!.write(src.subarray(at, at + n));
  bytesUp = 0;
  /** Download bytes the client has acknowledged (they left the ring). */
  bytesDown = 0;
  endReason?: string;
  /** Circuit the backend reports for this stream, if it knows. */
  circuit?: string;
  /** Local port of the backend's SOCKS connection for this stream (external, managed). */
  sourcePort?: number;
  /** The backend could not open the stream. */
  failed = false;
  /** The END reason the backend reported, if any. */
  endReasonCode = 0;
  private clientEof = false;
  private sentClientEof = false;
  private sentBackendEof = false;
  private backendDone = false;
  private released = false;

  /** The backend has said its last word about this stream. */
  get backendFinished(): boolean {
    return this.backendDone;
  }

  constructor(
    readonly id: number,
    readonly session: Session,
    readonly engine: SocksServerSession,
    private readonly host: StreamHost,
    readonly createdAt: number,
  ) {}

  get clientAddr(): number {
    return this.session.remoteIp;
  }
  get clientPort(): number {
    return this.session.remotePort;
  }

  /** Runs the engine's actions. */
  apply(actions: SocksAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'send':
          this.session.write(a.bytes);
          break;
        case 'count':
          this.host.count(a.counter);
          break;
        case 'open':
          this.open(a.request);
          break;
        case 'forward':
          this.forward(a.bytes);
          break;
        case 'forward-eof':
          this.clientEof = true;
          this.pumpUp();
          break;
        case 'abort':
          this.abortOpen();
          break;
        case 'close':
          this.closeClient();
          break;
      }
    }
  }

  private open(req: SocksRequest): void {
    this.request = req;
    const b = this.host.backend;
    if (!b || b.state === 'failed' || b.state === 'closed' || !b.backend) {
      this.apply(this.engine.failed(StreamEndReason.INTERNAL));
      this.endReason = 'no backend';
      return;
    }
    this.backend = b;
    if (req.command !== 'connect') {
      this.state = 'resolving';
      this.host.register(this);
      b.backend.send({
        type: 'resolve',
        id: this.id,
        mode: req.command === 'resolve' ? 'forward' : 'reverse',
        name: req.target.kind === 'host' ? req.target.host : req.target.addr,
        isolationKey: req.isolationKey,
      });
      return;
    }
    const slot = b.table.alloc();
    if (slot === undefined) {
      this.endReason = 'RESOURCELIMIT';
      this.apply(this.engine.failed(StreamEndReason.RESOURCELIMIT));
      return;
    }
    this.slot = slot;
    this.endpoint = b.table.endpoint(slot, 'dataplane');
    b.streams++;
    b.bySlot.set(slot, this);
    this.state = 'connecting';
    this.host.register(this);
    this.host.changed(this);
    b.backend.send({
      type: 'open',
      id: this.id,
      slot,
      generation: b.table.generation(slot),
      target: req.target as StreamTarget,
      isolationKey: req.isolationKey,
    });
  }

  /** Optimistic data from the engine: into the ring (it is empty at this point, so it fits). */
  private forward(bytes: Uint8Array): void {
    if (!this.endpoint) return;
    const n = this.endpoint.write(bytes);
    this.bytesUp += n;
  }

  private abortOpen(): void {
    if (this.state === 'connecting' || this.state === 'resolving') {
      this.backend?.backend?.send({ type: 'abort', id: this.id });
      this.endReason = 'TIMEOUT';
    }
  }

  /** Client bytes arrived (or the fifo has room to take more from the ring). */
  onRx(): void {
    if (this.state === 'handshake') {
      const s = this.host.scratch;
      let n;
      while (this.state === 'handshake' && (n = this.session.read(s, 0, Math.min(s.length, 1024))) > 0) {
        this.apply(this.engine.receive(s.subarray(0, n), performance.now()));
      }
      return;
    }
    this.pumpUp();
  }

  onPeerClosed(): void {
    if (this.state === 'handshake') {
      this.apply(this.engine.clientEof());
      return;
    }
    this.clientEof = true;
    this.pumpUp();
  }

  onBackendEvent(e: BackendEvent): void {
    switch (e.type) {
      case 'connected':
        if (this.state !== 'connecting') return;
        this.state = 'open';
        this.sourcePort = e.sourcePort;
        this.circuit = e.circuit;
        this.host.changed(this);
        this.apply(this.engine.connected(e.bound));
        this.service();
        break;
      case 'failed':
        this.backendDone = true;
        this.failed = true;
        this.endReasonCode = e.reason;
        this.endReason = (e.onionCode ? `onion 0x${e.onionCode.toString(16)}` : undefined) ?? streamEndReasonName(e.reason) ?? String(e.reason);
        this.host.count(STREAM_END_COUNTERS.get(e.reason as StreamEndReasonCode)?.name ?? 'stream-end-misc');
        if (this.state === 'connecting' || this.state === 'resolving') this.apply(this.engine.failed(e.reason, e.onionCode as Parameters<SocksServerSession["failed"]>[1]));
        this.releaseSlot();
        this.maybeFinish();
        break;
      case 'closed':
        this.backendDone = true;
        this.endReasonCode = e.reason;
        this.endReason ??= streamEndReasonName(e.reason) ?? String(e.reason);
        this.host.count(STREAM_END_COUNTERS.get(e.reason as StreamEndReasonCode)?.name ?? 'stream-end-misc');
        this.service();
        this.maybeFinish();
        break;
      case 'resolved':
        if (this.state !== 'resolving') return;
        this.backendDone = true;
        this.apply(this.engine.resolved(e.answer as ResolveAnswer));
        break;
    }
  }

  /** Moves bytes both ways as far as rings and fifos allow; called on doorbells and fifo events. */
  service(): void {
    const ep = this.endpoint;
    if (!ep || this.state === 'closed') return;
    if (ep.isReset) {
      // Before CONNECTED the backend's `failed` follows its reset: that answers the client with a
      // SOCKS error reply instead of a RST.
      if (this.state === 'connecting') return;
      this.endReason ??= 'reset';
      this.session.abort();
      return;
    }
    this.pumpUp();
    this.pumpDown();
  }

  private pumpUp(): void {
    const ep = this.endpoint;
    if (!ep || this.sentBackendEof || this.state === 'closed' || this.state === 'handshake') return;
    for (;;) {
      const room = ep.writable();
      const avail = this.session.rxFifo.maxDequeue;
      const n = Math.min(room, avail);
      if (n === 0) {
        if (avail > 0 && !ep.armWrite()) continue; // space appeared meanwhile
        break;
      }
      const got = this.session.readWith(n, this.drainToRing);
      if (got === 0) break; // the ring refused (reset or half-closed): the service loop sees why
      this.bytesUp += got;
    }
    if (this.clientEof && this.session.rxFifo.maxDequeue === 0) {
      this.sentBackendEof = true;
      ep.shutdownWrite();
    }
  }

  /**
   * Download: the first call splices the ring after the SOCKS reply; later ones tell TCP the ring may hold
   * more, re-arm the data doorbell, and queue the FIN once the backend half-closed (every byte it will
   * send is in the ring by then, so the FIN need not wait for the client's ACKs).
   */
  private pumpDown(): void {
    const ep = this.endpoint;
    if (!ep || this.sentClientEof || this.state !== 'open') return;
    if (!this.txSource) {
      const src = new RingTxSource(ep, this);
      if (!this.session.spliceTx(src)) return; // the session is gone: onSessionClosed follows
      this.txSource = src;
    }
    // EOF before the byte count (the backend writes, then sets EOF): nothing can follow what TCP sees now.
    if (ep.rx.isEofSet()) {
      this.sentClientEof = true;
      this.session.shutdownWrite();
      this.maybeFinish();
      return;
    }
    // TCP looks at the ring at the next flush; when it has sent all of it, it re-arms the data doorbell
    // (RingTxSource.wantData).
    if (ep.readable() > 0) this.session.txReady();
    else ep.armRead(); // nothing yet (just opened): TCP has nothing to send, so it would not ask
  }

  private closeClient(): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    this.session.close();
  }

  /** Both directions done and the backend finished: close the client side. */
  private maybeFinish(): void {
    if (this.backendDone && (this.sentClientEof || !this.endpoint) && this.state === 'open') this.closeClient();
  }

  private releaseSlot(): void {
    if (this.released || !this.endpoint) return;
    this.released = true;
    // The slot may serve another stream next: a connection lingering in TIME-WAIT must not see its ring.
    this.txSource?.detach();
    this.endpoint.release();
    if (this.backend) {
      this.backend.streams--;
      if (this.backend.bySlot.get(this.slot) === this) this.backend.bySlot.delete(this.slot);
    }
  }

  /** The client session is gone (closed or reset). */
  onSessionClosed(reset: boolean): void {
    if (this.state === 'closed') return;
    if (reset) this.endReason ??= 'client reset';
    if (this.endpoint && !this.backendDone) {
      // The backend stops its Tor stream when it sees the reset.
      if (reset || !this.sentBackendEof) this.endpoint.reset();
    }
    if ((this.state === 'connecting' || this.state === 'resolving') && !this.backendDone) {
      this.backend?.backend?.send({ type: 'abort', id: this.id });
    }
    this.state = 'closed';
    this.releaseSlot();
    this.host.changed(this);
    this.host.finished(this);
  }
}

/**
 * The stream's toDataplane ring as a TCP tx source: TCP peeks it at offsets (retransmissions again) and
 * skips bytes once the client ACKs them, which also rings the backend's doorbell when it waits for space.
 */
class RingTxSource implements TcpTxSource {
  private detached = false;
  /** Bytes skipped so far: the ring's read position (it starts at 0 when the slot is allocated). */
  private consumed = 0;

  constructor(private readonly ep: StreamEndpoint, private readonly stream: SocksStream) {}

  get maxDequeue(): number {
    // A reset ring's bytes are void (peek gives none): TCP stops sending; the stream aborts the session.
    return this.detached || this.ep.isReset ? 0 : this.ep.readable();
  }

  peek(offset: number, dst: Uint8Array, dstOff: number, len: number): number {
    if (this.detached) return 0;
    return this.ep.peek(dst.subarray(dstOff, dstOff + len), offset);
  }

  dequeueDrop(n: number): void {
    if (this.detached) return;
    const k = this.ep.skip(n);
    this.consumed += k;
    this.stream.bytesDown += k;
  }

  wantData(known: number): boolean {
    if (this.detached) return false;
    this.ep.armRead();
    return this.maxDequeue > known;
  }

  /** The ring's storage starts 8-aligned in its SharedArrayBuffer: a byte's address mod 8 is its position's. */
  alignment(offset: number): number {
    return (this.consumed + offset) & 7;
  }

  /** The slot goes back to the table: no more access to its ring. */
  detach(): void {
    this.detached = true;
  }
}
