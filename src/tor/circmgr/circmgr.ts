// Circuit manager (C tor circuituse.c/circuitbuild.c, arti tor-circmgr): builds 3-hop exit circuits
// (ntor CREATE2, EXTEND2 in RELAY_EARLY) through a guard from the guard manager, keeps clean circuits
// ready for predicted ports (topped up as soon as one is claimed or lost, as C tor re-checks its
// predicted circuits), hands streams the circuit their isolation key allows, retires circuits after
// the dirtiness limit or NEWNYM, and retries a stream on another circuit after an exit refuses
// it or a BEGIN times out. One-hop CREATE_FAST circuits carry BEGIN_DIR directory streams.
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { DestroyReason } from '../cell/destroy.js';
import { EndReason, endReasonName } from '../cell/relay/end.js';
import type { Connected } from '../cell/relay/connected.js';
import type { ResolvedAnswer } from '../cell/relay/resolve.js';
import type { ChanMgr, ChanTarget } from '../chanmgr/chanmgr.js';
import { CounterSet } from '../chanmgr/counter-set.js';
import type { DirServer } from '../dirmgr/dirmgr.js';
import type { GuardMgr } from '../guardmgr/guardmgr.js';
import type { NetDir } from '../netdir/netdir.js';
import { exitCandidates, middleCandidates, pickRelay } from '../netdir/path.js';
import { mayShareCircuit } from '../netdir/family.js';
import { cryptoRandom, type RandomSource } from '../netdir/random.js';
import type { Relay } from '../netdir/relay.js';
import { policyAllowsPort } from '../netdoc/portpolicy.js';
import { x25519Prefill } from '../crypto/x25519.js';
import { CcAlg, ccParamsFrom, type CcParams } from '../proto/congestion-control.js';
import { hopHandshake, supportsConflux, supportsCongestionControl } from './protocols.js';
import { confluxParamsFrom, maxPrebuiltSets, OOO_CELL_COST } from './conflux-params.js';
import type { Circuit, CircuitEvent } from '../proto/circuit.js';
import { ConfluxSet, type ConfluxSetEvent } from '../proto/conflux-set.js';
import type { ProtoError } from '../proto/errors.js';
import type { Stream, StreamEvent } from '../proto/stream.js';
import { CIRC_COUNTERS, MAX_LIMITED_REFUSALS, STREAM_COUNTERS, destroyCounter, endCounter, protoCounter, refusalAction } from './counters.js';
import { streamDuplexSink } from './stream-duplex.js';
import { DEFAULT_PREDICTION_BASE_S, PredictedPorts } from './predicted-ports.js';

export interface CircMgrOptions {
  readonly chanMgr: ChanMgr;
  readonly guardMgr: Pick<GuardMgr, 'pick' | 'noteSuccess' | 'noteFailure' | 'primaries'>;
  /** The current NetDir (changes as the consensus is refreshed). */
  readonly netdir: () => NetDir | undefined;
  readonly clock?: () => number;
  readonly rng?: RandomSource;
  /** Give up on a circuit build after this long (default 60 s). */
  readonly buildTimeoutMs?: number;
  /** Wait this long for CONNECTED/RESOLVED before retrying elsewhere (default 10 s; ×1.5 from the third try, as C tor). */
  readonly beginTimeoutMs?: number;
  /** A circuit takes no new streams this long after its first one (MaxCircuitDirtiness, 10 min). */
  readonly maxDirtinessMs?: number;
  /**
   * Ports predicted from the start (default 80, 443); every stream's port joins them, and a port is
   * forgotten after going unused for the prediction timeout (C tor's predicted ports: 30–60 min).
   * Clean circuits are kept ready for the predicted ports, and none once nothing is predicted.
   */
  readonly preemptivePorts?: readonly number[];
  /**
   * Clean circuits to keep ready in total (default 2). With 0 and no preemptivePorts nothing is
   * built before a stream needs it (C tor's __DisablePredictedCircuits 1).
   */
  readonly preemptiveCircuits?: number;
  /** Attempts per stream across circuits (default 4). */
  readonly maxStreamAttempts?: number;
  /**
   * Congestion control (proposal 324) on exit circuits. 'auto' (default): used when the consensus
   * enables it (cc_alg ≠ 0; absent means TOR_VEGAS) and the exit supports it (Relay=4, FlowCtrl=2),
   * with ntor v3 to every hop that speaks it. 'off': classic ntor and fixed SENDME windows only.
   */
  readonly congestionControl?: 'auto' | 'off' | undefined;
  /**
   * Conflux (proposal 329, C tor's ConfluxEnabled). 'auto' (default): with congestion control on and
   * the consensus allowing it (cfx_enabled), keep linked sets of cfx_num_legs_set circuits to one
   * Conflux=1 exit ready alongside the clean circuits, and give new exit streams a linked set before
   * a single circuit, as C tor does. 'off': single circuits only.
   */
  readonly conflux?: 'auto' | 'off' | undefined;
}

/** 'conflux-leg': a circuit of a conflux set; streams go to the set's 'exit' entry, never to a leg. */
export type CircuitPurpose = 'exit' | 'dir' | 'conflux-leg';

/** A circuit as the manager tracks it. */
export interface ManagedCircuit {
  readonly id: number;
  readonly purpose: CircuitPurpose;
  readonly path: readonly Relay[] | readonly { nickname: string; rsaIdHex: string }[];
  readonly exit: Relay | undefined;
  circ: Circuit | undefined;
  state: 'building' | 'open' | 'closed';
  readonly createdAt: number;
  builtAt: number | undefined;
  /** Streams with this key only; null while clean. */
  isolationKey: string | null;
  /** When the first stream was attached (dirtiness clock). */
  dirtySince: number | undefined;
  /** Takes no new streams (NEWNYM, dirtiness, BEGIN timeout, stream limit). */
  retired: boolean;
  /** NEWNYM generation it was built in. */
  readonly generation: number;
  /** Closed if still clean (never used) this long after its launch (C tor's circuit_idle_timeout). */
  readonly idleTimeoutMs: number;
  streams: number;
  streamsTotal: number;
  closeReason: string | undefined;
  ready: Promise<ManagedCircuit>;
  waiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** A conflux set entry: its legs (purpose 'conflux-leg'), and the set once they are built. */
  legs?: ManagedCircuit[];
  conflux?: ConfluxSet;
}

export interface CircuitSummary {
  readonly id: number;
  readonly purpose: CircuitPurpose;
  readonly state: string;
  readonly path: string[];
  readonly isolation: string | null;
  readonly ageMs: number;
  readonly dirtyMs: number | null;
  readonly retired: boolean;
  readonly streams: number;
  readonly streamsTotal: number;
  readonly buildMs: number | null;
  /** A conflux set: the ids of its leg circuits. */
  readonly legs?: number[];
  /** RELAY DATA cells received / sent on this circuit (a conflux leg's share of its set's traffic). */
  readonly dataCellsIn?: number;
  readonly dataCellsOut?: number;
}

/** A request for an exit stream. */
export interface StreamRequest {
  readonly host: string;
  readonly port: number;
  readonly isolationKey: string;
  /** BEGIN flags (IPv6 preferences). */
  readonly flags?: number;
}

/** Where a stream's data goes once connected. */
export interface StreamSink {
  /** Free space of the consumer (drives stream SENDMEs). */
  freeSpace(): number;
  onEvent(e: StreamEvent): void;
}

export interface OpenedStream {
  readonly stream: Stream;
  readonly circuit: ManagedCircuit;
  readonly connected: Connected;
  readonly attempts: number;
}

/** A stream that could not be opened: the last END reason and why. */
export class StreamOpenError extends Error {
  /** `remote`: the exit sent END with `reason`; otherwise we gave up or the circuit died. */
  constructor(readonly reason: number, message: string, readonly remote = false) {
    super(message);
    this.name = 'StreamOpenError';
  }
}

export class CircuitBuildError extends Error {
  constructor(readonly counter: string, message: string) {
    super(message);
    this.name = 'CircuitBuildError';
  }
}

const DEFAULTS: { buildTimeoutMs: number; beginTimeoutMs: number; maxDirtinessMs: number; preemptivePorts: number[]; preemptiveCircuits: number; maxStreamAttempts: number; congestionControl: 'auto' | 'off'; conflux: 'auto' | 'off' } = {
  buildTimeoutMs: 60_000,
  beginTimeoutMs: 10_000,
  maxDirtinessMs: 10 * 60_000,
  preemptivePorts: [80, 443],
  preemptiveCircuits: 2,
  maxStreamAttempts: 4,
  congestionControl: 'auto',
  conflux: 'auto',
};

function chanTarget(r: Relay): ChanTarget {
  return { rsaId: r.rsaIdentity, ed25519Id: r.ed25519Id, addr: r.ip, port: r.orPort, nickname: r.nickname };
}

export class CircMgr {
  readonly counters = new CounterSet<string>(CIRC_COUNTERS);
  readonly streamCounters = new CounterSet<string>(STREAM_COUNTERS);
  private readonly circuits = new Map<number, ManagedCircuit>();
  private readonly dirCircuits = new Map<string, ManagedCircuit>();
  private readonly clock: () => number;
  private readonly rng: RandomSource;
  private readonly cfg: typeof DEFAULTS;
  private nextId = 1;
  private generation = 0;
  private closed = false;
  /** Relays an EXTEND2 recently failed to reach (id -> when): avoided for a while in new paths. */
  private readonly unreachable = new Map<string, number>();
  /** The last few build failures, for status. */
  readonly recentFailures: string[] = [];
  /** maintain() has run: clean circuits are being kept ready, so claims and losses top them up. */
  private upkeepStarted = false;
  /** The one pending top-up and when (clock time) it runs. */
  private topUp: { timer: NodeJS.Timeout; at: number } | undefined;
  /** When the last top-up after a lost clean circuit ran (paces rebuilds a failing network causes). */
  private lastLossTopUpAt = Number.NEGATIVE_INFINITY;
  /** Exit circuit builds that failed in a row; a success resets it. */
  private buildFailStreak = 0;
  /** Conflux sets that failed to link in a row, and when set building may resume after too many. */
  private confluxFailStreak = 0;
  private confluxResumeAt = 0;
  /** The pending conflux set top-up after a claim or loss. */
  private confluxTopUp: NodeJS.Timeout | undefined;
  /** Ports streams asked for lately; undefined when nothing is ever built ahead of a stream. */
  private readonly predicted: PredictedPorts | undefined;

  constructor(private readonly opts: CircMgrOptions) {
    this.clock = opts.clock ?? Date.now;
    this.rng = opts.rng ?? cryptoRandom;
    this.cfg = {
      buildTimeoutMs: opts.buildTimeoutMs ?? DEFAULTS.buildTimeoutMs,
      beginTimeoutMs: opts.beginTimeoutMs ?? DEFAULTS.beginTimeoutMs,
      maxDirtinessMs: opts.maxDirtinessMs ?? DEFAULTS.maxDirtinessMs,
      preemptivePorts: [...(opts.preemptivePorts ?? DEFAULTS.preemptivePorts)],
      preemptiveCircuits: opts.preemptiveCircuits ?? DEFAULTS.preemptiveCircuits,
      maxStreamAttempts: opts.maxStreamAttempts ?? DEFAULTS.maxStreamAttempts,
      congestionControl: opts.congestionControl ?? DEFAULTS.congestionControl,
      conflux: opts.conflux ?? DEFAULTS.conflux,
    };
    if (this.preemptiveEnabled) {
      const base = (): number => this.opts.netdir()?.param('nf_conntimeout_clients', DEFAULT_PREDICTION_BASE_S, 60, 86_400) ?? DEFAULT_PREDICTION_BASE_S;
      this.predicted = new PredictedPorts(this.cfg.preemptivePorts, this.clock(), this.rng, base);
    }
  }

  /** The ports clean circuits are kept ready for now (empty once the client has been idle long enough). */
  predictedPorts(): number[] {
    return this.predicted?.ports(this.clock()) ?? [];
  }

  // ---- exit circuits ----

  /** Build a fresh 3-hop circuit whose exit allows `port` (any port when undefined). */
  buildExitCircuit(port: number | undefined, isolationKey: string | null = null, avoidExits: ReadonlySet<string> = new Set()): ManagedCircuit {
    const now = this.clock();
    const dir = this.opts.netdir();
    if (!dir) throw this.buildError('no-netdir', 'no usable consensus yet');
    // C tor's order (circuitbuild.c): the exit first, then a guard that may share a circuit with it
    // (guard-spec restriction), then a middle. Exits that refused this stream and relays we recently
    // failed to reach are left out while others remain.
    const reachable = (r: Relay) => !this.recentlyUnreachable(r, now);
    const exits = exitCandidates(dir, port).filter((r) => !avoidExits.has(r.rsaIdHex));
    const exit = pickRelay(dir, preferring(exits, reachable), 'exit', this.rng);
    if (!exit) throw this.buildError('path-no-exit', avoidExits.size > 0 ? 'every exit for this port refused the stream' : 'no exit allows this port');
    const guard = this.opts.guardMgr.pick(dir, now, (g) => mayShareCircuit(g, exit, dir.enforceDistinctSubnets));
    if (!guard) throw this.buildError('no-guard', 'no usable guard for this exit');
    const middle = pickRelay(dir, preferring(middleCandidates(dir, [exit, guard]), reachable), 'middle', this.rng);
    if (!middle) throw this.buildError('path-no-middle', 'no middle relay fits the path');
    const hops = [guard, middle, exit];
    const mc = this.track('exit', hops, exit, isolationKey);
    mc.ready = this.withBuildTimeout(mc, this.runExitBuild(mc, hops, this.ccParamsFor(dir)));
    mc.ready.then(
      () => (this.buildFailStreak = 0),
      () => this.buildFailStreak++,
    );
    return mc;
  }

  /** Congestion control parameters for new circuits, or undefined when it is off. */
  private ccParamsFor(dir: NetDir): CcParams | undefined {
    if (this.cfg.congestionControl === 'off') return undefined;
    const params = ccParamsFrom((name) => {
      const v = dir.param(name, Number.NaN);
      return Number.isNaN(v) ? undefined : v;
    });
    return params.alg === CcAlg.SENDME ? undefined : params;
  }

  private async runExitBuild(mc: ManagedCircuit, hops: Relay[], cc: CcParams | undefined): Promise<ManagedCircuit> {
    const [guard, middle, exit] = hops as [Relay, Relay, Relay];
    let chan;
    try {
      chan = await this.opts.chanMgr.get(chanTarget(guard));
    } catch (e) {
      this.opts.guardMgr.noteFailure(guard.rsaIdHex, this.clock());
      throw this.buildError('build-channel-failed', (e as Error).message);
    }
    if (mc.state === 'closed') throw new CircuitBuildError('build-timeout', 'circuit build abandoned');
    const c = chan.channel.createCircuit({ rsaId: guard.rsaIdentity, ntorKey: guard.ntorOnionKey, ed25519Id: guard.ed25519Id, ...hopHandshake(guard, false, cc) }, this.clock());
    if (!c.ok) throw this.buildError('build-create-failed', c.error.message);
    this.attach(mc, c.value);
    try {
      await this.step(mc);
    } catch (e) {
      this.opts.guardMgr.noteFailure(guard.rsaIdHex, this.clock());
      throw this.buildError('build-create-failed', `CREATE2 to ${guard.nickname}: ${(e as Error).message}`);
    }
    this.opts.guardMgr.noteSuccess(guard.rsaIdHex, this.clock());
    for (const r of [middle, exit]) {
      const x = c.value.extend({ rsaId: r.rsaIdentity, ed25519Id: r.ed25519Id, ntorKey: r.ntorOnionKey, addr: r.ip, port: r.orPort, ...hopHandshake(r, r === exit, cc) }, this.clock());
      if (!x.ok) {
        c.value.destroy();
        throw this.buildError('build-extend-failed', x.error.message);
      }
      try {
        await this.step(mc);
      } catch (e) {
        this.unreachable.set(r.rsaIdHex, this.clock());
        throw this.buildError('build-extend-failed', `EXTEND2 to ${r.nickname}: ${(e as Error).message}`);
      }
    }
    mc.state = 'open';
    mc.builtAt = this.clock();
    this.counters.bump('circuits-built');
    if (hopHandshake(exit, true, cc).congestionControl) this.counters.bump(c.value.ccOf(c.value.hops - 1) ? 'cc-negotiated' : 'cc-declined');
    // Replace the handshake keys this build used once the waiting stream's BEGIN is out.
    setImmediate(refillHandshakeKeys);
    return mc;
  }

  // ---- conflux sets ----

  /**
   * Launch a conflux set (C tor conflux_launch_leg / launch_new_set): cfx_num_legs_set circuits to
   * one exit that speaks Conflux=1 and congestion control, each through its own guard and middle
   * (conflux_add_{guards,middles}_to_exclude_list), linked once all are built. Returns the set's
   * entry; it takes streams once linked.
   */
  buildConfluxSet(port: number | undefined = this.predictedPorts().at(-1) ?? this.cfg.preemptivePorts[0]): ManagedCircuit {
    const now = this.clock();
    const dir = this.opts.netdir();
    if (!dir) throw this.buildError('no-netdir', 'no usable consensus yet');
    const cc = this.ccParamsFor(dir);
    const params = confluxParamsFrom(dir);
    if (!cc || !params.enabled || this.cfg.conflux === 'off') throw this.buildError('conflux-unavailable', 'conflux needs congestion control and cfx_enabled');
    const reachable = (r: Relay) => !this.recentlyUnreachable(r, now);
    const exits = exitCandidates(dir, port).filter((r) => supportsConflux(r.status.protocols) && supportsCongestionControl(r.status.protocols) && r.ed25519Id !== undefined);
    const exit = pickRelay(dir, preferring(exits, reachable), 'exit', this.rng);
    if (!exit) throw this.buildError('conflux-no-exit', 'no exit speaks Conflux=1 for this port');
    const usedGuards = new Set<string>();
    const usedMiddles = new Set<string>();
    const paths: Relay[][] = [];
    for (let i = 0; i < Math.max(1, params.legsPerSet); i++) {
      const guard = this.opts.guardMgr.pick(dir, now, (g) => !usedGuards.has(g.rsaIdHex) && mayShareCircuit(g, exit, dir.enforceDistinctSubnets));
      if (!guard) throw this.buildError('conflux-path-failed', `no distinct guard for leg ${i + 1}`);
      const middles = middleCandidates(dir, [exit, guard]).filter((m) => !usedMiddles.has(m.rsaIdHex));
      const middle = pickRelay(dir, preferring(middles, reachable), 'middle', this.rng);
      if (!middle) throw this.buildError('conflux-path-failed', `no distinct middle for leg ${i + 1}`);
      usedGuards.add(guard.rsaIdHex);
      usedMiddles.add(middle.rsaIdHex);
      paths.push([guard, middle, exit]);
    }
    const set = this.track('exit', paths[0]!, exit, null);
    set.legs = paths.map((hops) => {
      const leg = this.track('conflux-leg', hops, exit, null);
      leg.ready = this.withBuildTimeout(leg, this.runExitBuild(leg, hops, cc));
      leg.ready.then(
        () => (this.buildFailStreak = 0),
        () => this.buildFailStreak++,
      );
      return leg;
    });
    const maxOooCells = Math.max(64, Math.floor(Math.min(params.maxOooBytes, MAX_OOO_BYTES) / OOO_CELL_COST));
    set.ready = this.withBuildTimeout(set, this.runConfluxLink(set, maxOooCells));
    set.ready.then(
      () => (this.confluxFailStreak = 0),
      () => {
        if (++this.confluxFailStreak >= MAX_CONFLUX_FAILURES) {
          this.confluxFailStreak = 0;
          this.confluxResumeAt = this.clock() + CONFLUX_BACKOFF_MS;
          this.counters.bump('conflux-backoff');
        }
      },
    );
    return set;
  }

  /** Wait for every leg, then link them into one set (LINK → LINKED → LINKED_ACK on each). */
  private async runConfluxLink(set: ManagedCircuit, maxOooCells: number): Promise<ManagedCircuit> {
    const legs = set.legs!;
    const built = await Promise.allSettled(legs.map((l) => l.ready));
    const failed = built.find((b): b is PromiseRejectedResult => b.status === 'rejected');
    if (failed || set.state === 'closed') {
      for (const l of legs) l.circ?.destroy(DestroyReason.FINISHED);
      if (set.state === 'closed') throw new CircuitBuildError('build-timeout', 'conflux set abandoned');
      throw this.buildError('conflux-leg-build-failed', (failed!.reason as Error).message);
    }
    if (legs.some((l) => !l.circ!.ccOf(l.circ!.hops - 1))) {
      for (const l of legs) l.circ?.destroy(DestroyReason.FINISHED);
      throw this.buildError('conflux-no-cc', 'the exit did not negotiate congestion control on every leg');
    }
    const cfx = new ConfluxSet({ nonce: new Uint8Array(randomBytes(32)), maxOooCells });
    set.conflux = cfx;
    const linked = new Promise<void>((resolve, reject) => {
      cfx.onEvent = (e) => {
        if (e.type === 'linked') return resolve();
        this.onConfluxClosed(set, e);
        reject(new Error(set.closeReason ?? 'conflux set closed'));
      };
    });
    for (const l of legs) {
      const r = cfx.addLeg(l.circ!, this.clock());
      if (!r.ok) {
        cfx.destroy();
        throw this.buildError('conflux-link-failed', r.error.message);
      }
    }
    await linked;
    cfx.onEvent = (e) => this.onConfluxClosed(set, e);
    set.state = 'open';
    set.builtAt = this.clock();
    this.counters.bump('conflux-linked');
    return set;
  }

  private onConfluxClosed(set: ManagedCircuit, e: ConfluxSetEvent): void {
    if (e.type !== 'closed') return;
    const cfx = set.conflux;
    if (cfx && cfx.counters.legsLostSurvived > 0) this.counters.bump('conflux-leg-lost-survived', cfx.counters.legsLostSurvived);
    if (e.failure) this.counters.bump(`conflux-${e.failure}`);
    this.finish(set, e.failure ? `conflux ${e.failure}${e.error ? `: ${e.error.message}` : ''}` : 'conflux set closed', e.error);
  }

  private scheduleConfluxTopUp(): void {
    if (this.confluxTopUp || this.closed) return;
    this.confluxTopUp = setTimeout(() => {
      this.confluxTopUp = undefined;
      if (!this.closed) this.launchConfluxSets();
    }, CONFLUX_TOPUP_DELAY_MS);
    this.confluxTopUp.unref?.();
  }

  /** Keep cfx_max_prebuilt_set clean sets ready (C tor conflux_predict_new); returns how many were launched. */
  private launchConfluxSets(): number {
    const dir = this.opts.netdir();
    if (!dir || this.cfg.conflux === 'off' || !this.ccParamsFor(dir) || this.clock() < this.confluxResumeAt) return 0;
    if (this.predictedPorts().length === 0) return 0;
    const params = confluxParamsFrom(dir);
    if (!params.enabled) return 0;
    const sets = [...this.circuits.values()].filter((mc) => mc.legs !== undefined && mc.state !== 'closed');
    if (sets.filter((mc) => mc.state === 'open').length >= params.maxLinkedSets) return 0;
    const clean = sets.filter((mc) => !mc.retired && mc.isolationKey === null && mc.generation === this.generation).length;
    let launched = 0;
    for (let i = clean; i < maxPrebuiltSets(dir, params); i++) {
      try {
        this.buildConfluxSet();
        this.counters.bump('conflux-launched');
        launched++;
      } catch {
        break; // counted by buildConfluxSet; a failure now likely repeats, try at the next upkeep
      }
    }
    return launched;
  }

  /** Tear down what an entry stands for: a set (and so its legs), a set's legs while linking, or a circuit. */
  private destroyEntry(mc: ManagedCircuit, reason: number = DestroyReason.FINISHED): void {
    if (mc.conflux && mc.conflux.state !== 'closed') mc.conflux.destroy(reason);
    else if (mc.legs) for (const l of mc.legs) l.circ?.destroy(reason);
    else mc.circ?.destroy(reason);
  }

  // ---- directory circuits ----

  /**
   * A DirServer for the directory manager: BEGIN_DIR streams on a one-hop CREATE_FAST circuit to
   * `target`, the circuit kept and reused while it lives.
   */
  dirServer(target: ChanTarget & { readonly name: string }): DirServer {
    return {
      name: target.name,
      open: async (): Promise<Duplex> => {
        const mc = await this.dirCircuit(target);
        const sink = streamDuplexSink(STREAM_DIR_BUFFER, this.clock);
        const s = mc.circ!.beginDir({ freeSpace: sink.freeSpace }, this.clock());
        if (!s.ok) {
          mc.retired = true;
          throw new Error(`BEGIN_DIR: ${s.error.message}`);
        }
        const stream = s.value;
        mc.streams++;
        mc.streamsTotal++;
        await this.awaitConnected(stream, sink, mc).finally(() => undefined);
        this.streamCounters.bump('dir-streams-opened');
        return sink.attach(stream);
      },
    };
  }

  private async dirCircuit(target: ChanTarget & { readonly name: string }): Promise<ManagedCircuit> {
    const key = Buffer.from(target.rsaId).toString('hex');
    const have = this.dirCircuits.get(key);
    if (have && have.state !== 'closed' && !have.retired) return have.ready;
    const mc = this.track('dir', [{ nickname: target.nickname ?? target.name, rsaIdHex: key.toUpperCase() }], undefined, null);
    this.dirCircuits.set(key, mc);
    mc.ready = this.withBuildTimeout(
      mc,
      (async () => {
        // Our primary guards are our directory guards (the directory manager asks them first): what a
        // one-hop circuit to one shows about its reachability counts as for any circuit through it (C
        // tor's entry_guard_succeeded/failed on a directory connection's guard state). A cache chosen
        // otherwise tells the guard manager nothing, even when it is a sampled guard: confirming it
        // would let directory fetches reorder our guards.
        const guardId = key.toUpperCase();
        const asGuard = this.opts.guardMgr.primaries.includes(guardId);
        const note = (ok: boolean): void => {
          if (asGuard) (ok ? this.opts.guardMgr.noteSuccess(guardId, this.clock()) : this.opts.guardMgr.noteFailure(guardId, this.clock()));
        };
        let chan;
        try {
          chan = await this.opts.chanMgr.get(target);
        } catch (e) {
          note(false);
          throw this.buildError('build-channel-failed', (e as Error).message);
        }
        const c = chan.channel.createCircuitFast(this.clock());
        if (!c.ok) throw this.buildError('build-create-failed', c.error.message);
        this.attach(mc, c.value);
        try {
          await this.step(mc);
        } catch (e) {
          note(false);
          throw this.buildError('build-create-failed', `CREATE_FAST to ${target.name}: ${(e as Error).message}`);
        }
        note(true);
        mc.state = 'open';
        mc.builtAt = this.clock();
        this.counters.bump('onehop-built');
        return mc;
      })(),
    );
    mc.ready.catch(() => {
      if (this.dirCircuits.get(key) === mc) this.dirCircuits.delete(key);
    });
    return mc.ready;
  }

  // ---- streams ----

  /**
   * Open an exit stream, retrying on other circuits the way C tor does (see refusalAction): after END
   * EXITPOLICY/RESOURCELIMIT/HIBERNATING (avoiding that exit), up to 3 times after END RESOLVEFAILED/
   * MISC/TIMEOUT/NOROUTE (retiring the circuit), after our BEGIN timeout (the circuit is retired), or
   * when the circuit dies first. Other refusals (CONNECTREFUSED, …) are final.
   * `sink` receives the stream's events from CONNECTED on.
   */
  async openStream(req: StreamRequest, sink: StreamSink): Promise<OpenedStream> {
    this.predicted?.noteUsed(req.port, this.clock());
    const avoid = new Set<string>();
    let lastReason: number = EndReason.MISC;
    let lastWhy = 'no attempt';
    // As in C tor, a stream waits through failed circuit builds (bounded here by a count; the caller
    // bounds the time); only BEGIN attempts count against maxStreamAttempts.
    let attempt = 0;
    let buildFailures = 0;
    let limitedRefusals = 0;
    while (attempt < this.cfg.maxStreamAttempts) {
      let mc: ManagedCircuit;
      try {
        mc = await this.circuitFor(req.port, req.isolationKey, avoid);
      } catch (e) {
        // Out of exits after refusals: report the exits' reason (C tor answers SOCKS with it).
        if (avoid.size === 0) {
          lastWhy = (e as Error).message;
          lastReason = EndReason.NOROUTE;
        }
        if (e instanceof CircuitBuildError && (e.counter === 'no-netdir' || e.counter.startsWith('path-'))) break;
        if (++buildFailures >= MAX_BUILD_FAILURES_PER_STREAM) break;
        continue;
      }
      attempt++;
      if (attempt > 1) this.streamCounters.bump('retried');
      const s = streamHost(mc).beginStream(req.host, req.port, { freeSpace: sink.freeSpace, flags: req.flags ?? 0 }, this.clock());
      if (!s.ok) {
        this.streamCounters.bump('begin-refused-local');
        if (s.error.code === 'BAD_ARGUMENT') throw new StreamOpenError(EndReason.INTERNAL, s.error.message);
        mc.retired = true;
        lastWhy = s.error.message;
        continue;
      }
      this.markDirty(mc, req.isolationKey);
      mc.streams++;
      mc.streamsTotal++;
      try {
        const connected = await this.awaitConnected(s.value, sink, mc, this.beginTimeoutFor(attempt));
        this.streamCounters.bump('streams-opened');
        if (mc.conflux) this.counters.bump('conflux-streams');
        return { stream: s.value, circuit: mc, connected, attempts: attempt };
      } catch (e) {
        const reason = e instanceof StreamOpenError ? e.reason : EndReason.MISC;
        const remote = e instanceof StreamOpenError && e.remote;
        lastReason = reason;
        lastWhy = (e as Error).message;
        if (!remote) {
          // Our BEGIN timeout (C tor stops using that circuit for new streams) or a dead circuit.
          if (reason === EndReason.TIMEOUT) mc.retired = true;
          continue;
        }
        const action = refusalAction(reason);
        if (action === 'avoid-exit') {
          if (mc.exit) avoid.add(mc.exit.rsaIdHex);
          continue;
        }
        if (action === 'retry-limited' && ++limitedRefusals < MAX_LIMITED_REFUSALS) {
          mc.retired = true;
          continue;
        }
        this.streamCounters.bump('gave-up');
        throw e;
      }
    }
    this.streamCounters.bump('gave-up');
    throw new StreamOpenError(lastReason, `stream failed: ${lastWhy}`);
  }

  /** Wait for CONNECTED (then hand events to `sink`), END, or the begin timeout. */
  /** C tor (connection_ap_expire_beginning): 10 s for the first two tries, 15 s after that. */
  private beginTimeoutFor(attempt: number): number {
    return attempt <= 2 ? this.cfg.beginTimeoutMs : Math.round(this.cfg.beginTimeoutMs * 1.5);
  }

  private awaitConnected(stream: Stream, sink: StreamSink, mc: ManagedCircuit, timeoutMs = this.cfg.beginTimeoutMs): Promise<Connected> {
    return new Promise<Connected>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.streamCounters.bump('begin-timeout');
        stream.onEvent = () => undefined;
        stream.end(EndReason.TIMEOUT, this.clock());
        this.streamGone(mc);
        reject(new StreamOpenError(EndReason.TIMEOUT, `no CONNECTED within ${timeoutMs} ms`));
      }, timeoutMs);
      stream.onEvent = (e) => {
        if (e.type === 'connected') {
          clearTimeout(timer);
          stream.onEvent = (ev) => {
            if (ev.type === 'end') {
              this.streamCounters.bump(endCounter('ended', ev.reason));
              this.streamGone(mc);
            }
            sink.onEvent(ev);
          };
          resolve(e.connected);
        } else if (e.type === 'end') {
          clearTimeout(timer);
          this.streamGone(mc);
          if (e.remote) this.streamCounters.bump(endCounter('refused', e.reason));
          const why = e.remote ? `exit refused: ${endReasonName(e.reason)}` : `circuit closed before CONNECTED${e.error ? ` (${e.error.message})` : ''}`;
          reject(new StreamOpenError(e.remote ? e.reason : EndReason.DESTROY, why, e.remote));
        }
      };
    });
  }

  /** Forward (RESOLVE) or reverse (in-addr.arpa / ip6.arpa name) lookup at an exit. */
  async resolve(name: string, isolationKey: string): Promise<ResolvedAnswer[]> {
    // As C tor (rep_hist_note_used_resolve): a client that only resolves still gets circuits ready.
    this.predicted?.noteUsed(80, this.clock());
    let lastWhy = 'no attempt';
    for (let attempt = 1; attempt <= this.cfg.maxStreamAttempts; attempt++) {
      let mc: ManagedCircuit;
      try {
        mc = await this.circuitFor(undefined, isolationKey, new Set());
      } catch (e) {
        lastWhy = (e as Error).message;
        continue;
      }
      const s = streamHost(mc).resolve(name, this.clock());
      if (!s.ok) {
        if (s.error.code === 'BAD_ARGUMENT') throw new StreamOpenError(EndReason.RESOLVEFAILED, s.error.message);
        mc.retired = true;
        continue;
      }
      this.markDirty(mc, isolationKey);
      mc.streams++;
      mc.streamsTotal++;
      const r = await new Promise<ResolvedAnswer[] | Error>((resolve) => {
        const timer = setTimeout(() => {
          this.streamCounters.bump('resolve-timeout');
          s.value.onEvent = () => undefined;
          s.value.end(EndReason.TIMEOUT, this.clock());
          mc.retired = true;
          resolve(new Error('RESOLVE timed out'));
        }, this.cfg.beginTimeoutMs);
        s.value.onEvent = (e) => {
          if (e.type === 'resolved') {
            clearTimeout(timer);
            resolve(e.answers);
          } else if (e.type === 'end') {
            clearTimeout(timer);
            resolve(new Error(e.remote ? `exit ended RESOLVE: ${endReasonName(e.reason)}` : 'circuit closed'));
          }
        };
      });
      this.streamGone(mc);
      if (Array.isArray(r)) {
        this.streamCounters.bump(r.some((a) => a.kind === 'error') && !r.some((a) => a.kind !== 'error') ? 'resolve-error' : 'resolve-ok');
        return r;
      }
      lastWhy = r.message;
    }
    throw new StreamOpenError(EndReason.RESOLVEFAILED, `resolve failed: ${lastWhy}`);
  }

  // ---- circuit choice ----

  /** An open or building circuit that may carry a stream for (port, key), or a new one. */
  async circuitFor(port: number | undefined, key: string, avoidExits: ReadonlySet<string>): Promise<ManagedCircuit> {
    const now = this.clock();
    const usable = (mc: ManagedCircuit): boolean =>
      mc.purpose === 'exit' &&
      mc.state !== 'closed' &&
      !mc.retired &&
      mc.generation === this.generation &&
      (mc.isolationKey === null || mc.isolationKey === key) &&
      (mc.dirtySince === undefined || now - mc.dirtySince < this.cfg.maxDirtinessMs) &&
      mc.exit !== undefined &&
      // A conflux set takes streams once linked (C tor: conflux_get_circ_for_conn, must be open).
      (mc.legs === undefined || (mc.state === 'open' && mc.conflux?.state === 'linked')) &&
      !avoidExits.has(mc.exit.rsaIdHex) &&
      (port === undefined || policyAllowsPort(mc.exit.ipv4Policy, port));
    const all = [...this.circuits.values()].filter(usable);
    // Linked conflux sets first (C tor circuit_get_best), then circuits already bound to this key,
    // then open ones, then the newest.
    const isSet = (mc: ManagedCircuit) => Number(mc.legs !== undefined);
    all.sort((a, b) => isSet(b) - isSet(a) || Number(b.isolationKey === key) - Number(a.isolationKey === key) || Number(b.state === 'open') - Number(a.state === 'open') || b.id - a.id);
    for (const mc of all) {
      // Claim a clean circuit now (before any await), so a concurrent request with another key cannot
      // take the same one, and start its replacement so the next new key finds one ready.
      if (mc.isolationKey === null) {
        mc.isolationKey = key;
        this.scheduleTopUp('claimed');
      }
      try {
        const ready = await mc.ready;
        if (ready.state === 'open' && ready.isolationKey === key) return ready;
      } catch {
        // that build failed: look further / build our own
      }
    }
    const mc = this.buildExitCircuit(port, key, avoidExits);
    return mc.ready;
  }

  /**
   * Periodic upkeep (call every few seconds): retire circuits past the dirtiness limit, close retired
   * circuits with no streams, keep clean circuits ready for the predicted ports.
   */
  maintain(): void {
    if (this.closed) return;
    this.upkeepStarted = true;
    refillHandshakeKeys();
    const now = this.clock();
    for (const mc of this.circuits.values()) {
      if (mc.purpose !== 'exit' || mc.state === 'closed') continue;
      if (!mc.retired && mc.dirtySince !== undefined && now - mc.dirtySince >= this.cfg.maxDirtinessMs) {
        mc.retired = true;
        this.counters.bump('dirty-expired');
      }
      if ((mc.retired || mc.generation !== this.generation) && mc.streams === 0 && mc.state === 'open') {
        this.counters.bump('idle-closed');
        this.destroyEntry(mc);
      } else if (mc.dirtySince === undefined && mc.streams === 0 && mc.state === 'open' && now - mc.createdAt > mc.idleTimeoutMs) {
        // Clean and never used for as long as predictions lasted when it was launched.
        this.counters.bump('unused-closed');
        this.destroyEntry(mc);
      }
    }
    this.dropUnservedPorts();
    this.launchPreemptive();
  }

  /** Whether clean circuits are kept ready at all (not with 0 circuits and no predicted ports). */
  get preemptiveEnabled(): boolean {
    return this.cfg.preemptiveCircuits > 0 || this.cfg.preemptivePorts.length > 0;
  }

  /**
   * A clean circuit was claimed by a stream or lost: top the clean set up again soon rather than at
   * the next maintain(). At most one top-up is pending. After a loss it waits until
   * TOPUP_AFTER_LOSS_MS past the previous such top-up, and none runs while the last
   * MAX_BUILD_FAILURES_FOR_TOPUP builds all failed (maintain() keeps trying at its own pace), so a
   * broken network cannot turn failed builds into a build storm.
   */
  private scheduleTopUp(why: 'claimed' | 'lost'): void {
    if (this.closed || !this.upkeepStarted || !this.preemptiveEnabled) return;
    const now = this.clock();
    const delay = why === 'claimed' ? 0 : Math.max(0, this.lastLossTopUpAt + TOPUP_AFTER_LOSS_MS - now);
    if (this.topUp && this.topUp.at <= now + delay) return;
    if (this.topUp) clearTimeout(this.topUp.timer);
    const timer = setTimeout(() => {
      this.topUp = undefined;
      if (why === 'lost') this.lastLossTopUpAt = this.clock();
      this.runTopUp();
    }, delay);
    timer.unref?.();
    this.topUp = { timer, at: now + delay };
  }

  private runTopUp(): void {
    if (this.closed) return;
    if (this.buildFailStreak >= MAX_BUILD_FAILURES_FOR_TOPUP) {
      this.counters.bump('preemptive-topup-deferred');
      return;
    }
    const n = this.launchPreemptive(false);
    for (let i = 0; i < n; i++) this.counters.bump('preemptive-topup');
  }

  /**
   * Launch clean circuits up to the configured count and predicted-port cover; returns how many.
   * Conflux sets are topped up now from the periodic upkeep, else a second later (C tor predicts sets
   * once a second): a claimed set's replacement then does not compete for CPU with the stream that
   * claimed it.
   */
  private launchPreemptive(setsNow = true): number {
    if (!this.opts.netdir() || this.predicted === undefined) return 0;
    // None: idle past the prediction timeout, so nothing is built ahead of a stream (C tor stops
    // predictive building too).
    const ports = this.predicted.ports(this.clock());
    if (ports.length === 0) return 0;
    let launched = 0;
    // Clean conflux sets are kept apart (launchConfluxSets, as C tor's conflux_predict_new): counting
    // them here left no clean single circuit once the sets were claimed, so the next new isolation
    // key waited for a build.
    const clean = [...this.circuits.values()].filter(
      (mc) => mc.purpose === 'exit' && mc.legs === undefined && mc.state !== 'closed' && !mc.retired && mc.isolationKey === null && mc.generation === this.generation,
    );
    const needPorts = ports.filter((p) => !clean.some((mc) => mc.exit && policyAllowsPort(mc.exit.ipv4Policy, p)));
    const budget = Math.min(MAX_CLEAN_CIRCUITS - clean.length, Math.max(needPorts.length, this.cfg.preemptiveCircuits - clean.length));
    for (let i = 0; i < budget; i++) {
      // One circuit per port that needs one, then more for the most recently used port.
      const needed = i < needPorts.length;
      try {
        this.buildExitCircuit(needed ? needPorts[i] : ports.at(-1), null);
        this.counters.bump('preemptive-launched');
        launched++;
      } catch {
        // Counted by buildExitCircuit. Another needed port may still work; another extra would not.
        if (!needed) break;
      }
    }
    // C tor runs conflux_predict_new from the same predicted-circuit upkeep.
    if (setsNow) launched += this.launchConfluxSets();
    else this.scheduleConfluxTopUp();
    return launched;
  }

  /** Stop predicting ports no exit in the consensus allows (C tor's rep_hist_remove_predicted_ports). */
  private dropUnservedPorts(): void {
    const dir = this.opts.netdir();
    if (!dir || this.predicted === undefined) return;
    for (const p of this.predicted.ports(this.clock())) {
      if (exitCandidates(dir, p).length > 0) continue;
      this.predicted.remove(p);
      this.counters.bump('predicted-port-unserved');
    }
  }

  /** NEWNYM: no circuit built so far takes new streams; streams already open keep theirs. */
  newnym(): void {
    this.generation++;
    for (const mc of this.circuits.values()) {
      if (mc.purpose === 'exit' && mc.state !== 'closed' && !mc.retired) {
        mc.retired = true;
        this.counters.bump('newnym-retired');
      }
    }
    this.maintain();
  }

  list(): CircuitSummary[] {
    const now = this.clock();
    return [...this.circuits.values()].map((mc) => ({
      id: mc.id,
      purpose: mc.purpose,
      state: mc.state,
      path: mc.path.map((r) => r.nickname),
      isolation: mc.isolationKey,
      ageMs: now - mc.createdAt,
      dirtyMs: mc.dirtySince === undefined ? null : now - mc.dirtySince,
      retired: mc.retired,
      streams: mc.streams,
      streamsTotal: mc.streamsTotal,
      buildMs: mc.builtAt === undefined ? null : mc.builtAt - mc.createdAt,
      ...(mc.legs ? { legs: mc.legs.map((l) => l.id) } : {}),
      // (`counters` is optional here only for scripted circuits in tests.)
      ...(mc.circ?.counters ? { dataCellsIn: mc.circ.counters.dataCellsIn, dataCellsOut: mc.circ.counters.dataCellsOut } : {}),
    }));
  }

  get(id: number): ManagedCircuit | undefined {
    return this.circuits.get(id);
  }

  /** Take no new streams on circuit `id`; it closes once its streams end (now, when it has none). */
  retire(id: number): void {
    const mc = this.circuits.get(id);
    if (!mc || mc.state === 'closed') return;
    mc.retired = true;
    if (mc.streams === 0 && mc.state === 'open') {
      this.counters.bump('idle-closed');
      this.destroyEntry(mc);
    }
  }

  /** Destroy every circuit. */
  closeAll(): void {
    this.closed = true;
    if (this.topUp) clearTimeout(this.topUp.timer);
    this.topUp = undefined;
    if (this.confluxTopUp) clearTimeout(this.confluxTopUp);
    this.confluxTopUp = undefined;
    for (const mc of [...this.circuits.values()]) {
      if (mc.circ || mc.conflux || mc.legs) this.destroyEntry(mc);
      this.finish(mc, 'shutdown');
    }
  }

  // ---- internals ----

  private recentlyUnreachable(r: Relay, now: number): boolean {
    const t = this.unreachable.get(r.rsaIdHex);
    if (t === undefined) return false;
    if (now - t < UNREACHABLE_AVOID_MS) return true;
    this.unreachable.delete(r.rsaIdHex);
    return false;
  }

  private track(purpose: CircuitPurpose, path: ManagedCircuit['path'], exit: Relay | undefined, isolationKey: string | null): ManagedCircuit {
    const mc: ManagedCircuit = {
      id: this.nextId++,
      purpose,
      path,
      exit,
      circ: undefined,
      state: 'building',
      createdAt: this.clock(),
      builtAt: undefined,
      isolationKey,
      dirtySince: undefined,
      retired: false,
      generation: this.generation,
      idleTimeoutMs: purpose === 'exit' ? this.idleTimeoutForNewCircuit() : Number.POSITIVE_INFINITY,
      streams: 0,
      streamsTotal: 0,
      closeReason: undefined,
      ready: Promise.resolve(undefined as unknown as ManagedCircuit),
      waiter: undefined,
    };
    this.circuits.set(mc.id, mc);
    return mc;
  }

  /**
   * C tor (origin_circuit_new): the prediction time remaining plus 1 s and a random 0–5% of it, so a
   * clean circuit outlives the predictions it was built for, and clean circuits do not all close at once.
   */
  private idleTimeoutForNewCircuit(): number {
    if (this.predicted === undefined) return Number.POSITIVE_INFINITY;
    const remaining = this.predicted.remainingMs(this.clock());
    return remaining + 1000 + Math.floor(this.rng.next() * (1000 + remaining / 20));
  }

  private attach(mc: ManagedCircuit, circ: Circuit): void {
    mc.circ = circ;
    circ.onEvent = (e) => this.onCircuitEvent(mc, e);
  }

  private step(mc: ManagedCircuit): Promise<void> {
    if (mc.state === 'closed') return Promise.reject(new Error(mc.closeReason ?? 'closed'));
    return new Promise((resolve, reject) => (mc.waiter = { resolve, reject }));
  }

  private onCircuitEvent(mc: ManagedCircuit, e: CircuitEvent): void {
    const w = mc.waiter;
    if (e.type === 'open' || e.type === 'extended') {
      mc.waiter = undefined;
      w?.resolve();
    } else if (e.type === 'truncated') {
      this.counters.bump(destroyCounter(e.reason, true));
      mc.circ?.destroy(DestroyReason.FINISHED);
    } else if (e.type === 'closed') {
      let why: string;
      if (e.error) {
        this.counters.bump(protoCounter(e.error.code));
        why = `${e.error.code}: ${e.error.message}`;
      } else {
        if (e.remote) this.counters.bump(destroyCounter(e.reason));
        why = e.remote ? `destroyed (${destroyName(e.reason)})` : 'closed by us';
      }
      this.finish(mc, why, e.error);
    }
  }

  private finish(mc: ManagedCircuit, why: string, _error?: ProtoError | null): void {
    if (mc.state === 'closed') return;
    mc.state = 'closed';
    mc.closeReason = why;
    this.circuits.delete(mc.id);
    const w = mc.waiter;
    mc.waiter = undefined;
    w?.reject(new Error(why));
    // A clean circuit failed to build or died: replace it (paced, see scheduleTopUp).
    if (mc.purpose === 'exit' && mc.isolationKey === null && !mc.retired && mc.generation === this.generation) this.scheduleTopUp('lost');
  }

  private markDirty(mc: ManagedCircuit, key: string): void {
    mc.isolationKey = key;
    mc.dirtySince ??= this.clock();
  }

  private streamGone(mc: ManagedCircuit): void {
    mc.streams = Math.max(0, mc.streams - 1);
    if (mc.streams === 0 && (mc.retired || mc.generation !== this.generation) && mc.state === 'open' && mc.purpose === 'exit') {
      this.counters.bump('idle-closed');
      this.destroyEntry(mc);
    }
  }

  private withBuildTimeout(mc: ManagedCircuit, p: Promise<ManagedCircuit>): Promise<ManagedCircuit> {
    return new Promise<ManagedCircuit>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.counters.bump(mc.legs ? 'conflux-link-timeout' : 'build-timeout');
        this.noteFailure(`circuit ${mc.id}: build timed out after ${this.cfg.buildTimeoutMs} ms`);
        this.destroyEntry(mc);
        this.finish(mc, 'build timed out');
        reject(new CircuitBuildError('build-timeout', 'circuit build timed out'));
      }, this.cfg.buildTimeoutMs);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: Error) => {
          clearTimeout(timer);
          this.destroyEntry(mc);
          this.finish(mc, e.message);
          reject(e);
        },
      );
    });
  }

  private buildError(counter: string, message: string): CircuitBuildError {
    this.counters.bump(counter);
    this.noteFailure(`${counter}: ${message}`);
    return new CircuitBuildError(counter, message);
  }

  private noteFailure(s: string): void {
    this.recentFailures.push(s);
    if (this.recentFailures.length > 16) this.recentFailures.shift();
  }
}

/** What a stream is opened on: the entry's conflux set, or its circuit. */
function streamHost(mc: ManagedCircuit): Pick<ConfluxSet, 'beginStream' | 'resolve'> {
  return mc.conflux ?? mc.circ!;
}

/** Out-of-order queue bound we accept whatever the consensus says (C tor's default is INT32_MAX bytes). */
const MAX_OOO_BYTES = 8 * 1024 * 1024;

/** Sets failing to build or link in a row before set building pauses for CONFLUX_BACKOFF_MS. */
const MAX_CONFLUX_FAILURES = 3;
const CONFLUX_BACKOFF_MS = 60_000;

/** Delay of a conflux set top-up after a claim or loss (C tor's conflux_predict_new runs once a second). */
const CONFLUX_TOPUP_DELAY_MS = 1_000;

/** The candidates that pass `good`, or all of them when none does. */
function preferring<T>(xs: T[], good: (x: T) => boolean): T[] {
  const g = xs.filter(good);
  return g.length > 0 ? g : xs;
}

/** ntor key pairs kept ready: a 3-hop build and a retry. */
const HANDSHAKE_KEYS_READY = 6;

function refillHandshakeKeys(): void {
  x25519Prefill(HANDSHAKE_KEYS_READY);
}

/** Exit builds failing in a row after which claims and losses no longer launch top-ups (C tor's MAX_CIRCUIT_FAILURES). */
const MAX_BUILD_FAILURES_FOR_TOPUP = 5;

/** Clean exit circuits kept at most, however many ports are predicted (C tor's MAX_UNUSED_OPEN_CIRCUITS). */
const MAX_CLEAN_CIRCUITS = 14;

/** Least time between top-ups after lost clean circuits (C tor re-checks predicted circuits once a second). */
const TOPUP_AFTER_LOSS_MS = 1_000;

/** Circuit builds a stream waits through before it fails. */
const MAX_BUILD_FAILURES_PER_STREAM = 8;

/** How long a relay we failed to extend to is left out of new paths. */
const UNREACHABLE_AVOID_MS = 5 * 60_000;

/** Directory streams buffer whole documents in flight; same bound as exit streams. */
const STREAM_DIR_BUFFER = 512 * 1024;

function destroyName(reason: number): string {
  return Object.entries(DestroyReason).find(([, v]) => v === reason)?.[0] ?? `UNKNOWN(${reason})`;
}
