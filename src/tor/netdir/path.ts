import { policyAllowsAnyPort, policyAllowsPort } from '../netdoc/portpolicy.js';
import { mayShareCircuit } from './family.js';
import type { NetDir } from './netdir.js';
import { pickWeighted, type RandomSource } from './random.js';
import { isUsable, type Relay } from './relay.js';
import type { WeightRole } from './weights.js';

export interface ThreeHopPath {
  readonly guard: Relay;
  readonly middle: Relay;
  readonly exit: Relay;
}

export type PathError = 'no-exit' | 'no-guard' | 'no-middle';

export type PathResult = { readonly ok: true; readonly path: ThreeHopPath } | { readonly ok: false; readonly error: PathError };

/** Weighted choice among `candidates` for `role`; undefined when there are none. */
export function pickRelay(dir: NetDir, candidates: readonly Relay[], role: WeightRole, rng: RandomSource): Relay | undefined {
  const i = pickWeighted(candidates.map((r) => dir.weightFor(r, role)), rng);
  return i < 0 ? undefined : candidates[i];
}

function compatible(dir: NetDir, r: Relay, others: readonly Relay[]): boolean {
  return others.every((o) => mayShareCircuit(r, o, dir.enforceDistinctSubnets));
}

/**
 * An exit whose microdescriptor `p` summary allows `port` (or any port when undefined). The Exit flag
 * only affects weighting: test networks give it to every relay, so policy decides.
 */
export function exitCandidates(dir: NetDir, port: number | undefined, avoid: readonly Relay[] = []): Relay[] {
  return dir
    .relays()
    .filter(
      (r) =>
        isUsable(r) &&
        !r.flags.has('BadExit') &&
        (port === undefined ? policyAllowsAnyPort(r.ipv4Policy) : policyAllowsPort(r.ipv4Policy, port)) &&
        compatible(dir, r, avoid),
    );
}

export function guardCandidates(dir: NetDir, avoid: readonly Relay[] = []): Relay[] {
  return dir.relays().filter((r) => isUsable(r) && r.flags.has('Guard') && compatible(dir, r, avoid));
}

export function middleCandidates(dir: NetDir, avoid: readonly Relay[] = []): Relay[] {
  return dir.relays().filter((r) => isUsable(r) && compatible(dir, r, avoid));
}

export interface PathOptions {
  /** Target port the exit must accept; undefined for any port. */
  readonly port?: number;
  /** Use this guard (e.g. from a guard manager) instead of choosing one. */
  readonly guard?: Relay;
}

/**
 * Choose exit, then guard, then middle (path-spec order): weighted by bandwidth × Wxx, never one relay
 * twice, never two of one family, and no two in one /16 unless the NetDir is in test-network mode.
 */
export function selectPath(dir: NetDir, rng: RandomSource, opts: PathOptions = {}): PathResult {
  const pinned = opts.guard !== undefined ? [opts.guard] : [];
  const exit = pickRelay(dir, exitCandidates(dir, opts.port, pinned), 'exit', rng);
  if (exit === undefined) return { ok: false, error: 'no-exit' };
  const guard = opts.guard ?? pickRelay(dir, guardCandidates(dir, [exit]), 'guard', rng);
  if (guard === undefined) return { ok: false, error: 'no-guard' };
  const middle = pickRelay(dir, middleCandidates(dir, [exit, guard]), 'middle', rng);
  if (middle === undefined) return { ok: false, error: 'no-middle' };
  return { ok: true, path: { guard, middle, exit } };
}
