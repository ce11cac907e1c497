// Congestion control for one hop of a circuit (proposal 324, torspec congestion-control): the
// negotiated SENDME increment, TOR_VEGAS as the sender's window, and circuit-level SENDMEs every
// sendme_inc DATA cells as the receiver. Pure: fed timestamps (ms), never reads a clock.
import { SendmeTagQueue } from '../crypto/sendme-tags.js';
import type { HopFlow } from './flow-control.js';

/** cc_alg values (congestion-control spec): 0 = fixed SENDME windows, 2 = TOR_VEGAS. */
export const CcAlg = { SENDME: 0, VEGAS: 2 } as const;

/** Consensus parameters of congestion control and stream flow control (cells unless named otherwise). */
export interface CcParams {
  readonly alg: number;
  readonly sendmeInc: number;
  readonly cwndInit: number;
  readonly cwndMin: number;
  readonly cwndMax: number;
  readonly cwndInc: number;
  readonly cwndIncPctSs: number;
  readonly cwndIncRate: number;
  readonly ewmaCwndPct: number;
  readonly ewmaMax: number;
  readonly ewmaSs: number;
  readonly rttResetPct: number;
  readonly vegasAlpha: number;
  readonly vegasBeta: number;
  readonly vegasGamma: number;
  readonly vegasDelta: number;
  readonly ssCwndCap: number;
  readonly ssCwndMax: number;
  /** Stream buffering (cells) at which a client sends XOFF (cc_xoff_client). */
  readonly xoffClient: number;
}

/** TLS_RECORD_MAX_CELLS: the default increment; OUTBUF_CELLS is two of them. */
const TLS_RECORD_CELLS = 31;
const OUTBUF_CELLS = 2 * TLS_RECORD_CELLS;
const INT32_MAX = 2 ** 31 - 1;

/**
 * (name, default, min, max) of every parameter, as C tor reads them (exit-path Vegas values).
 * A value outside [min, max] falls back to the default.
 */
const PARAM_TABLE: readonly [keyof CcParams, string, number, number, number][] = [
  ['alg', 'cc_alg', CcAlg.VEGAS, 0, 2],
  ['sendmeInc', 'cc_sendme_inc', TLS_RECORD_CELLS, 1, 254],
  ['cwndInit', 'cc_cwnd_init', 4 * TLS_RECORD_CELLS, TLS_RECORD_CELLS, 10_000],
  ['cwndMin', 'cc_cwnd_min', 4 * TLS_RECORD_CELLS, TLS_RECORD_CELLS, 1000],
  ['cwndMax', 'cc_cwnd_max', INT32_MAX, 500, INT32_MAX],
  ['cwndInc', 'cc_cwnd_inc', 1, 1, 1000],
  ['cwndIncPctSs', 'cc_cwnd_inc_pct_ss', 100, 1, 500],
  ['cwndIncRate', 'cc_cwnd_inc_rate', TLS_RECORD_CELLS, 1, 250],
  ['ewmaCwndPct', 'cc_ewma_cwnd_pct', 50, 1, 255],
  ['ewmaMax', 'cc_ewma_max', 10, 2, INT32_MAX],
  ['ewmaSs', 'cc_ewma_ss', 2, 2, INT32_MAX],
  ['rttResetPct', 'cc_rtt_reset_pct', 100, 0, 100],
  ['vegasAlpha', 'cc_vegas_alpha_exit', 3 * OUTBUF_CELLS, 0, 1000],
  ['vegasBeta', 'cc_vegas_beta_exit', 4 * OUTBUF_CELLS, 0, 1000],
  ['vegasGamma', 'cc_vegas_gamma_exit', 3 * OUTBUF_CELLS, 0, 1000],
  ['vegasDelta', 'cc_vegas_delta_exit', 5 * OUTBUF_CELLS, 0, INT32_MAX],
  ['ssCwndCap', 'cc_sscap_exit', 600, 100, INT32_MAX],
  ['ssCwndMax', 'cc_ss_max', 5000, 500, INT32_MAX],
  ['xoffClient', 'cc_xoff_client', 500, 1, 10_000],
];

/** Parameters from a consensus lookup (`get(name)` = the voted value or undefined). */
export function ccParamsFrom(get: (name: string) => number | undefined): CcParams {
  const out: Record<string, number> = {};
  for (const [key, name, dflt, min, max] of PARAM_TABLE) {
    const v = get(name);
    out[key] = v === undefined || !Number.isInteger(v) || v < min || v > max ? dflt : v;
  }
  // Only TOR_VEGAS is spoken; C tor falls back to its default for other algorithms too.
  if (out.alg !== CcAlg.SENDME && out.alg !== CcAlg.VEGAS) out.alg = CcAlg.VEGAS;
  return out as unknown as CcParams;
}

/** The spec's defaults (no consensus values). */
export const CC_DEFAULT_PARAMS: CcParams = ccParamsFrom(() => undefined);

/**
 * Whether the sendme_inc a relay answered with is acceptable: C tor's clients accept the consensus
 * value ± 1 (congestion_control_validate_sendme_increment).
 */
export function sendmeIncAcceptable(inc: number, params: CcParams): boolean {
  return inc >= 1 && inc <= 254 && Math.abs(inc - params.sendmeInc) <= 1;
}

/** N-count EWMA: (2·cur + (N−1)·prev) / (N+1); the first sample is taken as is. */
function nCountEwma(cur: number, prev: number, n: number): number {
  return prev === 0 ? cur : (2 * cur + (n - 1) * prev) / (n + 1);
}

/**
 * One hop with congestion control, both directions: the sender's TOR_VEGAS window over the DATA
 * cells we package, and the receiver's SENDME cadence over DATA cells we get.
 */
export class VegasHop implements HopFlow {
  readonly sendmeInc: number;
  cwnd: number;
  inflight = 0;
  inSlowStart = true;
  /** SENDMEs until the next steady-state cwnd update. */
  nextCcEvent: number;
  minRtt = 0;
  ewmaRtt = 0;
  maxRtt = 0;
  bdp = 0;
  /** Cells received since our last SENDME. */
  private received = 0;
  /** When each SENDME-triggering cell we sent left, oldest first (bounded by cwnd / sendme_inc). */
  private readonly sentAt: number[] = [];
  private readonly tags: SendmeTagQueue;
  readonly counters = { sendmesIn: 0, rttSamples: 0, clockStalls: 0, cwndUpdates: 0 };

  constructor(readonly params: CcParams, sendmeInc: number) {
    this.sendmeInc = sendmeInc;
    this.cwnd = params.cwndInit;
    this.nextCcEvent = this.updateRate();
    // At most cwnd/inc tags wait for SENDMEs; cwnd never exceeds cwndMax.
    this.tags = new SendmeTagQueue(Math.ceil(Math.min(params.cwndMax, 1 << 24) / sendmeInc) + 1);
  }

  /** DATA cells we may send now. */
  get packageWindow(): number {
    return this.inflight >= this.cwnd ? 0 : this.cwnd - this.inflight;
  }
  get canPackage(): boolean {
    return this.inflight < this.cwnd;
  }

  /** SENDME acks per cwnd, rounded (SENDME_PER_CWND). */
  private sendmesPerCwnd(): number {
    return Math.floor((this.cwnd + Math.floor(this.sendmeInc / 2)) / this.sendmeInc);
  }
  /** SENDMEs between steady-state updates (CWND_UPDATE_RATE). */
  private updateRate(): number {
    const per = this.sendmeInc * this.params.cwndIncRate;
    return Math.floor((this.cwnd + Math.floor(per / 2)) / per);
  }

  /**
   * We are sending one DATA cell whose forward digest is `tag`. The cell that brings inflight to a
   * multiple of sendme_inc is the one the peer's SENDME will echo: remember its tag and send time.
   */
  notePackaged(tag: Uint8Array, nowMs: number): void {
    if (this.inflight > 0 || this.sendmeInc === 1) {
      if ((this.inflight + 1) % this.sendmeInc === 0) {
        this.tags.push(tag);
        this.sentAt.push(nowMs);
      }
    }
    this.inflight++;
  }

  /** A circuit SENDME from this hop: authenticate, measure RTT, run Vegas, free sendme_inc cells. */
  noteSendme(tag: Uint8Array | null, nowMs: number): 'ok' | 'unauthenticated' | 'overflow' {
    if (this.sentAt.length === 0 || this.inflight < this.sendmeInc) return 'overflow';
    if (!tag || !this.tags.matchOldest(tag)) return 'unauthenticated';
    this.counters.sendmesIn++;
    const sent = this.sentAt.shift()!;
    this.onAck(nowMs - sent);
    return 'ok';
  }

  /** TOR_VEGAS on one SENDME whose triggering cell took `rtt` ms to be acknowledged. */
  onAck(rtt: number): void {
    if (this.nextCcEvent > 0) this.nextCcEvent--;
    if (!this.updateRtt(rtt)) {
      this.inflight = Math.max(0, this.inflight - this.sendmeInc);
      return;
    }
    this.bdp = Math.floor((this.cwnd * this.minRtt) / this.ewmaRtt);
    const p = this.params;
    const queueUse = this.bdp > this.cwnd ? 0 : this.cwnd - this.bdp;
    if (this.inSlowStart) {
      if (queueUse < p.vegasGamma) {
        const inc = this.slowStartIncrement();
        this.cwnd += inc;
        // Slow start stops once it would grow slower than steady state does.
        if (inc * this.sendmesPerCwnd() <= p.cwndInc) this.exitSlowStart();
      } else {
        this.cwnd = this.bdp + p.vegasGamma;
        this.exitSlowStart();
      }
      if (this.cwnd >= p.ssCwndMax) {
        this.cwnd = p.ssCwndMax;
        this.exitSlowStart();
      }
      this.counters.cwndUpdates++;
    } else if (this.nextCcEvent === 0) {
      if (queueUse > p.vegasDelta) this.cwnd = this.bdp + p.vegasDelta - p.cwndInc;
      else if (queueUse > p.vegasBeta) this.cwnd -= p.cwndInc;
      else if (queueUse < p.vegasAlpha) this.cwnd += p.cwndInc;
      this.cwnd = Math.max(this.cwnd, p.cwndMin);
      this.nextCcEvent = this.updateRate();
      this.counters.cwndUpdates++;
    }
    this.cwnd = Math.min(this.cwnd, p.cwndMax);
    this.inflight = Math.max(0, this.inflight - this.sendmeInc);
  }

  /** RFC 3742 limited slow start: a percentage of sendme_inc, then less above the cap. */
  private slowStartIncrement(): number {
    const p = this.params;
    if (this.cwnd <= p.ssCwndCap) return Math.floor((p.cwndIncPctSs * this.sendmeInc + 50) / 100);
    return Math.floor((this.sendmeInc * p.ssCwndCap + this.cwnd) / (2 * this.cwnd));
  }

  private exitSlowStart(): void {
    this.inSlowStart = false;
    this.nextCcEvent = this.updateRate();
  }

  /** Update min/EWMA/max RTT; false (no estimate) on a zero or absurd sample, as on a stalled clock. */
  private updateRtt(rtt: number): boolean {
    const DISCREPANCY = 5000;
    if (!(rtt > 0)) {
      this.counters.clockStalls++;
      return false;
    }
    if (!this.inSlowStart && this.ewmaRtt > 0 && rtt > this.ewmaRtt * DISCREPANCY) {
      this.counters.clockStalls++;
      return false;
    }
    this.counters.rttSamples++;
    const p = this.params;
    const n = Math.max(2, this.inSlowStart ? p.ewmaSs : Math.min(Math.floor((this.updateRate() * p.ewmaCwndPct) / 100), p.ewmaMax));
    this.ewmaRtt = nCountEwma(rtt, this.ewmaRtt, n);
    if (rtt > this.maxRtt) this.maxRtt = rtt;
    if (this.minRtt === 0) this.minRtt = this.ewmaRtt;
    else if (this.cwnd === p.cwndMin && !this.inSlowStart) {
      // Out of a wedge after an abnormally low RTT: raise min toward the EWMA.
      this.minRtt = (p.rttResetPct * this.ewmaRtt + (100 - p.rttResetPct) * this.minRtt) / 100;
    } else if (this.ewmaRtt < this.minRtt) this.minRtt = this.ewmaRtt;
    return true;
  }

  /**
   * One DATA cell arrived from this hop. 'sendme': send a circuit SENDME now (every sendme_inc
   * cells; its tag is the digest of this cell).
   */
  noteDelivered(): 'ok' | 'sendme' {
    if (++this.received < this.sendmeInc) return 'ok';
    this.received = 0;
    return 'sendme';
  }
}
