// The tor plugin's main state: the SOCKS listener on the session layer, the running backend(s),
// the stream table, and the counters `show errors` reports under the `tor-socks` node.

import { publishTorStreamEvent, type TorStreamState } from '../../src/api/handlers/tor.js';
import type { BackendEvent } from '../../src/backend/interface.js';
import type { SubsystemLogger } from '../../src/core/log.js';
import type { Main } from '../../src/core/main.js';
import type { NodeRuntime } from '../../src/runtime/node-runtime.js';
import type { SessionListener, SessionMain } from '../../src/session/session-main.js';
import type { Session, SessionApp } from '../../src/session/session.js';
import { allSocksCounters } from '../../src/socks/codes.js';
import { SocksServerSession, type SocksListenerConfig } from '../../src/socks/server.js';
import { BackendHandle, describeBackend, sameBackend } from './backends.js';
import { ClientCounterSync } from './client-counters.js';
import type { TorConfig } from './config.js';
import { SocksStream, type StreamHost } from './socks-stream.js';

export const TOR_SOCKS_NODE = 'tor-socks';
/** Closed streams kept for `show tor streams` (their end reasons). */
const RECENT_STREAMS = 64;
/** How often the process node checks handshake deadlines when streams are handshaking. */
const DEADLINE_TICK_MS = 250;
/** How often the embedded client's counters are brought into `show errors`. */
const CLIENT_COUNTER_SYNC_MS = 2000;

export class TorMain implements StreamHost {
  config: TorConfig;
  listener?: SessionListener;
  backendHandle?: BackendHandle;
  private readonly retired = new Set<BackendHandle>();
  readonly streams = new Map<number, SocksStream>();
  /** Streams by backend and request id, for backend events. */
  private readonly byBackendId = new Map<BackendHandle, Map<number, SocksStream>>();
  readonly recent: SocksStream[] = [];
  private nextStreamId = 1;
  readonly scratch = new Uint8Array(64 * 1024);
  private readonly counterIndex = new Map<string, number>();
  node?: NodeRuntime;
  nodeIndex = -1;
  /** The tor-client process node (embedded client counters). */
  clientNodeIndex = -1;
  private readonly clientCounters = new ClientCounterSync();
  private syncing = false;
  enabledAt?: number;
  totalUp = 0;
  totalDown = 0;
  readonly log: SubsystemLogger;
  private readonly app: SessionApp;

  constructor(
    readonly main: Main,
    private readonly session: () => SessionMain,
    config: TorConfig,
  ) {
    this.config = config;
    this.log = main.log.child('tor');
    allSocksCounters().forEach((c, i) => this.counterIndex.set(c.name, i));
    this.app = {
      name: 'tor-socks',
      onAccept: (s) => this.accept(s),
      onRx: (s) => (s.appData as SocksStream).onRx(),
      onTxSpace: (s) => (s.appData as SocksStream).service(),
      onPeerClosed: (s) => (s.appData as SocksStream).onPeerClosed(),
      onReset: (s) => (s.appData as SocksStream).onSessionClosed(true),
      onClosed: (s) => (s.appData as SocksStream | undefined)?.onSessionClosed(false),
    };
  }

  get backend(): BackendHandle | undefined {
    return this.backendHandle;
  }

  count(counter: string): void {
    const i = this.counterIndex.get(counter);
    if (i !== undefined && this.node) this.node.countError(i);
  }

  private listenerConfig(): SocksListenerConfig {
    const c = this.config;
    return {
      listenerId: c.socksPort,
      extendedErrors: c.extendedErrors,
      safeSocks: c.safeSocks,
      allowedClients: c.allowedClients,
      isolation: {
        clientAddr: c.isolateClientAddr,
        socksAuth: c.isolateSocksAuth,
        clientProtocol: false,
        destPort: c.isolateDestPort,
        destAddr: c.isolateDestAddr,
      },
      handshakeTimeoutMs: c.handshakeTimeoutMs,
    };
  }

  private accept(s: Session): boolean {
    if (this.streams.size >= this.config.maxConnections) {
      this.count('socks-client-not-allowed');
      return false;
    }
    const now = performance.now();
    const { session: engine, actions } = SocksServerSession.accept(this.listenerConfig(), { addr: s.remoteIp, port: s.remotePort }, now);
    const stream = new SocksStream(this.nextStreamId++, s, engine, this, Date.now());
    s.appData = stream;
    this.streams.set(stream.id, stream);
    stream.apply(actions);
    if (this.nodeIndex >= 0) this.main.graph.signalProcess(this.nodeIndex);
    return true;
  }

  register(stream: SocksStream): void {
    const b = stream.backend!;
    let m = this.byBackendId.get(b);
    if (!m) this.byBackendId.set(b, (m = new Map()));
    m.set(stream.id, stream);
  }

  changed(stream: SocksStream): void {
    const state: TorStreamState =
      stream.state === 'closed' || stream.state === 'closing'
        ? stream.failed
          ? 'failed'
          : 'closed'
        : stream.state === 'handshake'
          ? 'connecting'
          : stream.state;
    publishTorStreamEvent(this.main.api, { streamIndex: stream.id, circuitId: 0, state, reason: stream.endReasonCode });
  }

  finished(stream: SocksStream): void {
    this.streams.delete(stream.id);
    this.totalUp += stream.bytesUp;
    this.totalDown += stream.bytesDown;
    if (stream.backend) {
      // Keep routing backend events to it until the backend reports the end (its END reason).
      if (stream.backendFinished) this.byBackendId.get(stream.backend)?.delete(stream.id);
      if (stream.backend.retiring && stream.backend.streams === 0) void this.closeBackend(stream.backend);
    }
    this.recent.push(stream);
    if (this.recent.length > RECENT_STREAMS) this.recent.shift();
  }

  private onBackendEvent(b: BackendHandle, e: BackendEvent): void {
    if (e.type === 'ready' || e.type === 'fatal') {
      if (e.type === 'fatal') this.log.error(`backend ${b.name} failed: ${e.message}`);
      return;
    }
    const m = this.byBackendId.get(b);
    const st = m?.get(e.id);
    if (!st) return;
    st.onBackendEvent(e);
    if (st.state === 'closed' && st.backendFinished) m!.delete(e.id);
  }

  /** Serves ring doorbells of one backend until it closes. */
  private async doorbellLoop(b: BackendHandle): Promise<void> {
    const bell = b.table.doorbell('dataplane');
    while (b.state !== 'closed') {
      // The daemon's own handles keep this thread alive: no timer handle per sleep.
      const ready = await bell.wait(1000, false);
      for (const slot of ready) b.bySlot.get(slot)?.service();
    }
  }

  private async startBackend(): Promise<BackendHandle> {
    const b = new BackendHandle(this.config.backend, this.config, this.log);
    await b.start((e) => this.onBackendEvent(b, e));
    void this.doorbellLoop(b);
    if (b.embedded) {
      this.clientCounters.reset();
      if (this.clientNodeIndex >= 0) this.main.graph.signalProcess(this.clientNodeIndex);
    }
    return b;
  }

  /** The tor-client node: pulls the embedded client's counters into `show errors` every few seconds. */
  syncClientCounters(node: NodeRuntime): number | undefined {
    const e = this.backendHandle?.embedded;
    if (!e) return undefined;
    if (!this.syncing) {
      this.syncing = true;
      e.status()
        .then((st) => st && this.backendHandle?.embedded === e && this.clientCounters.apply(node, st))
        .catch(() => undefined)
        .finally(() => (this.syncing = false));
    }
    return CLIENT_COUNTER_SYNC_MS;
  }

  private async closeBackend(b: BackendHandle): Promise<void> {
    this.retired.delete(b);
    this.byBackendId.delete(b);
    await b.close();
  }

  /** `tor client enable`: (re)start the backend if it changed, then listen on the SOCKS port. */
  async enable(next: TorConfig): Promise<void> {
    const prev = this.config;
    this.config = next;
    if (!this.backendHandle || !sameBackend(this.backendHandle.choice, next.backend) || this.backendHandle.state === 'failed') {
      const old = this.backendHandle;
      this.backendHandle = await this.startBackend();
      if (old) {
        old.retiring = true;
        if (old.streams === 0) await this.closeBackend(old);
        else this.retired.add(old);
      }
    }
    if (this.listener && (prev.socksPort !== next.socksPort || prev.socksAddress !== next.socksAddress)) {
      this.session().unlisten(this.listener);
      this.listener = undefined;
    }
    if (!this.listener) {
      const r = this.session().listen(this.app, next.socksAddress, next.socksPort);
      if (!r.ok) throw new Error(`cannot listen on port ${next.socksPort}: ${r.error}`);
      this.listener = r.value;
    }
    this.config.enabled = true;
    this.enabledAt ??= Date.now();
    this.log.info(`tor client enabled on port ${next.socksPort}, backend ${describeBackend(next.backend)}`);
  }

  /** `tor client disable`: stop accepting; open streams go on until they end. */
  disable(): void {
    if (this.listener) this.session().unlisten(this.listener);
    this.listener = undefined;
    this.config.enabled = false;
    this.enabledAt = undefined;
    this.log.info('tor client disabled (open streams continue)');
  }

  /** The process node: handshake and connect deadlines of the SOCKS engine. */
  tick(now: number): number | undefined {
    let handshaking = false;
    for (const st of this.streams.values()) {
      const d = st.engine.nextDeadline();
      if (d === undefined) continue;
      handshaking = true;
      if (d <= now) st.apply(st.engine.poll(now));
    }
    return handshaking ? DEADLINE_TICK_MS : undefined;
  }

  /** Bytes carried since start, closed streams and open ones together. */
  byteTotals(): { up: number; down: number } {
    let up = this.totalUp;
    let down = this.totalDown;
    for (const st of this.streams.values()) {
      up += st.bytesUp;
      down += st.bytesDown;
    }
    return { up, down };
  }

  /** The circuit a stream rides on, where the backend knows it (remembered once learned). */
  circuitOf(st: SocksStream): string | undefined {
    if (st.circuit === undefined && st.sourcePort !== undefined) st.circuit = st.backend?.managed?.circuitOf(st.sourcePort);
    return st.circuit;
  }

  /** New circuits for new streams; false when the backend cannot. */
  async newnym(): Promise<boolean> {
    const embedded = this.backendHandle?.embedded;
    if (embedded) {
      embedded.newnym();
      return true;
    }
    const control = this.backendHandle?.managed?.controlClient;
    if (control) {
      await control.command('SIGNAL NEWNYM');
      return true;
    }
    return false;
  }

  async shutdown(): Promise<void> {
    this.disable();
    for (const st of [...this.streams.values()]) st.session.abort();
    const all = [...this.retired, ...(this.backendHandle ? [this.backendHandle] : [])];
    this.backendHandle = undefined;
    await Promise.all(all.map((b) => this.closeBackend(b)));
  }
}
