import { constantTimeEqual } from '../bytes/util.js';

/**
 * Sender-side SENDME v1 bookkeeping (proposal 289): remember the forward digest of every DATA cell
 * that should trigger a SENDME from the peer, and match incoming SENDME tags in FIFO order.
 * Bounded: at most window/increment tags can be outstanding.
 */
export class SendmeTagQueue {
  private readonly tags: Uint8Array[] = [];
  constructor(private readonly capacity: number) {}

  get length(): number {
    return this.tags.length;
  }

  /** Returns false (and records nothing) if the queue is full: the peer is far behind its window. */
  push(tag: Uint8Array): boolean {
    if (this.tags.length >= this.capacity) return false;
    this.tags.push(Uint8Array.from(tag));
    return true;
  }

  /** Pop the oldest tag and compare; false if none is pending or it differs. */
  matchOldest(tag: Uint8Array): boolean {
    const expected = this.tags.shift();
    return expected !== undefined && constantTimeEqual(expected, tag);
  }
}

/**
 * Whether the DATA cell about to be packaged (with `windowBeforeSend` still undecremented) is the one
 * the peer will answer with a SENDME: the last cell of each `increment` block (C tor
 * sendme_circuit_cell_is_next).
 */
export function isSendmeTriggeringCell(windowBeforeSend: number, increment: number, start: number): boolean {
  return windowBeforeSend !== start && (windowBeforeSend - 1) % increment === 0;
}
