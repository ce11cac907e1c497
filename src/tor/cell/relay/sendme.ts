import { Reader } from '../../bytes/reader.js';
import { Writer } from '../../bytes/writer.js';
import type { Result } from '../../bytes/result.js';
import { CellDecodeFailure, decodeWith, type CellError } from '../errors.js';

export const SENDME_TAG_LEN = 20;

/** SENDME (proposal 289): empty = v0; v1 = VERSION(1)=1 | DATA_LEN(2) | DIGEST(DATA_LEN). */
export type Sendme = { readonly version: 0 } | { readonly version: 1; readonly tag: Uint8Array };

export function encodeSendmeBody(msg: Sendme): Uint8Array {
  if (msg.version === 0) return new Uint8Array(0);
  return new Writer(498).u8(1).u16(msg.tag.length).bytes(msg.tag).finish();
}

/** Unknown versions decode as an error; the caller decides whether that is acceptable. */
export function decodeSendmeBody(body: Uint8Array): Result<Sendme, CellError> {
  return decodeWith('SENDME', (): Sendme => {
    if (body.length === 0) return { version: 0 };
    const r = new Reader(body);
    const version = r.u8();
    if (version === 0) return { version: 0 };
    if (version !== 1) throw new CellDecodeFailure('BAD_VALUE', `unsupported SENDME version ${version}`);
    const len = r.u16();
    if (len !== SENDME_TAG_LEN) throw new CellDecodeFailure('BAD_LENGTH', `SENDME v1 tag length ${len}`);
    return { version: 1, tag: r.bytes(len).slice() };
  });
}
