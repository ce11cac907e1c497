// The embedded Tor client (arti-client's TorClient): directory bootstrap over BEGIN_DIR from the
// configured (or default) authorities, guard, channel and circuit managers, and the calls a backend
// needs: connect, resolve, resolvePtr, newnym, and status listings. The runtime's clock is injected
// here; everything below takes `now`.
import type { Duplex } from 'node:stream';
import type { ResolvedAnswer } from '../cell/relay/resolve.js';
import { ChanMgr } from '../chanmgr/chanmgr.js';
import type { CounterRow } from '../chanmgr/counter-set.js';
import { EndReason } from '../cell/relay/end.js';
import { CircMgr, StreamOpenError, type CircuitSummary, type OpenedStream, type StreamSink } from '../circmgr/circmgr.js';
import { streamDuplexSink } from '../circmgr/stream-duplex.js';
import { dirPortOpener } from '../dirclient/fetch.js';
import { DirMgr, type DirServer } from '../dirmgr/dirmgr.js';
import { startDirRefresh, type DirRefresher } from '../dirmgr/refresher.js';
import { GuardMgr, type GuardSummary } from '../guardmgr/guardmgr.js';
import { fileGuardStore, memoryGuardStore } from '../guardmgr/guard-state.js';
import type { NetDir } from '../netdir/netdir.js';
import { cryptoRandom, type RandomSource } from '../netdir/random.js';
import { consensusLiveness } from '../netdoc/consensus-verify.js';
import { parseDirAuthorityLine, type DirAuthority } from '../netdoc/dirauthority.js';
import type { StreamEvent } from '../proto/stream.js';
import { bootstrapStatus, formatBootstrap, type BootstrapPhase, type BootstrapStatus } from './bootstrap-status.js';
import { DEFAULT_DIR_AUTHORITIES } from './default-authorities.js';
import { ipLiteralBytes, targetKind } from './target-name.js';

export interface TorClientConfig {
  /** C tor `DirAuthority` lines; the live network's authorities when empty or absent. */
  readonly dirAuthorities?: readonly string[] | undefined;
  /** Private test network: no /16 distinct-subnet rule, small-network guard sampling. */
  readonly testNetwork?: boolean | undefined;
  /** Persistent state (guards.json); in memory only when absent. */
  readonly dataDir?: string | undefined;
  /** Directory document cache; none when absent. */
  readonly cacheDir?: string | undefined;
  /** Scrub destinations from listings and logs (default true). */
  readonly safeLogging?: boolean | undefined;
  readonly buildTimeoutMs?: number | undefined;
  readonly beginTimeoutMs?: number | undefined;
  readonly maxDirtinessMs?: number | undefined;
  /** Ports predicted from the start (default 80, 443); streams add theirs, unused ones expire after 30–60 min. */
  readonly preemptivePorts?: readonly number[] | undefined;
  /**
   * Clean exit circuits to keep ready (default 2). 0 with preemptivePorts [] builds nothing before
   * a stream needs it (C tor's __DisablePredictedCircuits 1); the bootstrap test circuit is closed.
   */
  readonly preemptiveCircuits?: number | undefined;
  /** Congestion control (proposal 324) with exits that offer it: 'auto' (default) or 'off' (fixed windows). */
  readonly congestionControl?: 'auto' | 'off' | undefined;
  /**
   * Conflux (proposal 329, C tor's ConfluxEnabled): 'auto' (default) keeps linked sets of two
   * circuits to one exit ready and gives exit streams a set when one is linked; 'off' uses single
   * circuits. Needs congestion control.
   */
  readonly conflux?: 'auto' | 'off' | undefined;
}

export interface TorClientRuntime {
  /** Wall clock (ms). */
  readonly clock?: () => number;
  readonly rng?: RandomSource;
  /** Progress and notices (never destinations unless safeLogging is off). */
  readonly log?: (line: string) => void;
}

export interface StreamSummary {
  readonly id: number;
  readonly circuit: number;
  readonly target: string;
  readonly isolation: string;
  readonly openedAt: number;
  bytesIn: number;
  bytesOut: number;
}

export interface ConsensusSummary {
  readonly validAfter: string;
  readonly freshUntil: string;
  readonly validUntil: string;
  readonly liveness: string;
  readonly relays: number;
}

export interface TorStatus {
  readonly bootstrap: BootstrapStatus;
  readonly consensus: ConsensusSummary | null;
  readonly guards: GuardSummary[];
  readonly channels: ReturnType<ChanMgr['list']>;
  readonly circuits: CircuitSummary[];
  readonly streams: StreamSummary[];
  readonly counters: {
    readonly channel: CounterRow[];
    readonly guard: CounterRow[];
    readonly circuit: CounterRow[];
    readonly stream: CounterRow[];
    readonly directory: ReturnType<DirMgr['counters']['snapshot']> & { readonly recentFetchErrors: string[] };
  };
  readonly recentCircuitFailures: string[];
}

/** A connected stream for a custom consumer (the worker's ring pump). */
export interface TorClientStream extends OpenedStream {
  readonly record: StreamSummary;
}

const MAINTAIN_INTERVAL_MS = 5_000;

function hexBytes(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}

/** `1.2.3.4` -> `4.3.2.1.in-addr.arpa`; IPv6 -> nibbles under ip6.arpa. */
export function reverseLookupName(addr: string): string {
  const kind = targetKind(addr);
  if (kind !== 'ipv4' && kind !== 'ipv6') throw new Error('not an IP address');
  const b = ipLiteralBytes(addr, kind);
  if (kind === 'ipv4') return `${[...b].reverse().join('.')}.in-addr.arpa`;
  const nibbles = [...b].flatMap((x) => [(x >>> 4).toString(16), (x & 15).toString(16)]);
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

/** `.onion` and `.exit` names never leave this client (target-name.ts says why). */
function refuseLocalOnly(name: string): void {
  const kind = targetKind(name);
  if (kind === 'onion') throw new StreamOpenError(EndReason.RESOLVEFAILED, 'onion services are not supported by this client');
  if (kind === 'exit') throw new StreamOpenError(EndReason.RESOLVEFAILED, '.exit addresses are not allowed');
}

export class TorClient {
  readonly authorities: readonly DirAuthority[];
  readonly chanMgr: ChanMgr;
  readonly circMgr: CircMgr;
  private guardMgr: GuardMgr;
  private readonly dirMgr: DirMgr;
  private readonly clock: () => number;
  private readonly rng: RandomSource;
  private readonly log: (line: string) => void;
  private readonly safeLogging: boolean;
  private progress: BootstrapStatus = bootstrapStatus('starting');
  private progressListeners: ((s: BootstrapStatus) => void)[] = [];
  private bootstrapping: Promise<void> | undefined;
  private refresher: DirRefresher | undefined;
  private maintainTimer: NodeJS.Timeout | undefined;
  private readonly streams = new Map<number, StreamSummary>();
  private nextStreamId = 1;
  private stopped = false;

  constructor(private readonly config: TorClientConfig = {}, runtime: TorClientRuntime = {}) {
    this.clock = runtime.clock ?? Date.now;
    this.rng = runtime.rng ?? cryptoRandom;
    this.log = runtime.log ?? (() => undefined);
    this.safeLogging = config.safeLogging ?? true;
    const lines = config.dirAuthorities && config.dirAuthorities.length > 0 ? config.dirAuthorities : DEFAULT_DIR_AUTHORITIES;
    this.authorities = lines.map((l) => parseDirAuthorityLine(l));
    this.chanMgr = new ChanMgr({ clock: this.clock });
    this.guardMgr = new GuardMgr(undefined, { rng: this.rng, store: memoryGuardStore() });
    // The guard manager is replaced once its state is loaded: always reach the current one.
    const guards = (): GuardMgr => this.guardMgr;
    this.circMgr = new CircMgr({
      chanMgr: this.chanMgr,
      guardMgr: {
        pick: (d, n, allowed) => guards().pick(d, n, allowed),
        noteSuccess: (i, n) => guards().noteSuccess(i, n),
        noteFailure: (i, n) => guards().noteFailure(i, n),
        get primaries() {
          return guards().primaries;
        },
      },
      netdir: () => this.usableNetDir(),
      clock: this.clock,
      rng: this.rng,
      buildTimeoutMs: config.buildTimeoutMs ?? (config.testNetwork ? 60_000 : undefined),
      beginTimeoutMs: config.beginTimeoutMs,
      maxDirtinessMs: config.maxDirtinessMs,
      preemptivePorts: config.preemptivePorts,
      preemptiveCircuits: config.preemptiveCircuits,
      congestionControl: config.congestionControl,
      conflux: config.conflux,
    });
    const servers = this.authorities.map((a) => this.dirServerFor(a));
    this.dirMgr = new DirMgr({
      authorities: this.authorities,
      servers,
      cacheDir: config.cacheDir,
      clock: this.clock,
      rng: this.rng,
      compressed: true,
      netDirOptions: { testNetwork: config.testNetwork ?? false },
      // Once a consensus is held, documents come from directory caches over BEGIN_DIR, our guards first.
      cacheServer: (t) => this.withDirProgress(this.circMgr.dirServer(t)),
      dirGuards: () => this.guardMgr.primaries,
    });
  }

  /** Current bootstrap phase. */
  get bootstrap(): BootstrapStatus {
    return this.progress;
  }

  get netdir(): NetDir | undefined {
    return this.dirMgr.netdir;
  }

  onProgress(listener: (s: BootstrapStatus) => void): void {
    this.progressListeners.push(listener);
  }

  /**
   * Bootstrap: directory documents, then one working circuit. Retries (with back-off) until it
   * succeeds or the client is closed. Idempotent.
   */
  start(): Promise<void> {
    this.bootstrapping ??= this.runBootstrap();
    return this.bootstrapping;
  }

  private async runBootstrap(): Promise<void> {
    this.guardMgr = this.config.dataDir ? await GuardMgr.load(fileGuardStore(this.config.dataDir), { rng: this.rng }) : this.guardMgr;
    let delay = 1_000;
    for (;;) {
      if (this.stopped) throw new Error('tor client stopped');
      try {
        const dir = await this.dirMgr.bootstrap();
        this.setProgress('enough_dirinfo');
        this.guardMgr.update(dir, this.clock());
        break;
      } catch (e) {
        const why = `${(e as Error).message}; ${this.dirMgr.counters.recentFetchErrors.slice(-3).join('; ')}`;
        this.setProgress(this.progress.tag, why);
        await sleep(delay);
        delay = Math.min(delay * 2, 60_000);
      }
    }
    this.refresher = startDirRefresh(this.dirMgr, {
      clock: this.clock,
      rng: this.rng,
      maxRetryMs: this.config.testNetwork ? 5_000 : undefined,
      onNetDir: (dir) => this.guardMgr.update(dir, this.clock()),
    });
    this.setProgress('ap_conn');
    delay = 1_000;
    for (;;) {
      if (this.stopped) throw new Error('tor client stopped');
      try {
        this.setProgress('circuit_create');
        const first = await this.circMgr.buildExitCircuit(this.circMgrPorts()[0], null).ready;
        // Without predicted circuits nothing waits ready for a stream: this one only proved the network
        // (unless a stream opened during bootstrap has claimed it).
        if (!this.circMgr.preemptiveEnabled && first.isolationKey === null) this.circMgr.retire(first.id);
        break;
      } catch (e) {
        this.setProgress('circuit_create', (e as Error).message);
        await sleep(delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
    this.setProgress('done');
    this.circMgr.maintain();
    this.maintainTimer = setInterval(() => this.circMgr.maintain(), MAINTAIN_INTERVAL_MS);
    this.maintainTimer.unref?.();
  }

  /** Open a stream to host:port (names are resolved by the exit) as a Node Duplex. */
  async connect(host: string, port: number, isolationKey = ''): Promise<Duplex> {
    const sink = streamDuplexSink(undefined, this.clock);
    const opened = await this.openStream(host, port, isolationKey, sink);
    const d = sink.attach(opened.stream);
    d.on('data', (b: Buffer) => (opened.record.bytesIn += b.length));
    const w = d.write.bind(d) as (chunk: unknown, ...rest: unknown[]) => boolean;
    d.write = ((chunk: unknown, ...rest: unknown[]) => {
      opened.record.bytesOut += (chunk as Uint8Array).length ?? 0;
      return w(chunk, ...rest);
    }) as typeof d.write;
    return d;
  }

  /** Open a stream whose events go to `sink` (backend glue). Waits for bootstrap. */
  async openStream(host: string, port: number, isolationKey: string, sink: StreamSink): Promise<TorClientStream> {
    refuseLocalOnly(host);
    await this.start();
    const id = this.nextStreamId++;
    let record: StreamSummary | undefined;
    const wrapped: StreamSink = {
      freeSpace: () => sink.freeSpace(),
      onEvent: (e: StreamEvent) => {
        if (record && e.type === 'data') record.bytesIn += e.data.length;
        if (e.type === 'end') this.streams.delete(id);
        sink.onEvent(e);
      },
    };
    const opened = await this.circMgr.openStream({ host, port, isolationKey }, wrapped);
    record = {
      id,
      circuit: opened.circuit.id,
      target: this.safeLogging ? '[scrubbed]' : `${host}:${port}`,
      isolation: isolationKey,
      openedAt: this.clock(),
      bytesIn: 0,
      bytesOut: 0,
    };
    if (opened.stream.state !== 'closed') this.streams.set(id, record);
    return { ...opened, record };
  }

  /** Resolve a hostname at an exit (RESOLVE). */
  async resolve(name: string, isolationKey = ''): Promise<ResolvedAnswer[]> {
    const kind = targetKind(name);
    // An address resolves to itself: no exit needs to hear about it.
    if (kind === 'ipv4' || kind === 'ipv6') return [{ kind, addr: ipLiteralBytes(name, kind), ttl: 0 }];
    refuseLocalOnly(name);
    await this.start();
    return this.circMgr.resolve(name, isolationKey);
  }

  /** Reverse lookup of an IP address at an exit (RESOLVE of an in-addr.arpa / ip6.arpa name). */
  async resolvePtr(addr: string, isolationKey = ''): Promise<ResolvedAnswer[]> {
    await this.start();
    return this.circMgr.resolve(reverseLookupName(addr), isolationKey);
  }

  /** New identity: circuits built so far take no new streams. */
  newnym(): void {
    this.circMgr.newnym();
    this.log('NEWNYM: new streams will use new circuits');
  }

  /** Circuits (paths are relay nicknames; no destinations are kept at this level). */
  circuits(): CircuitSummary[] {
    return this.circMgr.list();
  }

  streamList(): StreamSummary[] {
    return [...this.streams.values()].map((s) => ({ ...s }));
  }

  status(): TorStatus {
    const now = this.clock();
    const dir = this.dirMgr.netdir;
    const c = dir?.consensus;
    return {
      bootstrap: this.progress,
      consensus: c
        ? {
            validAfter: new Date(c.validAfter).toISOString(),
            freshUntil: new Date(c.freshUntil).toISOString(),
            validUntil: new Date(c.validUntil).toISOString(),
            liveness: consensusLiveness(c, now),
            relays: dir.relays().length,
          }
        : null,
      guards: this.guardMgr.summary(now),
      channels: this.chanMgr.list(),
      circuits: this.circuits(),
      streams: this.streamList(),
      counters: {
        channel: this.chanMgr.counters.rows(),
        guard: this.guardMgr.counters.rows(),
        circuit: this.circMgr.counters.rows(),
        stream: this.circMgr.streamCounters.rows(),
        directory: { ...this.dirMgr.counters.snapshot(), recentFetchErrors: [...this.dirMgr.counters.recentFetchErrors] },
      },
      recentCircuitFailures: [...this.circMgr.recentFailures],
    };
  }

  /** Stop timers, close circuits and channels, save guard state. */
  async close(): Promise<void> {
    this.stopped = true;
    this.refresher?.stop();
    if (this.maintainTimer) clearInterval(this.maintainTimer);
    this.circMgr.closeAll();
    this.chanMgr.closeAll();
    await this.guardMgr.flush().catch(() => undefined);
  }

  // ---- internals ----

  private circMgrPorts(): number[] {
    return [...(this.config.preemptivePorts ?? [80, 443])];
  }

  /** The NetDir, only while its consensus is at least reasonably live. */
  private usableNetDir(): NetDir | undefined {
    const dir = this.dirMgr.netdir;
    if (!dir) return undefined;
    const l = consensusLiveness(dir.consensus, this.clock());
    return l === 'live' || l === 'reasonably-live' ? dir : undefined;
  }

  /** BEGIN_DIR to an authority's ORPort when its line has one; its DirPort otherwise. */
  private dirServerFor(a: DirAuthority): DirServer {
    const name = a.nickname ?? a.v3ident;
    return this.withDirProgress(
      a.orPort !== undefined
        ? this.circMgr.dirServer({ name, nickname: a.nickname, rsaId: hexBytes(a.rsaFingerprint), addr: a.address, port: a.orPort })
        : { name, open: dirPortOpener(a.address, a.dirPort) },
    );
  }

  /** A directory server whose connection steps advance the bootstrap phases. */
  private withDirProgress(inner: DirServer): DirServer {
    return {
      name: inner.name,
      open: async () => {
        if (this.progress.percent < 75) this.setProgress(this.dirPhase());
        const d = await inner.open();
        if (this.progress.tag === 'conn_dir') this.setProgress('onehop_create');
        if (this.progress.percent < 75) this.setProgress(this.dirPhase());
        return d;
      },
    };
  }

  /** Which directory phase we are in, from what has been accepted so far. */
  private dirPhase(): BootstrapPhase {
    const a = this.dirMgr.counters.accepted;
    if (this.progress.tag === 'starting') return 'conn_dir';
    if (a.consensus > 0) return 'requesting_descriptors';
    if (a.cert > 0) return 'loading_keys';
    return this.progress.percent >= 14 ? 'requesting_status' : this.progress.tag;
  }

  private setProgress(tag: BootstrapPhase, warning?: string): void {
    const next = bootstrapStatus(tag, warning);
    if (next.percent < this.progress.percent) return;
    const changed = next.tag !== this.progress.tag || warning !== this.progress.warning;
    this.progress = next;
    if (!changed) return;
    this.log(formatBootstrap(next) + (warning ? ` [warning: ${warning}]` : ''));
    for (const l of this.progressListeners) l(next);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}
