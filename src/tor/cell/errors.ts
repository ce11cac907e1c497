import { BytesError } from '../bytes/errors.js';
import { err, ok, type Result } from '../bytes/result.js';

/** Stable codes for every way a cell or relay message can fail to decode or encode. */
export type CellErrorCode =
  | 'TRUNCATED'
  | 'EXTRA_BYTES'
  | 'BAD_VALUE'
  | 'TOO_LARGE'
  | 'BAD_LENGTH'
  | 'UNKNOWN_COMMAND';

export interface CellError {
  readonly layer: 'cell';
  readonly code: CellErrorCode;
  readonly message: string;
}

export function cellError(code: CellErrorCode, message: string): CellError {
  return { layer: 'cell', code, message };
}

/**
 * Run a parser built on Reader and turn any BytesError into a CellError value, so that no
 * exception escapes a decoder. Unexpected exceptions are mapped to BAD_VALUE as well: a
 * malformed cell must never crash a channel.
 */
export function decodeWith<T>(what: string, fn: () => T): Result<T, CellError> {
  try {
    return ok(fn());
  } catch (e) {
    if (e instanceof BytesError) {
      const code: CellErrorCode = e.code === 'TRUNCATED' ? 'TRUNCATED' : e.code === 'EXTRA_BYTES' ? 'EXTRA_BYTES' : 'BAD_VALUE';
      return err(cellError(code, `${what}: ${e.message}`));
    }
    if (e instanceof CellDecodeFailure) return err(cellError(e.code, `${what}: ${e.message}`));
    return err(cellError('BAD_VALUE', `${what}: ${(e as Error).message ?? String(e)}`));
  }
}

/** Thrown inside a decodeWith() callback to fail with a specific code; never escapes decodeWith. */
export class CellDecodeFailure extends Error {
  constructor(readonly code: CellErrorCode, message: string) {
    super(message);
  }
}
