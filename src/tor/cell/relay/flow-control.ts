import { Reader } from '../../bytes/reader.js';
import { Writer } from '../../bytes/writer.js';
import type { Result } from '../../bytes/result.js';
import { CellDecodeFailure, decodeWith, type CellError } from '../errors.js';

// Stream flow control on congestion-controlled circuits (proposal 344, tor-spec "Flow control"):
// XOFF = VERSION(1); XON = VERSION(1) KBPS_EWMA(4). Only version 0 exists; others are violations.

export function encodeXoffBody(): Uint8Array {
  return Uint8Array.of(0);
}

export function decodeXoffBody(body: Uint8Array): Result<void, CellError> {
  return decodeWith('XOFF', () => {
    const v = new Reader(body).u8();
    if (v !== 0) throw new CellDecodeFailure('BAD_VALUE', `XOFF version ${v}`);
  });
}

/** `kbpsEwma`: the advised drain rate in kbit/s; 0 = unlimited. */
export function encodeXonBody(kbpsEwma: number): Uint8Array {
  return new Writer(5).u8(0).u32(kbpsEwma >>> 0).finish();
}

export function decodeXonBody(body: Uint8Array): Result<{ kbpsEwma: number }, CellError> {
  return decodeWith('XON', () => {
    const r = new Reader(body);
    const v = r.u8();
    if (v !== 0) throw new CellDecodeFailure('BAD_VALUE', `XON version ${v}`);
    return { kbpsEwma: r.u32() };
  });
}
