import { slowStartIncrease, type CongestionControl } from './congestion.js';

/** Reno window management (RFC 5681 §3.1) used with NewReno recovery (RFC 6582). */
export class NewRenoCc implements CongestionControl {
  readonly algo = 'newreno' as const;
  cwnd: number;
  ssthresh = 0x7fffffff;
  private mss: number;
  /** Bytes acknowledged in congestion avoidance since the last one-segment increase. */
  private caAcked = 0;

  constructor(mss: number, initialCwndSegments: number) {
    this.mss = mss;
    this.cwnd = initialCwndSegments * mss;
  }

  setMss(mss: number): void {
    const segs = Math.max(1, Math.round(this.cwnd / this.mss));
    this.mss = mss;
    this.cwnd = segs * mss;
  }

  onAck(acked: number): void {
    if (this.cwnd < this.ssthresh) {
      this.cwnd = slowStartIncrease(this.cwnd, acked, this.mss);
      return;
    }
    // Byte counting in congestion avoidance: one MSS per cwnd of acknowledged data.
    this.caAcked += acked;
    if (this.caAcked >= this.cwnd) {
      this.caAcked -= this.cwnd;
      this.cwnd += this.mss;
    }
  }

  onCongestion(flight: number, _now = 0): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
    this.caAcked = 0;
  }

  onRto(flight: number, _now = 0): void {
    this.ssthresh = Math.max(Math.floor(flight / 2), 2 * this.mss);
    this.cwnd = this.mss;
    this.caAcked = 0;
  }

  onRecoveryExit(flight: number): void {
    // RFC 6582 §3.2 step 6, option 1: min(ssthresh, FlightSize + SMSS).
    this.cwnd = Math.max(this.mss, Math.min(this.ssthresh, flight + this.mss));
  }
}
