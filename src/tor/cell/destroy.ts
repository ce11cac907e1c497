import type { Result } from '../bytes/result.js';
import { decodeWith, type CellError } from './errors.js';

/** DESTROY / TRUNCATED reasons (tor-spec §5.4). */
export const DestroyReason = {
  NONE: 0,
  PROTOCOL: 1,
  INTERNAL: 2,
  REQUESTED: 3,
  HIBERNATING: 4,
  RESOURCELIMIT: 5,
  CONNECTFAILED: 6,
  OR_IDENTITY: 7,
  CHANNEL_CLOSED: 8,
  FINISHED: 9,
  TIMEOUT: 10,
  DESTROYED: 11,
  NOSUCHSERVICE: 12,
} as const;

const NAMES = new Map<number, string>(Object.entries(DestroyReason).map(([k, v]) => [v, k]));
export function destroyReasonName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN(${code})`;
}

export function encodeDestroyBody(reason: number): Uint8Array {
  return Uint8Array.of(reason & 0xff);
}

/** An empty body means NONE. */
export function decodeDestroyBody(body: Uint8Array): Result<number, CellError> {
  return decodeWith('DESTROY', () => (body.length === 0 ? DestroyReason.NONE : body[0]!));
}
