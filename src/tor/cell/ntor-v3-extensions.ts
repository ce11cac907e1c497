import { Reader } from '../bytes/reader.js';
import { Writer } from '../bytes/writer.js';
import type { Result } from '../bytes/result.js';
import { CellDecodeFailure, decodeWith, type CellError } from './errors.js';

/**
 * The messages carried encrypted inside an ntor v3 handshake (tor-spec "CREATE2 extensions"):
 * N_EXTENSIONS(1) then N × { TYPE(1) LEN(1) BODY(LEN) }.
 */
export const NtorV3ExtType = {
  /** Client → relay: please use congestion control (empty body). */
  CC_REQUEST: 1,
  /** Relay → client: congestion control on, body = SENDME_INC(1). */
  CC_RESPONSE: 2,
} as const;

export interface NtorV3Extension {
  readonly type: number;
  readonly body: Uint8Array;
}

export function encodeNtorV3Extensions(exts: readonly NtorV3Extension[]): Result<Uint8Array, CellError> {
  return decodeWith('ntor v3 extensions', () => {
    if (exts.length > 255) throw new CellDecodeFailure('TOO_LARGE', 'more than 255 extensions');
    const w = new Writer(2 + exts.reduce((n, e) => n + 2 + e.body.length, 0)).u8(exts.length);
    for (const e of exts) {
      if (e.body.length > 255) throw new CellDecodeFailure('TOO_LARGE', `extension ${e.type} body of ${e.body.length} bytes`);
      w.u8(e.type).u8(e.body.length).bytes(e.body);
    }
    return w.finish();
  });
}

/** Decode an extension list; bytes after the last extension are an error. */
export function decodeNtorV3Extensions(msg: Uint8Array): Result<NtorV3Extension[], CellError> {
  return decodeWith('ntor v3 extensions', () => {
    if (msg.length === 0) return [];
    const r = new Reader(msg);
    const n = r.u8();
    const out: NtorV3Extension[] = [];
    for (let i = 0; i < n; i++) {
      const type = r.u8();
      const len = r.u8();
      out.push({ type, body: r.bytes(len).slice() });
    }
    if (r.remaining !== 0) throw new CellDecodeFailure('EXTRA_BYTES', `${r.remaining} bytes after the extensions`);
    return out;
  });
}

/** The relay's sendme_inc from a CC_RESPONSE, or null when it did not enable congestion control. */
export function ccResponseSendmeInc(exts: readonly NtorV3Extension[]): number | null | 'malformed' {
  const cc = exts.find((e) => e.type === NtorV3ExtType.CC_RESPONSE);
  if (!cc) return null;
  return cc.body.length === 1 ? cc.body[0]! : 'malformed';
}
