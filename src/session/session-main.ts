// The session layer's main state: the TCP stack of this thread, the sessions applications hold,
// and the glue to the graph (segments out through ip4-lookup, timers on a process node).

import type { Main } from '../core/main.js';
import type { NetMain } from '../net/net-main.js';
import type { TcpConfig } from '../net/tcp/config.js';
import type { TcpConnection } from '../net/tcp/connection.js';
import { TcpStack, type TcpResult } from '../net/tcp/stack.js';
import type { TcpAppHandler, TcpListener } from '../net/tcp/types.js';
import { Session, type SessionApp, type SessionOwner } from './session.js';
import { TcpOutputSink } from './tcp-output.js';

export interface SessionConfig {
  rxFifoSize: number;
  txFifoSize: number;
  /** Upper bound of sessions (all states). */
  maxSessions: number;
}

export interface SessionListener {
  readonly app: SessionApp;
  readonly ip: number;
  readonly port: number;
  readonly tcp: TcpListener;
}

export class SessionMain implements SessionOwner {
  readonly stack: TcpStack;
  readonly sessions = new Map<number, Session>();
  readonly listeners: SessionListener[] = [];
  private nextId = 1;
  /** Index of the process node that runs TCP timers and flushes; set at registration. */
  timerNode = -1;
  private kicked = false;
  /** True while tcp4-input or the timer node runs the stack: a flush follows, so requests need no kick. */
  inStack = false;

  constructor(
    readonly main: Main,
    readonly net: NetMain,
    readonly config: SessionConfig,
    tcpConfig: Partial<TcpConfig>,
  ) {
    this.stack = new TcpStack(new TcpOutputSink(net), {
      tailLossProbe: true,
      ...tcpConfig,
      // The sink offloads TCP checksums to the device (see tcp-output.ts).
      fillChecksum: false,
      rxFifoSize: config.rxFifoSize,
      txFifoSize: config.txFifoSize,
      maxConnections: config.maxSessions,
    });
  }

  now(): number {
    return performance.now();
  }

  // SessionOwner: requests apply at the stack's next flush, which the timer node runs.
  kick(): void {
    if (this.kicked || this.timerNode < 0 || this.inStack) return;
    this.kicked = true;
    this.main.graph.signalProcess(this.timerNode);
  }
  /** Called by the timer node when it runs. */
  kickHandled(): void {
    this.kicked = false;
  }

  /** When the timer node is due next (absolute ms), so input can tell if a new timer is earlier. */
  private timerDue = Infinity;

  /** The timer node reports the delay it sleeps for; returns it. */
  scheduled(delayMs: number | undefined, now: number): number | undefined {
    this.timerDue = delayMs === undefined ? Infinity : now + delayMs;
    return delayMs;
  }

  /** A timer at `at` now exists: wake the timer node if it sleeps past it. */
  reschedule(at: number): void {
    if (at < this.timerDue) this.kick();
  }
  /** Sessions whose fifos were empty and untouched for a whole sweep interval give their storage back. */
  static readonly IDLE_SWEEP_MS = 1000;
  private nextSweepAt = 0;
  /** Fifo storage released by idle sweeps (for `show session memory`). */
  fifosReleased = 0;

  /** Runs the idle sweep when due; returns when it is due next (Infinity without sessions). */
  maybeSweep(now: number): number {
    if (this.sessions.size === 0) return Infinity;
    if (now >= this.nextSweepAt) {
      this.sweepIdleFifos();
      this.nextSweepAt = now + SessionMain.IDLE_SWEEP_MS;
    }
    return this.nextSweepAt;
  }

  /** Releases fifo storage of sessions with empty fifos whose tails did not move since the last sweep. */
  sweepIdleFifos(): void {
    for (const s of this.sessions.values()) {
      const rx = s.rxFifo;
      const tx = s.txFifo;
      if (rx.hasStorage && rx.tail === s.sweepRxTail && rx.releaseIfIdle()) this.fifosReleased++;
      if (tx.hasStorage && tx.tail === s.sweepTxTail && tx.releaseIfIdle()) this.fifosReleased++;
      s.sweepRxTail = rx.tail;
      s.sweepTxTail = tx.tail;
    }
  }

  send(conn: TcpConnection): void {
    this.stack.send(conn);
  }
  shutdownWrite(conn: TcpConnection): void {
    this.stack.shutdownWrite(conn);
  }
  close(conn: TcpConnection): void {
    this.stack.close(conn);
  }
  abort(conn: TcpConnection): void {
    this.stack.abort(conn);
  }

  /** The engine's callbacks for one application, translated to sessions. */
  private handlerFor(app: SessionApp): TcpAppHandler {
    const session = (conn: TcpConnection): Session => conn.appCtx as Session;
    return {
      onAccept: (conn) => {
        const s = this.adopt(app, conn);
        const ok = app.onAccept?.(s);
        if (ok === false) {
          this.forget(s);
          return false;
        }
        return true;
      },
      onConnected: (conn) => app.onConnected?.(session(conn)),
      onConnectFailed: (conn, reason) => {
        const s = session(conn);
        app.onConnectFailed?.(s, reason);
      },
      onRx: (conn) => app.onRx?.(session(conn)),
      onTxSpace: (conn) => app.onTxSpace?.(session(conn)),
      onPeerClosed: (conn) => app.onPeerClosed?.(session(conn)),
      onReset: (conn) => app.onReset?.(session(conn)),
      onClosed: (conn) => {
        const s = session(conn);
        if (!s) return;
        s.closed = true;
        this.forget(s);
        app.onClosed?.(s);
        // The app is done, but the stack may keep the connection in TIME-WAIT for seconds: drained fifos
        // give their storage back now, so a connection rate does not hold (and allocate) rings per TIME-WAIT.
        conn.rxFifo.releaseIfIdle();
        conn.txFifo.releaseIfIdle();
      },
    };
  }

  private adopt(app: SessionApp, conn: TcpConnection): Session {
    const s = new Session(this.nextId++, app, conn, this, this.now());
    conn.appCtx = s;
    this.sessions.set(s.id, s);
    return s;
  }

  private forget(s: Session): void {
    this.sessions.delete(s.id);
  }

  listen(app: SessionApp, ip: number, port: number, opts: { rxFifoSize?: number; txFifoSize?: number } = {}): TcpResult<SessionListener> {
    const r = this.stack.listen(ip, port, this.handlerFor(app), opts);
    if (!r.ok) return r;
    const l: SessionListener = { app, ip: ip >>> 0, port, tcp: r.value };
    this.listeners.push(l);
    return { ok: true, value: l };
  }

  unlisten(l: SessionListener): void {
    this.stack.unlisten(l.tcp);
    const i = this.listeners.indexOf(l);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  connect(app: SessionApp, localIp: number, remoteIp: number, remotePort: number): TcpResult<Session> {
    const handler = this.handlerFor(app);
    const r = this.stack.connect(localIp, remoteIp, remotePort, handler, this.now());
    if (!r.ok) return r;
    const s = this.adopt(app, r.value);
    this.kick();
    return { ok: true, value: s };
  }

  /** Sessions of one application (for its `show` commands and shutdown). */
  sessionsOf(app: SessionApp): Session[] {
    return [...this.sessions.values()].filter((s) => s.app === app);
  }

  shutdown(): void {
    this.stack.destroy();
  }
}
