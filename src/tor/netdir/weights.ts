import type { Relay } from './relay.js';

/** Position a relay is weighted for (dir-spec §3.8.3). */
export type WeightRole = 'guard' | 'middle' | 'exit';

export interface BandwidthWeights {
  readonly scale: number;
  readonly w: ReadonlyMap<string, number>;
}

export const DEFAULT_BW_WEIGHT_SCALE = 10000;

/** The consensus `bandwidth-weights` with `bwweightscale` from params; absent weights default to the scale. */
export function bandwidthWeightsFrom(weights: ReadonlyMap<string, number>, params: ReadonlyMap<string, number>): BandwidthWeights {
  const scale = params.get('bwweightscale') ?? DEFAULT_BW_WEIGHT_SCALE;
  return { scale: scale > 0 ? scale : DEFAULT_BW_WEIGHT_SCALE, w: weights };
}

/**
 * Which Wxy applies: the relay's class is D (Guard+Exit), G (Guard), E (Exit, not BadExit) or M;
 * the role selects the row (guard: Wg*, middle: Wm*, exit: We*). A guard never weights an exit-only relay.
 */
export function weightKey(r: Pick<Relay, 'flags'>, role: WeightRole): string | undefined {
  const exit = r.flags.has('Exit') && !r.flags.has('BadExit');
  const guard = r.flags.has('Guard');
  const cls = exit && guard ? 'd' : guard ? 'g' : exit ? 'e' : 'm';
  if (role === 'guard') return cls === 'e' ? undefined : `Wg${cls}`;
  if (role === 'middle') return `Wm${cls}`;
  return `We${cls}`;
}

/** bandwidth × W / scale, as C tor's compute_weighted_bandwidths does for one relay. */
export function relayWeight(r: Pick<Relay, 'flags' | 'bandwidth'>, role: WeightRole, bw: BandwidthWeights): number {
  const key = weightKey(r, role);
  if (key === undefined) return 0;
  const w = bw.w.get(key) ?? bw.scale;
  return w <= 0 ? 0 : (r.bandwidth * w) / bw.scale;
}
