import type { Relay } from './relay.js';

/** Position a relay is weighted for (dir-spec §3.8.3). */
export type WeightRole = 'guard' | 'middle' | 'exit';

export interface BandwidthWeights {
  readonly scale: number;
  readonly w: ReadonlyMap<string, number>;
  /** W/scale by role then class (d, g, e, m), resolved once: selection runs per circuit over every relay. */
  readonly factor: Readonly<Record<WeightRole, readonly [number, number, number, number]>>;
}

const CLASSES = ['d', 'g', 'e', 'm'] as const;
const ROW: Record<WeightRole, string> = { guard: 'Wg', middle: 'Wm', exit: 'We' };

/** 0 = D (Guard+Exit), 1 = G, 2 = E (Exit, not BadExit), 3 = M. */
function relayClass(flags: ReadonlySet<string>): number {
  const exit = flags.has('Exit') && !flags.has('BadExit');
  const guard = flags.has('Guard');
  return exit && guard ? 0 : guard ? 1 : exit ? 2 : 3;
}

export const DEFAULT_BW_WEIGHT_SCALE = 10000;

/** The consensus `bandwidth-weights` with `bwweightscale` from params; absent weights default to the scale. */
export function bandwidthWeightsFrom(weights: ReadonlyMap<string, number>, params: ReadonlyMap<string, number>): BandwidthWeights {
  const p = params.get('bwweightscale') ?? DEFAULT_BW_WEIGHT_SCALE;
  const scale = p > 0 ? p : DEFAULT_BW_WEIGHT_SCALE;
  const row = (role: WeightRole) =>
    CLASSES.map((cls) => {
      // A guard position never weights an exit-only relay.
      if (role === 'guard' && cls === 'e') return 0;
      const w = weights.get(`${ROW[role]}${cls}`) ?? scale;
      return w <= 0 ? 0 : w / scale;
    }) as unknown as readonly [number, number, number, number];
  return { scale, w: weights, factor: { guard: row('guard'), middle: row('middle'), exit: row('exit') } };
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
  return r.bandwidth * bw.factor[role][relayClass(r.flags)]!;
}
