import { slowStartIncrease, type CongestionControl } from './congestion.js';

/** RFC 9438 constants. */
export const CUBIC_C = 0.4;
export const CUBIC_BETA = 0.7;
/** α_cubic = 3(1 − β)/(1 + β) (§4.3) makes the Reno-friendly estimate match Reno's average rate. */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/**
 * CUBIC congestion control (RFC 9438). Internally windows are tracked in segments as the RFC does;
 * `cwnd`/`ssthresh` are exposed in bytes.
 */
export class CubicCc implements CongestionControl {
  readonly algo = 'cubic' as const;
  cwnd: number;
  ssthresh = 0x7fffffff;
  private mss: number;
  /** W_max: window (segments) just before the last reduction. */
  wMax = 0;
  /** Window (segments) at the previous reduction, for fast convergence (§4.7). */
  private wLastMax = 0;
  /** K in seconds (§4.2). */
  k = 0;
  /** Start of the current congestion-avoidance epoch (ms), or -1. */
  epochStart = -1;
  /** W_est: Reno-friendly estimate in segments (§4.3). */
  wEst = 0;
  /** cwnd (segments) when ssthresh was last set, to switch α to 1 (§4.3). */
  private cwndPrior = 0;

  constructor(mss: number, initialCwndSegments: number) {
    this.mss = mss;
    this.cwnd = initialCwndSegments * mss;
  }

  setMss(mss: number): void {
    const segs = Math.max(1, Math.round(this.cwnd / this.mss));
    this.mss = mss;
    this.cwnd = segs * mss;
  }

  /** W_cubic(t) in segments, t in seconds (§4.2 eq. 1). */
  wCubic(t: number): number {
    const d = t - this.k;
    return CUBIC_C * d * d * d + this.wMax;
  }

  onAck(acked: number, now: number, srttMs: number): void {
    if (this.cwnd < this.ssthresh) {
      this.cwnd = slowStartIncrease(this.cwnd, acked, this.mss);
      return;
    }
    const cwndSeg = this.cwnd / this.mss;
    if (this.epochStart < 0) {
      this.epochStart = now;
      if (this.wMax <= cwndSeg) {
        // No reduction to recover from (e.g. leaving slow start): the plateau starts here.
        this.wMax = cwndSeg;
        this.k = 0;
      } else {
        this.k = Math.cbrt((this.wMax - cwndSeg) / CUBIC_C);
      }
      this.wEst = cwndSeg;
    }
    const t = (now - this.epochStart) / 1000;
    const ackedSeg = acked / this.mss;
    // §4.3: Reno-friendly region estimate.
    const alpha = this.wEst >= this.cwndPrior ? 1 : CUBIC_ALPHA;
    this.wEst += (alpha * ackedSeg) / cwndSeg;
    const wc = this.wCubic(t);
    if (wc < this.wEst) {
      this.cwnd = this.wEst * this.mss;
      return;
    }
    // §4.4/4.5: aim for W_cubic one RTT ahead, bounded to [cwnd, 1.5 cwnd].
    let target = this.wCubic(t + srttMs / 1000);
    if (target < cwndSeg) target = cwndSeg;
    if (target > 1.5 * cwndSeg) target = 1.5 * cwndSeg;
    this.cwnd += ((target - cwndSeg) / cwndSeg) * acked;
  }

  private reduce(flight: number): void {
    const cwndSeg = this.cwnd / this.mss;
    // §4.7 fast convergence: release bandwidth when the plateau keeps dropping.
    if (cwndSeg < this.wLastMax) {
      this.wLastMax = cwndSeg;
      this.wMax = (cwndSeg * (1 + CUBIC_BETA)) / 2;
    } else {
      this.wLastMax = cwndSeg;
      this.wMax = cwndSeg;
    }
    void flight;
    this.cwndPrior = cwndSeg;
    // §4.6: ssthresh = cwnd · β_cubic, at least 2 segments.
    this.ssthresh = Math.max(Math.floor(this.cwnd * CUBIC_BETA), 2 * this.mss);
    this.epochStart = -1;
  }

  onCongestion(flight: number, _now = 0): void {
    this.reduce(flight);
  }

  onRto(flight: number, _now = 0): void {
    this.reduce(flight);
    this.cwnd = this.mss;
  }

  onRecoveryExit(): void {
    this.cwnd = this.ssthresh;
  }
}
