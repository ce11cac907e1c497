import { SendmeTagQueue, isSendmeTriggeringCell } from '../crypto/sendme-tags.js';

/** Circuit and stream window constants (tor-spec §7.3–7.4). */
export const CIRCUIT_WINDOW_START = 1000;
export const CIRCUIT_WINDOW_INCREMENT = 100;
export const STREAM_WINDOW_START = 500;
export const STREAM_WINDOW_INCREMENT = 50;

/**
 * A hop's circuit-level flow control as the circuit drives it: fixed windows (CircuitHopWindows) or
 * congestion control (VegasHop). Only DATA cells count.
 */
export interface HopFlow {
  readonly packageWindow: number;
  readonly canPackage: boolean;
  /** One DATA cell toward the hop is being sent; `tag` is its forward digest. */
  notePackaged(tag: Uint8Array, nowMs: number): void;
  /** A circuit SENDME from the hop (tag null: not v1). */
  noteSendme(tag: Uint8Array | null, nowMs: number): 'ok' | 'unauthenticated' | 'overflow';
  /** One DATA cell from the hop; 'sendme': send a circuit SENDME now. */
  noteDelivered(): 'ok' | 'sendme' | 'violation';
}

/**
 * Per-hop circuit-level windows with authenticated SENDME v1 (proposal 289). Only DATA cells count.
 */
export class CircuitHopWindows implements HopFlow {
  packageWindow = CIRCUIT_WINDOW_START;
  deliverWindow = CIRCUIT_WINDOW_START;
  private readonly expectedTags = new SendmeTagQueue(CIRCUIT_WINDOW_START / CIRCUIT_WINDOW_INCREMENT);

  /**
   * Account for one DATA cell we are about to send whose forward digest is `tag`.
   * Returns false if the window is closed (nothing was changed).
   */
  notePackaged(tag: Uint8Array, _nowMs?: number): boolean {
    if (this.packageWindow <= 0) return false;
    if (isSendmeTriggeringCell(this.packageWindow, CIRCUIT_WINDOW_INCREMENT, CIRCUIT_WINDOW_START)) this.expectedTags.push(tag);
    this.packageWindow--;
    return true;
  }

  /** Peek whether a cell would be recorded, so the caller can compute the tag only then. */
  get canPackage(): boolean {
    return this.packageWindow > 0;
  }

  /** An incoming circuit SENDME: must be v1 and echo the oldest remembered tag. */
  noteSendme(tag: Uint8Array | null, _nowMs?: number): 'ok' | 'unauthenticated' | 'overflow' {
    if (this.packageWindow + CIRCUIT_WINDOW_INCREMENT > CIRCUIT_WINDOW_START) return 'overflow';
    if (!tag || !this.expectedTags.matchOldest(tag)) return 'unauthenticated';
    this.packageWindow += CIRCUIT_WINDOW_INCREMENT;
    return 'ok';
  }

  /**
   * One DATA cell arrived. Returns 'violation' if the peer overran our window, 'sendme' if we must now
   * send a SENDME (the window is credited here), else 'ok'.
   */
  noteDelivered(): 'ok' | 'sendme' | 'violation' {
    if (this.deliverWindow <= 0) return 'violation';
    this.deliverWindow--;
    if (this.deliverWindow <= CIRCUIT_WINDOW_START - CIRCUIT_WINDOW_INCREMENT) {
      this.deliverWindow += CIRCUIT_WINDOW_INCREMENT;
      return 'sendme';
    }
    return 'ok';
  }
}

/** Per-stream windows. Stream SENDMEs have no body; delivery credit waits for consumer space. */
export class StreamWindows {
  packageWindow = STREAM_WINDOW_START;
  deliverWindow = STREAM_WINDOW_START;

  noteSendme(): boolean {
    if (this.packageWindow + STREAM_WINDOW_INCREMENT > STREAM_WINDOW_START) return false;
    this.packageWindow += STREAM_WINDOW_INCREMENT;
    return true;
  }

  noteDelivered(): boolean {
    if (this.deliverWindow <= 0) return false;
    this.deliverWindow--;
    return true;
  }

  /**
   * Whether to send a stream SENDME now: the window has dropped by an increment, and the consumer has
   * room for everything the peer could send once credited (deliverWindow + increment cells).
   */
  shouldSendSendme(consumerFreeBytes: number, cellDataMax: number): boolean {
    if (this.deliverWindow > STREAM_WINDOW_START - STREAM_WINDOW_INCREMENT) return false;
    return consumerFreeBytes >= (this.deliverWindow + STREAM_WINDOW_INCREMENT) * cellDataMax;
  }

  creditSendme(): void {
    this.deliverWindow += STREAM_WINDOW_INCREMENT;
  }
}
