import { Reader } from '../../bytes/reader.js';
import { Writer } from '../../bytes/writer.js';
import type { Result } from '../../bytes/result.js';
import { decodeWith, type CellError } from '../errors.js';

/** RELAY_END reasons (tor-spec §6.3). */
export const EndReason = {
  MISC: 1,
  RESOLVEFAILED: 2,
  CONNECTREFUSED: 3,
  EXITPOLICY: 4,
  DESTROY: 5,
  DONE: 6,
  TIMEOUT: 7,
  NOROUTE: 8,
  HIBERNATING: 9,
  INTERNAL: 10,
  RESOURCELIMIT: 11,
  CONNRESET: 12,
  TORPROTOCOL: 13,
  NOTDIRECTORY: 14,
} as const;

const NAMES = new Map<number, string>(Object.entries(EndReason).map(([k, v]) => [v, k]));
export function endReasonName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN(${code})`;
}

export interface End {
  readonly reason: number;
  /** EXITPOLICY only: the address the exit resolved, and its TTL. */
  readonly addr?: Uint8Array;
  readonly ttl?: number;
}

export function encodeEndBody(msg: End): Uint8Array {
  const w = new Writer(498).u8(msg.reason);
  if (msg.addr && msg.ttl !== undefined) w.bytes(msg.addr).u32(msg.ttl);
  return w.finish();
}

/** An empty END means MISC (tor-spec); unknown trailing bytes are ignored. */
export function decodeEndBody(body: Uint8Array): Result<End, CellError> {
  return decodeWith('END', (): End => {
    if (body.length === 0) return { reason: EndReason.MISC };
    const r = new Reader(body);
    const reason = r.u8();
    if (reason === EndReason.EXITPOLICY && (r.remaining === 8 || r.remaining === 20)) {
      const addr = r.bytes(r.remaining - 4).slice();
      return { reason, addr, ttl: r.u32() };
    }
    return { reason };
  });
}
