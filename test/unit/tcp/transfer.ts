/** Bulk-transfer apps for simulated-link tests: a sender that fills its tx fifo and a receiver that hashes. */
import { createHash, type Hash } from 'node:crypto';
import { DequeueNotify } from '../../../src/session/fifo.js';
import type { TcpConnection } from '../../../src/net/tcp/connection.js';
import type { TcpStack } from '../../../src/net/tcp/stack.js';
import type { TcpAppHandler } from '../../../src/net/tcp/types.js';
import { rng } from './sim.js';

export function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const x = (r() * 4294967296) >>> 0;
    b[i] = x; b[i + 1] = x >>> 8; b[i + 2] = x >>> 16; b[i + 3] = x >>> 24;
  }
  return b;
}

export class Receiver implements TcpAppHandler {
  readonly hash: Hash = createHash('sha256');
  received = 0;
  peerClosed = false;
  closed = false;
  reset = false;
  conn: TcpConnection | null = null;
  private readonly buf = new Uint8Array(65536);
  /** When set, read at most this many bytes per onRx / drain() call (slow application). */
  readLimit = Infinity;
  paused = false;
  closeOnPeerClose = true;
  constructor(private readonly stack: () => TcpStack) {}
  onAccept(c: TcpConnection): void { this.conn = c; }
  onConnected(c: TcpConnection): void { this.conn = c; }
  onRx(c: TcpConnection): void { this.conn = c; if (!this.paused) this.drain(); }
  drain(): void {
    const c = this.conn!;
    c.rxFifo.unsetEvent();
    let budget = this.readLimit;
    while (budget > 0) {
      const n = c.rxFifo.dequeue(this.buf, 0, Math.min(this.buf.length, budget));
      if (n === 0) break;
      this.hash.update(this.buf.subarray(0, n));
      this.received += n;
      budget -= n;
    }
    if (c.rxFifo.maxDequeue > 0 && !c.rxFifo.hasEvent) c.rxFifo.setEvent(); // still data: keep the event
  }
  onPeerClosed(c: TcpConnection): void {
    this.peerClosed = true;
    if (this.closeOnPeerClose) this.stack().close(c);
  }
  onReset(): void { this.reset = true; }
  onClosed(): void { this.closed = true; }
}

export class Sender implements TcpAppHandler {
  sent = 0;
  connected = false;
  closed = false;
  reset = false;
  failed: string | null = null;
  conn: TcpConnection | null = null;
  peerClosed = false;
  constructor(private readonly stack: () => TcpStack, private readonly data: Uint8Array, private readonly closeWhenDone = true) {}
  onConnected(c: TcpConnection): void { this.connected = true; this.conn = c; this.push(c); }
  onAccept(c: TcpConnection): void { this.connected = true; this.conn = c; this.push(c); }
  onConnectFailed(_c: TcpConnection, reason: string): void { this.failed = reason; }
  onTxSpace(c: TcpConnection): void { this.push(c); }
  onPeerClosed(): void { this.peerClosed = true; }
  onReset(): void { this.reset = true; }
  onClosed(): void { this.closed = true; }
  push(c: TcpConnection): void {
    const n = c.txFifo.enqueue(this.data, this.sent, this.data.length - this.sent);
    this.sent += n;
    if (this.sent < this.data.length) c.txFifo.wantDequeueNotify(DequeueNotify.BelowThreshold, c.txFifo.size >>> 1);
    else if (this.closeWhenDone) this.stack().close(c);
    this.stack().send(c);
  }
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
