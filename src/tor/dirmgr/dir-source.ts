import type { RouterStatus } from '../netdoc/consensus.js';
import type { NetDir } from '../netdir/netdir.js';
import { pickWeighted, type RandomSource } from '../netdir/random.js';

/**
 * Which directory server to ask next (dir-spec §5 "Downloading", C tor's directory_pick_generic_dirserver):
 * once a consensus is known, relays with the V2Dir flag serve as directory caches over BEGIN_DIR on
 * their ORPort; our guards come first (C tor's directory guards), then caches weighted by the consensus
 * Wb* bandwidth weights, then the authorities as the fallback. Servers that failed or served a bad
 * document sit in a penalty box for a while. Pure: fed `now` and a random source.
 */

/** A directory cache to open a BEGIN_DIR stream to (the channel manager's target shape plus a name). */
export interface DirCacheTarget {
  readonly name: string;
  readonly nickname: string;
  readonly rsaId: Buffer;
  /** Upper-case hex RSA identity: the cache's key in the penalty box. */
  readonly rsaIdHex: string;
  /** From the relay's microdescriptor when we hold it; the RSA identity alone authenticates otherwise. */
  readonly ed25519Id: Buffer | undefined;
  readonly addr: string;
  readonly port: number;
  /** Selection weight: consensus bandwidth × Wb{d,g,e,m} / scale. */
  readonly weight: number;
}

/** dir-spec §3.8.3: Wbd/Wbg/Wbe/Wbm weight relays for BEGIN_DIR directory requests. */
function dirWeight(rs: RouterStatus, dir: NetDir): number {
  const exit = rs.flags.has('Exit') && !rs.flags.has('BadExit');
  const guard = rs.flags.has('Guard');
  const cls = exit && guard ? 'd' : guard ? 'g' : exit ? 'e' : 'm';
  const w = dir.weights.w.get(`Wb${cls}`) ?? dir.weights.scale;
  return w <= 0 ? 0 : (rs.bandwidth * w) / dir.weights.scale;
}

/**
 * Relays of `dir` that cache the directory: Running, Valid, V2Dir, with an ORPort, and not one of
 * `excludeIds` (the authorities: they are the fallback, not caches). Works from the consensus alone, so
 * microdescriptors can come from caches before we hold theirs.
 */
export function dirCacheCandidates(dir: NetDir, excludeIds: ReadonlySet<string>): DirCacheTarget[] {
  const out: DirCacheTarget[] = [];
  for (const rs of dir.consensus.relays) {
    if (!rs.flags.has('V2Dir') || !rs.flags.has('Running') || !rs.flags.has('Valid') || rs.orPort <= 0) continue;
    const hex = rs.rsaIdentity.toString('hex').toUpperCase();
    if (excludeIds.has(hex)) continue;
    out.push({
      name: rs.nickname,
      nickname: rs.nickname,
      rsaId: rs.rsaIdentity,
      rsaIdHex: hex,
      ed25519Id: dir.relayByRsaId(hex)?.ed25519Id,
      addr: rs.ip,
      port: rs.orPort,
      weight: dirWeight(rs, dir),
    });
  }
  return out;
}

/** A server that failed is skipped for 1 min, doubling per consecutive failure up to 30 min. */
export const DIR_FAILURE_PENALTY_MS = 60_000;
export const DIR_FAILURE_PENALTY_MAX_MS = 30 * 60_000;
/** A server that served a document failing validation is skipped for an hour (C tor's DIR_503_TIMEOUT scale). */
export const DIR_REJECT_PENALTY_MS = 60 * 60_000;

interface Penalty {
  until: number;
  failures: number;
}

/** Per-server penalty box keyed by a server id (a cache's RSA hex, an authority's name). Bounded. */
export class DirSourcePenalties {
  private readonly entries = new Map<string, Penalty>();
  private readonly maxEntries: number;

  constructor(maxEntries = 4096) {
    this.maxEntries = maxEntries;
  }

  /** No usable answer: skip for a while, longer after each consecutive failure. Returns the end of the penalty. */
  failed(id: string, now: number): number {
    const old = this.entries.get(id);
    const failures = (old?.failures ?? 0) + 1;
    // Never shortens a longer penalty (a server that lied stays out for its full hour).
    const until = Math.max(old?.until ?? 0, now + Math.min(DIR_FAILURE_PENALTY_MAX_MS, DIR_FAILURE_PENALTY_MS * 2 ** Math.min(failures - 1, 16)));
    this.set(id, { until, failures }, now);
    return until;
  }

  /** A document that failed validation: skip for an hour. */
  rejected(id: string, now: number): number {
    const old = this.entries.get(id);
    const until = Math.max(old?.until ?? 0, now + DIR_REJECT_PENALTY_MS);
    this.set(id, { until, failures: (old?.failures ?? 0) + 1 }, now);
    return until;
  }

  succeeded(id: string): void {
    this.entries.delete(id);
  }

  usable(id: string, now: number): boolean {
    const p = this.entries.get(id);
    return p === undefined || p.until <= now;
  }

  /** When the penalty of `id` ends, if it has one. */
  until(id: string): number | undefined {
    return this.entries.get(id)?.until;
  }

  get size(): number {
    return this.entries.size;
  }

  private set(id: string, p: Penalty, now: number): void {
    this.entries.delete(id);
    this.entries.set(id, p);
    if (this.entries.size <= this.maxEntries) return;
    // Over the bound: first forget penalties that are over (their failure streak is only a nicety),
    // then the oldest entries.
    for (const [k, v] of this.entries) if (v.until <= now && this.entries.size > this.maxEntries) this.entries.delete(k);
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(k);
    }
  }
}

export type PlannedSource =
  | { readonly kind: 'cache'; readonly id: string; readonly cache: DirCacheTarget }
  | { readonly kind: 'authority'; readonly id: string; readonly index: number };

export interface DirSourcePlanInput {
  /** Cache candidates; empty when caches may not be used (no live consensus yet). */
  readonly caches: readonly DirCacheTarget[];
  /** RSA ids (hex) of our guards, tried first when they are caches. */
  readonly preferred: readonly string[];
  /** Penalty-box ids of the authorities (or fallbacks), in configuration order. */
  readonly authorities: readonly string[];
  readonly penalties: DirSourcePenalties;
  readonly now: number;
  readonly rng: RandomSource;
  /** Distinct caches to try before the authorities. */
  readonly maxCaches: number;
}

/**
 * The order in which to try servers for one request: up to `maxCaches` caches out of the penalty box
 * (guards first, in random order, then bandwidth-weighted without replacement), then every authority —
 * those out of the penalty box in random order, then the penalized ones, soonest-free first, so a
 * bootstrap is never left without a server to ask.
 */
export function planDirSources(input: DirSourcePlanInput): PlannedSource[] {
  const { penalties, now, rng } = input;
  const out: PlannedSource[] = [];
  const usable = input.caches.filter((c) => penalties.usable(c.rsaIdHex, now));
  const preferredIds = new Set(input.preferred.map((id) => id.toUpperCase()));
  const guards = shuffle(
    usable.filter((c) => preferredIds.has(c.rsaIdHex)),
    rng,
  );
  for (const c of guards) {
    if (out.length >= input.maxCaches) break;
    out.push({ kind: 'cache', id: c.rsaIdHex, cache: c });
  }
  const rest = usable.filter((c) => !preferredIds.has(c.rsaIdHex));
  while (out.length < input.maxCaches && rest.length > 0) {
    const i = pickWeighted(
      rest.map((c) => c.weight),
      rng,
    );
    const [c] = rest.splice(i, 1);
    out.push({ kind: 'cache', id: c!.rsaIdHex, cache: c! });
  }
  const auths = input.authorities.map((id, index) => ({ id, index }));
  const free = shuffle(
    auths.filter((a) => penalties.usable(a.id, now)),
    rng,
  );
  const boxed = auths.filter((a) => !penalties.usable(a.id, now)).sort((a, b) => penalties.until(a.id)! - penalties.until(b.id)!);
  for (const a of [...free, ...boxed]) out.push({ kind: 'authority', id: a.id, index: a.index });
  return out;
}

function shuffle<T>(items: T[], rng: RandomSource): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
