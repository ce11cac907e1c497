// Guard manager (guard-spec; C tor entrynodes.c, arti tor-guardmgr): a persistent sample of guards
// chosen by guard weight, a confirmed list in the order guards first carried a circuit, and primary
// guards drawn from confirmed then sampled ones. Everything is filtered by the current NetDir; a
// guard that failed is skipped until its retry delay passes.
import type { NetDir } from '../netdir/netdir.js';
import { guardCandidates, pickRelay } from '../netdir/path.js';
import { cryptoRandom, type RandomSource } from '../netdir/random.js';
import { isUsable, type Relay } from '../netdir/relay.js';
import { CounterSet, type TorCounterDescriptor } from '../chanmgr/counter-set.js';
import { emptyGuardState, memoryGuardStore, type GuardStateFile, type GuardStore, type SampledGuard } from './guard-state.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export interface GuardParams {
  /** Absolute cap on the sample (guard-max-sample-size; we use 20). */
  readonly maxSampleSize: number;
  /** Cap as a fraction of the consensus's guards (guard-max-sample-threshold-percent / 100). */
  readonly maxSampleFraction: number;
  /** guard-n-primary-guards-to-use (3 by default; the live consensus says 2). */
  readonly nPrimary: number;
  /** Retry a failed primary guard after this long (10 min). */
  readonly primaryRetryMs: number;
  /** Retry a failed non-primary guard after this long (1 h). */
  readonly otherRetryMs: number;
  /** Drop a guard the consensus stopped listing after this long (guard-remove-unlisted-guards-after-days, 20). */
  readonly removeUnlistedAfterMs: number;
  /** Drop an unconfirmed guard this long after sampling (guard-lifetime-days, 120). */
  readonly sampleLifetimeMs: number;
}

export const DEFAULT_GUARD_PARAMS: GuardParams = {
  maxSampleSize: 20,
  maxSampleFraction: 0.2,
  nPrimary: 3,
  primaryRetryMs: 10 * MINUTE,
  otherRetryMs: 60 * MINUTE,
  removeUnlistedAfterMs: 20 * DAY,
  sampleLifetimeMs: 120 * DAY,
};

/** Consensus parameters override the defaults, within the spec's bounds. */
export function guardParamsFrom(dir: NetDir, base: GuardParams = DEFAULT_GUARD_PARAMS): GuardParams {
  return {
    ...base,
    nPrimary: dir.param('guard-n-primary-guards-to-use', base.nPrimary, 1, 10),
    maxSampleFraction: dir.param('guard-max-sample-threshold-percent', Math.round(base.maxSampleFraction * 100), 1, 100) / 100,
    removeUnlistedAfterMs: dir.param('guard-remove-unlisted-guards-after-days', base.removeUnlistedAfterMs / DAY, 1, 365) * DAY,
    sampleLifetimeMs: dir.param('guard-lifetime-days', base.sampleLifetimeMs / DAY, 1, 3650) * DAY,
  };
}

export const GUARD_COUNTERS = [
  { name: 'sampled', description: 'guards added to the sample', severity: 'info' },
  { name: 'removed-unlisted', description: 'sampled guards dropped after being unlisted too long', severity: 'info' },
  { name: 'removed-expired', description: 'unconfirmed sampled guards dropped at the end of their lifetime', severity: 'info' },
  { name: 'confirmed', description: 'guards confirmed by a first successful circuit', severity: 'info' },
  { name: 'success', description: 'circuits whose first hop through a guard succeeded', severity: 'info' },
  { name: 'failure', description: 'connections or first hops through a guard that failed', severity: 'warn' },
  { name: 'no-guard-usable', description: 'no sampled guard was listed and reachable', severity: 'error' },
] as const satisfies readonly TorCounterDescriptor[];

export type GuardCounterName = (typeof GUARD_COUNTERS)[number]['name'];

export interface GuardSummary {
  readonly id: string;
  readonly nickname: string;
  readonly primary: boolean;
  readonly confirmed: boolean;
  readonly listed: boolean;
  readonly reachable: 'yes' | 'no' | 'untried' | 'retry-due';
}

export interface GuardMgrOptions {
  readonly params?: Partial<GuardParams>;
  readonly rng?: RandomSource;
  readonly store?: GuardStore;
}

export class GuardMgr {
  readonly counters = new CounterSet<GuardCounterName>(GUARD_COUNTERS);
  private state: GuardStateFile;
  private params: GuardParams;
  private primaryIds: string[] = [];
  private readonly baseParams: GuardParams;
  private readonly rng: RandomSource;
  private readonly store: GuardStore;

  constructor(state: GuardStateFile = emptyGuardState(), opts: GuardMgrOptions = {}) {
    this.state = state;
    this.baseParams = { ...DEFAULT_GUARD_PARAMS, ...opts.params };
    this.params = this.baseParams;
    this.rng = opts.rng ?? cryptoRandom;
    this.store = opts.store ?? memoryGuardStore();
  }

  /** Load persisted state from `store`. */
  static async load(store: GuardStore, opts: Omit<GuardMgrOptions, 'store'> = {}): Promise<GuardMgr> {
    return new GuardMgr(await store.load(), { ...opts, store });
  }

  /** The sample, in sample order. */
  get sampled(): readonly SampledGuard[] {
    return this.state.sampled;
  }

  /** Confirmed guards in confirmation order. */
  confirmed(): SampledGuard[] {
    return this.state.sampled.filter((g) => g.confirmedAt !== null).sort((a, b) => a.confirmedAt! - b.confirmedAt!);
  }

  get primaries(): readonly string[] {
    return this.primaryIds;
  }

  /**
   * Bring the sample up to date with a new NetDir (guard-spec §4.6-4.7): mark listed/unlisted, drop
   * long-unlisted and expired guards, sample more while under the cap, recompute primaries.
   */
  update(dir: NetDir, now: number): void {
    this.params = guardParamsFrom(dir, this.baseParams);
    let changed = false;
    const keep: SampledGuard[] = [];
    for (const g of this.state.sampled) {
      const listed = usableGuard(dir, g.id) !== undefined;
      if (listed && g.unlistedSince !== null) {
        g.unlistedSince = null;
        changed = true;
      } else if (!listed && g.unlistedSince === null) {
        g.unlistedSince = now;
        changed = true;
      }
      if (g.unlistedSince !== null && now - g.unlistedSince >= this.params.removeUnlistedAfterMs) {
        this.counters.bump('removed-unlisted');
        changed = true;
        continue;
      }
      if (g.confirmedAt === null && now - g.addedAt >= this.params.sampleLifetimeMs) {
        this.counters.bump('removed-expired');
        changed = true;
        continue;
      }
      keep.push(g);
    }
    this.state = { version: 1, sampled: keep };

    const all = guardCandidates(dir);
    const cap = this.sampleCap(all.length);
    const inSample = new Set(keep.map((g) => g.id));
    let listedCount = keep.filter((g) => g.unlistedSince === null).length;
    let candidates = all.filter((r) => !inSample.has(r.rsaIdHex));
    while (this.state.sampled.length < cap && listedCount < cap && candidates.length > 0) {
      const r = pickRelay(dir, candidates, 'guard', this.rng);
      if (!r) break;
      this.state.sampled.push({ id: r.rsaIdHex, nickname: r.nickname, addedAt: now, unlistedSince: null, confirmedAt: null, lastTriedAt: null, failingSince: null });
      this.counters.bump('sampled');
      candidates = candidates.filter((c) => c !== r);
      listedCount++;
      changed = true;
    }
    this.recomputePrimaries(dir);
    if (changed) void this.store.save(this.state);
  }

  /**
   * The guard for a new circuit (guard-spec §4.9): the first reachable primary; else a reachable
   * confirmed guard; else a reachable sampled one. Undefined when none is usable now. `allowed`
   * applies the circuit's restriction (C tor's entry_guard_restriction_t: not the exit or its family).
   */
  pick(dir: NetDir, now: number, allowed: (r: Relay) => boolean = () => true): Relay | undefined {
    const byId = new Map(this.state.sampled.map((g) => [g.id, g]));
    const primaries = this.primaryIds.map((id) => byId.get(id)!).filter(Boolean);
    const rest = [...this.confirmed(), ...this.state.sampled].filter((g) => !this.primaryIds.includes(g.id));
    for (const [list, retry] of [[primaries, this.params.primaryRetryMs], [rest, this.params.otherRetryMs]] as const) {
      for (const g of list) {
        const r = usableGuard(dir, g.id);
        if (r && reachableNow(g, now, retry) && allowed(r)) return r;
      }
    }
    this.counters.bump('no-guard-usable');
    return undefined;
  }

  /** A circuit's first hop through `id` worked: the guard is reachable and becomes confirmed. */
  noteSuccess(id: string, now: number): void {
    const g = this.state.sampled.find((x) => x.id === id);
    if (!g) return;
    this.counters.bump('success');
    const wasFailing = g.failingSince !== null;
    g.failingSince = null;
    g.lastTriedAt = now;
    if (g.confirmedAt === null) {
      // Strictly increasing so the confirmed order is the order of confirmation.
      const last = Math.max(0, ...this.state.sampled.map((x) => x.confirmedAt ?? 0));
      g.confirmedAt = Math.max(now, last + 1);
      this.counters.bump('confirmed');
      void this.store.save(this.state);
    } else if (wasFailing) {
      void this.store.save(this.state);
    }
  }

  /** Connecting to `id` (or creating the first hop) failed. */
  noteFailure(id: string, now: number): void {
    const g = this.state.sampled.find((x) => x.id === id);
    if (!g) return;
    this.counters.bump('failure');
    g.failingSince ??= now;
    g.lastTriedAt = now;
    void this.store.save(this.state);
  }

  /** Rows for `show tor guards`. */
  summary(now: number): GuardSummary[] {
    return this.state.sampled.map((g) => {
      const primary = this.primaryIds.includes(g.id);
      const retry = primary ? this.params.primaryRetryMs : this.params.otherRetryMs;
      const reachable = g.lastTriedAt === null ? 'untried' : g.failingSince === null ? 'yes' : reachableNow(g, now, retry) ? 'retry-due' : 'no';
      return { id: g.id, nickname: g.nickname, primary, confirmed: g.confirmedAt !== null, listed: g.unlistedSince === null, reachable };
    });
  }

  /** Write the state now (e.g. at shutdown). */
  flush(): Promise<void> {
    return this.store.save(this.state);
  }

  private sampleCap(nGuards: number): number {
    const byFraction = Math.floor(nGuards * this.params.maxSampleFraction);
    // Small networks: never fewer than the primaries we need (C tor keeps a minimum sample too).
    return Math.max(Math.min(this.params.maxSampleSize, byFraction), Math.min(nGuards, this.params.nPrimary));
  }

  private recomputePrimaries(dir: NetDir): void {
    const listed = (g: SampledGuard) => usableGuard(dir, g.id) !== undefined;
    const ids: string[] = [];
    for (const g of this.confirmed()) if (ids.length < this.params.nPrimary && listed(g)) ids.push(g.id);
    for (const g of this.state.sampled) {
      if (ids.length >= this.params.nPrimary) break;
      if (g.confirmedAt === null && listed(g)) ids.push(g.id);
    }
    this.primaryIds = ids;
  }
}

function usableGuard(dir: NetDir, id: string): Relay | undefined {
  const r = dir.relayByRsaId(id);
  return r && isUsable(r) && r.flags.has('Guard') ? r : undefined;
}

function reachableNow(g: SampledGuard, now: number, retryMs: number): boolean {
  return g.failingSince === null || g.lastTriedAt === null || now - g.lastTriedAt >= retryMs;
}
