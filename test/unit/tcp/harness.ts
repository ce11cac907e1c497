/** One TcpStack under test, driven by hand-crafted segments; everything it sends is captured. */
import { TcpStack } from '../../../src/net/tcp/stack.js';
import type { TcpConfig } from '../../../src/net/tcp/config.js';
import type { TcpConnection } from '../../../src/net/tcp/connection.js';
import type { TcpAppHandler } from '../../../src/net/tcp/types.js';
import { emitTcp, parseTcp, TcpFlag, type TcpRepr } from '../../../src/net/wire/tcp.js';
import { CaptureSink } from './sim.js';

export const LOCAL = 0x0a000001;
export const PEER = 0x0a000002;

export interface Seg extends Partial<TcpRepr> { flags: number }

export class Harness {
  now = 0;
  readonly out: TcpRepr[] = [];
  readonly stack: TcpStack;
  readonly events: string[] = [];
  conn: TcpConnection | null = null;
  peerPort = 40000;
  localPort = 80;

  constructor(cfg: Partial<TcpConfig> = {}) {
    const sink = new CaptureSink((_s, _d, b) => {
      const p = parseTcp(b);
      if (!p.ok) throw new Error('bad segment');
      this.out.push(p.value);
    });
    this.stack = new TcpStack(sink, cfg, { secret: new Uint8Array(32).fill(7) });
  }

  /** A handler recording every callback into `events`. */
  recorder(extra: Partial<TcpAppHandler> = {}): TcpAppHandler {
    const ev = this.events;
    return {
      onAccept: (c) => { ev.push('accept'); this.conn = c; return extra.onAccept?.(c); },
      onConnected: (c) => { ev.push('connected'); this.conn = c; extra.onConnected?.(c); },
      onConnectFailed: (_c, r) => { ev.push(`connect-failed:${r}`); },
      onRx: (c) => { ev.push('rx'); extra.onRx?.(c); },
      onTxSpace: (c) => { ev.push('tx-space'); extra.onTxSpace?.(c); },
      onPeerClosed: (c) => { ev.push('peer-closed'); extra.onPeerClosed?.(c); },
      onReset: () => { ev.push('reset'); },
      onClosed: () => { ev.push('closed'); },
    };
  }

  /** Deliver a segment from the peer. */
  send(s: Seg): void {
    const repr: TcpRepr = {
      srcPort: this.peerPort, dstPort: this.localPort, seq: 0, ack: 0, window: 65535, urgent: 0, payload: new Uint8Array(0), ...s,
    };
    const buf = new Uint8Array(20 + 40 + repr.payload.length);
    const n = emitTcp(repr, buf, 0, PEER, LOCAL);
    this.stack.input(PEER, LOCAL, buf, 0, n, this.now);
  }

  /** Advance time, running timers as they fall due. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const t = this.stack.pollAt();
      if (t > end) break;
      this.now = Math.max(this.now, t);
      this.stack.poll(this.now);
    }
    this.now = end;
  }

  take(): TcpRepr[] { return this.out.splice(0); }
  last(): TcpRepr { const s = this.out[this.out.length - 1]; if (!s) throw new Error('nothing sent'); return s; }

  /**
   * Passive open on port 80 with the peer's ISN 1000; returns our ISN. Options default to a full-featured peer.
   */
  acceptFrom(peerOpts: Partial<TcpRepr> = { mss: 1460, wscale: 7, sackPermitted: true, timestamp: { tsVal: 100, tsEcr: 0 } },
    handler: TcpAppHandler = this.recorder()): number {
    this.stack.listen(LOCAL, this.localPort, handler);
    this.send({ flags: TcpFlag.SYN, seq: 1000, ...peerOpts });
    const synAck = this.take().pop()!;
    this.send({ flags: TcpFlag.ACK, seq: 1001, ack: (synAck.seq + 1) >>> 0, window: 1000,
      ...(peerOpts.timestamp ? { timestamp: { tsVal: 101, tsEcr: synAck.timestamp!.tsVal } } : {}) });
    return synAck.seq;
  }
}

export const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
