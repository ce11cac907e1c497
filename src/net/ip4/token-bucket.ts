// A token bucket for rate-limiting generated packets (ICMP errors, RFC 1812 §4.3.2.8). Time passed in.

export class TokenBucket {
  private tokens: number;
  private last: number | undefined;

  constructor(
    /** Tokens added per second. */
    readonly ratePerSec: number,
    /** Most tokens it holds (the burst). */
    readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Takes one token if there is one at `now` (ms). */
  take(now: number): boolean {
    if (this.last !== undefined && now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSec) / 1000);
    }
    if (this.last === undefined || now > this.last) this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
