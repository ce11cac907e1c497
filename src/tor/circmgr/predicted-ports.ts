// The exit ports streams asked for lately (C tor's predict_ports.c): clean circuits are kept ready for
// them, and for none once the client has been idle for the prediction timeout. A pure state machine:
// the caller passes the time.
import type { RandomSource } from '../netdir/index.js';

/** Ports remembered at most; the least recently used goes first (bounded, unlike C tor's list). */
export const MAX_PREDICTED_PORTS = 32;

/** C tor's nf_conntimeout_clients default (seconds): predictions last this plus a random share of it. */
export const DEFAULT_PREDICTION_BASE_S = 30 * 60;

export class PredictedPorts {
  /** port → when it was last asked for (ms), in least-recently-used order. */
  private readonly lastUsed = new Map<number, number>();
  private timeoutMs = 0;
  /** When any port was last noted (C tor's last_prediction_add_time). */
  private lastNotedAt: number;

  /**
   * `seed`: ports predicted from the start, as if asked for at `now` (C tor seeds 443), for a timeout
   * drawn from the default base: there is no consensus yet. `baseSeconds()`: the consensus's
   * nf_conntimeout_clients, read when a later timeout is drawn.
   */
  constructor(
    seed: readonly number[],
    now: number,
    private readonly rng: RandomSource,
    private readonly baseSeconds: () => number = () => DEFAULT_PREDICTION_BASE_S,
  ) {
    this.timeoutMs = this.draw(DEFAULT_PREDICTION_BASE_S);
    this.lastNotedAt = now;
    for (const p of seed) if (isPort(p)) this.touch(p, now);
  }

  /**
   * A stream asked for `port` at `now`. An empty list draws a new timeout first: base + a random
   * part of base (C tor's channelpadding_get_circuits_available_timeout: 30–60 min by default).
   */
  noteUsed(port: number, now: number): void {
    if (!isPort(port)) return;
    this.expire(now);
    if (this.lastUsed.size === 0) this.timeoutMs = this.draw(this.baseSeconds());
    this.touch(port, now);
    this.lastNotedAt = now;
  }

  /** Make `port` the most recently used, forgetting the least recently used one past the bound. */
  private touch(port: number, now: number): void {
    this.lastUsed.delete(port);
    this.lastUsed.set(port, now);
    if (this.lastUsed.size > MAX_PREDICTED_PORTS) this.lastUsed.delete(this.lastUsed.keys().next().value!);
  }

  /** The ports still predicted at `now`, most recently used last; expired ones are forgotten. */
  ports(now: number): number[] {
    this.expire(now);
    return [...this.lastUsed.keys()];
  }

  /** Stop predicting `port` (no exit in the consensus allows it: C tor's rep_hist_remove_predicted_ports). */
  remove(port: number): void {
    this.lastUsed.delete(port);
  }

  /**
   * How much longer predictive building goes on if nothing more is asked for (C tor's
   * predicted_ports_prediction_time_remaining); 0 once idle.
   */
  remainingMs(now: number): number {
    return Math.max(0, this.timeoutMs - (now - this.lastNotedAt));
  }

  /** How long a prediction lasts (ms), as last drawn. */
  get predictionTimeoutMs(): number {
    return this.timeoutMs;
  }

  private draw(baseSeconds: number): number {
    const base = baseSeconds * 1000;
    return base + Math.floor(this.rng.next() * base);
  }

  private expire(now: number): void {
    for (const [port, at] of this.lastUsed) if (at + this.timeoutMs < now) this.lastUsed.delete(port);
  }
}

function isPort(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}
