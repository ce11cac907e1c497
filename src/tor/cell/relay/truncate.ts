import type { Result } from '../../bytes/result.js';
import { decodeWith, type CellError } from '../errors.js';
import { DestroyReason } from '../destroy.js';

/** TRUNCATE has an empty body; TRUNCATED carries one DESTROY reason byte. */
export function encodeTruncateBody(): Uint8Array {
  return new Uint8Array(0);
}

export function encodeTruncatedBody(reason: number): Uint8Array {
  return Uint8Array.of(reason & 0xff);
}

export function decodeTruncatedBody(body: Uint8Array): Result<number, CellError> {
  return decodeWith('TRUNCATED', () => (body.length === 0 ? DestroyReason.NONE : body[0]!));
}
