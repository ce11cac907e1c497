// Fault injection for one direction of one interface (the kernel here has no netem): drop,
// duplicate, reorder, corrupt and delay with a seeded RNG. Pure state over buffer indices and `now`;
// the fault nodes apply its decisions. Held packets live in bounded FIFOs.

import { SeededRandom } from './seeded-random.js';

export interface FaultConfig {
  readonly dropPct: number;
  readonly duplicatePct: number;
  readonly reorderPct: number;
  readonly corruptPct: number;
  readonly delayMs: number;
  readonly seed: number;
}

export const NO_FAULTS: FaultConfig = { dropPct: 0, duplicatePct: 0, reorderPct: 0, corruptPct: 0, delayMs: 0, seed: 1 };

/** A reordered packet is held this much longer than the others, so later packets overtake it. */
export const REORDER_HOLD_MS = 5;
/** Packets held per queue (delay, reorder); more are dropped and counted. */
export const FAULT_QUEUE_CAPACITY = 4096;

export interface FaultStats {
  seen: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  delayed: number;
  queueFull: number;
}

/** What to do with one packet. */
export const FaultVerdict = {
  /** Forward now. */
  PASS: 0,
  DROP: 1,
  /** Held in a queue: `release` hands it back later. */
  HELD: 2,
  /** A queue was full: drop and count. */
  QUEUE_FULL: 3,
} as const;
export type FaultVerdictValue = (typeof FaultVerdict)[keyof typeof FaultVerdict];

class TimedFifo {
  private readonly buffers: Uint32Array;
  private readonly times: Float64Array;
  private head = 0;
  count = 0;

  constructor(readonly capacity: number) {
    this.buffers = new Uint32Array(capacity);
    this.times = new Float64Array(capacity);
  }

  push(bi: number, releaseAt: number): boolean {
    if (this.count === this.capacity) return false;
    const i = (this.head + this.count) % this.capacity;
    this.buffers[i] = bi;
    this.times[i] = releaseAt;
    this.count++;
    return true;
  }

  peekTime(): number | undefined {
    return this.count ? this.times[this.head] : undefined;
  }

  shift(): number {
    const bi = this.buffers[this.head]!;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return bi;
  }
}

export class FaultInjector {
  readonly config: FaultConfig;
  private readonly rng: SeededRandom;
  private readonly delayed: TimedFifo;
  private readonly reorder: TimedFifo;
  readonly stats: FaultStats = { seen: 0, dropped: 0, duplicated: 0, reordered: 0, corrupted: 0, delayed: 0, queueFull: 0 };

  constructor(config: FaultConfig, queueCapacity = FAULT_QUEUE_CAPACITY) {
    this.config = config;
    this.rng = new SeededRandom(config.seed);
    this.delayed = new TimedFifo(queueCapacity);
    this.reorder = new TimedFifo(queueCapacity);
  }

  get held(): number {
    return this.delayed.count + this.reorder.count;
  }

  /** Whether to drop the packet (decided first, before any other fault). */
  shouldDrop(): boolean {
    this.stats.seen++;
    if (!this.rng.chance(this.config.dropPct)) return false;
    this.stats.dropped++;
    return true;
  }

  shouldDuplicate(): boolean {
    if (!this.rng.chance(this.config.duplicatePct)) return false;
    this.stats.duplicated++;
    return true;
  }

  /**
   * Where to flip a bit in a packet of `length` bytes, skipping the first `skip` bytes
   * (the Ethernet header, so the frame still reaches the protocol); -1 for no corruption.
   */
  corruptBit(length: number, skip: number): number {
    if (length <= skip || !this.rng.chance(this.config.corruptPct)) return -1;
    this.stats.corrupted++;
    return (skip + this.rng.below(length - skip)) * 8 + this.rng.below(8);
  }

  /** Delay/reorder decision for a packet that survived the drop. */
  schedule(bi: number, now: number): FaultVerdictValue {
    const reorder = this.rng.chance(this.config.reorderPct);
    if (!reorder && this.config.delayMs <= 0) return FaultVerdict.PASS;
    const queue = reorder ? this.reorder : this.delayed;
    const at = now + this.config.delayMs + (reorder ? REORDER_HOLD_MS : 0);
    if (!queue.push(bi, at)) {
      this.stats.queueFull++;
      return FaultVerdict.QUEUE_FULL;
    }
    if (reorder) this.stats.reordered++;
    else this.stats.delayed++;
    return FaultVerdict.HELD;
  }

  /** Moves packets due at `now` into `out` (up to its free room from `n`); returns the new count. */
  release(now: number, out: Uint32Array, n: number): number {
    for (const q of [this.delayed, this.reorder]) {
      while (n < out.length && q.count > 0 && q.peekTime()! <= now) out[n++] = q.shift();
    }
    return n;
  }

  /** Earliest time a held packet is due; undefined when nothing is held. */
  nextDue(): number | undefined {
    const a = this.delayed.peekTime();
    const b = this.reorder.peekTime();
    if (a === undefined) return b;
    if (b === undefined) return a;
    return Math.min(a, b);
  }

  /** Takes every held packet (interface deleted or faults cleared). */
  drain(out: number[]): void {
    for (const q of [this.delayed, this.reorder]) while (q.count > 0) out.push(q.shift());
  }
}
