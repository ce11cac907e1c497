/**
 * Congestion-control interface shared by NewReno (RFC 5681/6582) and CUBIC (RFC 9438).
 * Windows are in bytes; `mss` is the sender's segment size. Loss *recovery* (which segments to resend,
 * NewReno inflation, SACK pipe) lives in the connection; a controller only decides window sizes.
 */
export interface CongestionControl {
  readonly algo: 'newreno' | 'cubic';
  cwnd: number;
  ssthresh: number;
  /** New data was cumulatively acknowledged outside loss recovery. */
  onAck(ackedBytes: number, now: number, srttMs: number): void;
  /** Loss detected by duplicate ACKs / SACK: set ssthresh (the connection then sets cwnd for recovery). */
  onCongestion(flightBytes: number, now: number): void;
  /** Retransmission timeout: set ssthresh and collapse cwnd to one segment. */
  onRto(flightBytes: number, now: number): void;
  /** Loss recovery completed by a full acknowledgement. */
  onRecoveryExit(flightBytes: number, now: number): void;
  /** The sender's MSS changed (after the handshake). */
  setMss(mss: number): void;
}

/** Slow start with appropriate byte counting (RFC 3465, L = 2 segments). Returns the new cwnd. */
export function slowStartIncrease(cwnd: number, acked: number, mss: number): number {
  return cwnd + Math.min(acked, 2 * mss);
}
