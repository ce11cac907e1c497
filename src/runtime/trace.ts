// Packet trace: `trace add <input-node> <count>` arms an input node; each node that sees a traced
// buffer adds a record; `show trace` formats every record with its node's formatter.

import { NONE } from './buffer-pool.js';

export interface TraceRecord {
  readonly node: number;
  readonly timeNs: bigint;
  readonly data: unknown;
}

/** Bounds what one capture can hold so tracing can never grow memory without limit. */
export const MAX_TRACED_PACKETS = 10_000;
const MAX_RECORDS_PER_PACKET = 64;

export class TraceStore {
  private readonly packets: TraceRecord[][] = [];
  /** Remaining packets each input node should trace, by node index. */
  private readonly armed = new Map<number, number>();

  arm(inputNode: number, count: number): void {
    const remaining = Math.min(MAX_TRACED_PACKETS, (this.armed.get(inputNode) ?? 0) + count);
    this.armed.set(inputNode, remaining);
  }

  /** Whether the input node should trace its next packet; consumes one arming. */
  takeArmed(inputNode: number): boolean {
    const remaining = this.armed.get(inputNode);
    if (!remaining || this.packets.length >= MAX_TRACED_PACKETS) return false;
    if (remaining === 1) this.armed.delete(inputNode);
    else this.armed.set(inputNode, remaining - 1);
    return true;
  }

  isArmed(inputNode: number): boolean {
    return (this.armed.get(inputNode) ?? 0) > 0;
  }

  /** Starts a trace for a new packet; returns its trace index, or NONE when the store is full. */
  begin(): number {
    if (this.packets.length >= MAX_TRACED_PACKETS) return NONE;
    this.packets.push([]);
    return this.packets.length - 1;
  }

  add(traceIndex: number, node: number, data: unknown): void {
    const records = this.packets[traceIndex];
    if (!records || records.length >= MAX_RECORDS_PER_PACKET) return;
    records.push({ node, timeNs: process.hrtime.bigint(), data });
  }

  get packetsTraced(): readonly (readonly TraceRecord[])[] {
    return this.packets;
  }

  clear(): void {
    this.packets.length = 0;
    this.armed.clear();
  }
}
