import type { RandomSource } from '../netdir/random.js';

/**
 * When to fetch the next consensus (dir-spec §5.1, C tor update_consensus_networkstatus_fetch_time):
 * a uniformly random moment in [fresh-until + 3/4·(fresh-until − valid-after), that + 7/8 of what is
 * left before valid-until]. Spreads client load and still refreshes before the consensus expires.
 */
export function nextConsensusFetchTime(
  c: { readonly validAfter: number; readonly freshUntil: number; readonly validUntil: number },
  rng: RandomSource,
): number {
  const interval = c.freshUntil - c.validAfter;
  let start = c.freshUntil + Math.floor((interval * 3) / 4);
  if (start >= c.validUntil) start = c.freshUntil;
  const window = Math.max(1, Math.floor(((c.validUntil - start) * 7) / 8));
  return start + Math.floor(rng.next() * window);
}

/** Retry delay after a failed attempt: exponential from 1 s, capped, with jitter (never a tight loop). */
export function retryDelayMs(attempt: number, rng: RandomSource, capMs = 60_000): number {
  const base = Math.min(capMs, 1000 * 2 ** Math.min(attempt, 16));
  return Math.floor(base / 2 + rng.next() * (base / 2));
}
