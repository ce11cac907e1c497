import { randomBytes } from 'node:crypto';

/** Uniform random numbers in [0, 1); injected so that selection is reproducible in tests. */
export interface RandomSource {
  next(): number;
}

/** 53 bits from the OS CSPRNG per draw. */
export const cryptoRandom: RandomSource = {
  next(): number {
    const b = randomBytes(7);
    const hi = (b[0]! & 0x1f) * 2 ** 48;
    return (hi + b.readUIntBE(1, 6)) / 2 ** 53;
  },
};

/**
 * Pick an index with probability proportional to its weight; uniformly if every weight is zero.
 * Returns -1 for an empty list.
 */
export function pickWeighted(weights: readonly number[], rng: RandomSource): number {
  if (weights.length === 0) return -1;
  let total = 0;
  for (const w of weights) total += w > 0 ? w : 0;
  if (total <= 0) return Math.min(weights.length - 1, Math.floor(rng.next() * weights.length));
  let target = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]! > 0 ? weights[i]! : 0;
    if (target < w) return i;
    target -= w;
  }
  // Floating-point rounding can leave target ≥ 0 after the loop: take the last positive weight.
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
  return weights.length - 1;
}
