import { Reader } from '../bytes/reader.js';
import { Writer } from '../bytes/writer.js';
import type { Result } from '../bytes/result.js';
import { CellDecodeFailure, decodeWith, type CellError } from './errors.js';

/** VERSIONS body: a list of u16 link protocol versions (tor-spec §4.1). */
export function encodeVersionsBody(versions: readonly number[]): Uint8Array {
  const w = new Writer(2 * 256);
  for (const v of versions) w.u16(v);
  return w.finish();
}

export function decodeVersionsBody(body: Uint8Array): Result<number[], CellError> {
  return decodeWith('VERSIONS', () => {
    if (body.length % 2 !== 0) throw new CellDecodeFailure('BAD_LENGTH', 'odd VERSIONS body length');
    const r = new Reader(body);
    const out: number[] = [];
    while (r.remaining > 0) out.push(r.u16());
    return out;
  });
}

/** Highest version both sides support, or null. */
export function negotiateLinkVersion(ours: readonly number[], theirs: readonly number[]): number | null {
  let best: number | null = null;
  for (const v of theirs) if (ours.includes(v) && (best === null || v > best)) best = v;
  return best;
}
