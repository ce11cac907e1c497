import type { MdConsensus, RouterStatus } from '../netdoc/consensus.js';
import type { Microdesc } from '../netdoc/microdesc.js';
import { isUsable, relayFromParts, type Relay } from './relay.js';
import { bandwidthWeightsFrom, relayWeight, type BandwidthWeights, type WeightRole } from './weights.js';

export interface NetDirOptions {
  /**
   * Test-network mode (C tor's TestingTorNetwork): relays on one /16, e.g. all on 127.0.0.1, may share
   * a circuit.
   */
  readonly testNetwork?: boolean;
  /** Fraction of weighted paths needed before building circuits; overrides consensus `min_paths_for_circs_pct`. */
  readonly pathsNeededToBuildCircuits?: number;
}

/** Default for PathsNeededToBuildCircuits when neither option nor consensus parameter is set. */
export const DEFAULT_MIN_PATHS_FRACTION = 0.6;

/**
 * A consensus and the microdescriptors it references. Relays are usable for paths once their
 * microdescriptor is present; `missingMicrodescs()` says what to fetch next.
 */
/** One position of a path (C tor compute_frac_paths_available). */
export interface PathPosition {
  readonly role: WeightRole;
  /** Running, Valid relays the consensus offers for this position. */
  readonly candidates: number;
  readonly withMicrodesc: number;
  /** Weighted share of candidates with microdescriptors (0 when there are none). */
  readonly fraction: number;
}

export class NetDir {
  readonly consensus: MdConsensus;
  readonly enforceDistinctSubnets: boolean;
  readonly weights: BandwidthWeights;
  private readonly opts: NetDirOptions;
  private readonly mdByDigest = new Map<string, Microdesc>();
  private readonly relayById = new Map<string, Relay>();
  private readonly statusByDigest = new Map<string, RouterStatus[]>();
  /** relays() in consensus order; rebuilt only after microdescriptors arrive. */
  private relayList: readonly Relay[] | undefined;

  constructor(consensus: MdConsensus, microdescs: Iterable<Microdesc> = [], opts: NetDirOptions = {}) {
    this.consensus = consensus;
    this.opts = opts;
    this.enforceDistinctSubnets = opts.testNetwork !== true;
    this.weights = bandwidthWeightsFrom(consensus.bandwidthWeights, consensus.params);
    for (const rs of consensus.relays) {
      const key = rs.microdescDigest.toString('base64');
      const list = this.statusByDigest.get(key);
      if (list) list.push(rs);
      else this.statusByDigest.set(key, [rs]);
    }
    this.addMicrodescs(microdescs);
  }

  /** Attach microdescriptors the consensus references; returns how many were new. Others are ignored. */
  addMicrodescs(mds: Iterable<Microdesc>): number {
    let added = 0;
    for (const md of mds) {
      const key = md.digest.toString('base64');
      const statuses = this.statusByDigest.get(key);
      if (statuses === undefined || this.mdByDigest.has(key)) continue;
      this.mdByDigest.set(key, md);
      for (const rs of statuses) {
        const relay = relayFromParts(rs, md);
        this.relayById.set(relay.rsaIdHex, relay);
      }
      added++;
    }
    if (added > 0) this.relayList = undefined;
    return added;
  }

  /** Digests of referenced microdescriptors not yet present. */
  missingMicrodescs(): Buffer[] {
    const out: Buffer[] = [];
    for (const [key, statuses] of this.statusByDigest) if (!this.mdByDigest.has(key)) out.push(statuses[0]!.microdescDigest);
    return out;
  }

  /** Microdescriptors present (for caching). */
  microdescs(): Microdesc[] {
    return [...this.mdByDigest.values()];
  }

  /** Relays with a microdescriptor, in consensus order. */
  relays(): readonly Relay[] {
    if (this.relayList === undefined) {
      const out: Relay[] = [];
      for (const rs of this.consensus.relays) {
        const r = this.relayById.get(rs.rsaIdentity.toString('hex').toUpperCase());
        if (r !== undefined) out.push(r);
      }
      this.relayList = out;
    }
    return this.relayList;
  }

  relayByRsaId(hex: string): Relay | undefined {
    return this.relayById.get(hex.toUpperCase());
  }

  /** A consensus parameter, clamped to [min, max], else the default. */
  param(name: string, dflt: number, min = -(2 ** 31), max = 2 ** 31 - 1): number {
    const v = this.consensus.params.get(name);
    return v === undefined || v < min || v > max ? dflt : v;
  }

  weightFor(r: Pick<Relay, 'flags' | 'bandwidth'>, role: WeightRole): number {
    return relayWeight(r, role, this.weights);
  }

  /** Per position: usable candidates in the consensus, how many have microdescriptors, and the weighted fraction. */
  pathPositions(): PathPosition[] {
    const position = (role: WeightRole, candidate: (rs: RouterStatus) => boolean): PathPosition => {
      let total = 0;
      let present = 0;
      let candidates = 0;
      let withMicrodesc = 0;
      for (const rs of this.consensus.relays) {
        if (!isUsable(rs) || !candidate(rs)) continue;
        const w = this.weightFor(rs, role);
        total += w;
        candidates++;
        if (this.mdByDigest.has(rs.microdescDigest.toString('base64'))) {
          present += w;
          withMicrodesc++;
        }
      }
      // With all-zero weights fall back to counting relays, as C tor does.
      const fraction = candidates === 0 ? 0 : total > 0 ? present / total : withMicrodesc / candidates;
      return { role, candidates, withMicrodesc, fraction };
    };
    return [
      position('guard', (rs) => rs.flags.has('Guard')),
      position('middle', () => true),
      position('exit', (rs) => rs.flags.has('Exit') && !rs.flags.has('BadExit')),
    ];
  }

  /**
   * Fraction of weighted paths we could build (C tor compute_frac_paths_available): the product over
   * guard, middle and exit positions of (weight of relays with microdescs) / (weight of all candidates).
   */
  fractionOfPathsAvailable(): number {
    return this.pathPositions().reduce((f, p) => f * p.fraction, 1);
  }

  /** Why paths are short, for bootstrap status: e.g. "only 0% of paths available (guards 0/0, middles 7/7, exits 2/2 with microdescriptors)". */
  describePaths(): string {
    const parts = this.pathPositions().map((p) => `${p.role}s ${p.withMicrodesc}/${p.candidates}`);
    return `only ${(this.fractionOfPathsAvailable() * 100).toFixed(0)}% of paths available (${parts.join(', ')} usable relays with microdescriptors)`;
  }

  /** The required fraction: option, else consensus `min_paths_for_circs_pct`, else 60%. */
  minPathsFraction(): number {
    if (this.opts.pathsNeededToBuildCircuits !== undefined) return this.opts.pathsNeededToBuildCircuits;
    return this.param('min_paths_for_circs_pct', DEFAULT_MIN_PATHS_FRACTION * 100, 25, 95) / 100;
  }

  /** Enough microdescriptors to start building circuits? */
  haveEnoughPaths(): boolean {
    return this.fractionOfPathsAvailable() >= this.minPathsFraction();
  }
}
