/** Retransmission timer computation per RFC 6298 (all values in milliseconds). */
export class RttEstimator {
  srtt = 0;
  rttvar = 0;
  /** Current RTO including exponential backoff. */
  rto: number;
  private hasSample = false;

  constructor(private readonly initialRto: number, private readonly minRto: number, private readonly maxRto: number) {
    this.rto = initialRto;
  }

  /** Feed one RTT measurement (§2.2, §2.3); resets any backoff. */
  sample(r: number): void {
    if (r < 0) return;
    if (!this.hasSample) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.hasSample = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    // G (clock granularity) is 1 ms.
    this.rto = Math.min(this.maxRto, Math.max(this.minRto, this.srtt + Math.max(1, 4 * this.rttvar)));
  }

  /** Double the RTO after a timeout (§5.5), bounded by the maximum. */
  backoff(): void {
    this.rto = Math.min(this.maxRto, this.rto * 2);
  }

  /** RFC 6298 §5.7: a SYN was retransmitted and no sample exists — data transfer starts with RTO = 3 s. */
  afterSynLoss(): void {
    if (!this.hasSample) this.rto = Math.min(this.maxRto, Math.max(this.rto, 3000, this.minRto));
    else this.rto = Math.min(this.maxRto, Math.max(this.minRto, this.srtt + Math.max(1, 4 * this.rttvar)));
  }

  get measured(): boolean { return this.hasSample; }
  /** Smoothed RTT, or the initial RTO before any sample (for CUBIC's RTT term). */
  get smoothed(): number { return this.hasSample ? this.srtt : this.initialRto; }
}
