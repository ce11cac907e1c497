import { Reader } from '../bytes/reader.js';
import { Writer } from '../bytes/writer.js';
import type { Result } from '../bytes/result.js';
import { decodeWith, type CellError } from './errors.js';

/** CERTS cell cert types (tor-spec §4.2). */
export const CertType = {
  RSA_LINK: 1,
  RSA_ID_X509: 2,
  RSA_AUTH: 3,
  ED_ID_SIGNING: 4,
  ED_SIGNING_LINK: 5,
  ED_SIGNING_AUTH: 6,
  RSA_ED_CROSSCERT: 7,
} as const;

export interface CertsEntry {
  readonly certType: number;
  readonly body: Uint8Array;
}

export function encodeCertsBody(certs: readonly CertsEntry[]): Uint8Array {
  const w = new Writer();
  w.u8(certs.length);
  for (const c of certs) w.u8(c.certType).u16(c.body.length).bytes(c.body);
  return w.finish();
}

export function decodeCertsBody(body: Uint8Array): Result<CertsEntry[], CellError> {
  return decodeWith('CERTS', () => {
    const r = new Reader(body);
    const n = r.u8();
    const certs: CertsEntry[] = [];
    for (let i = 0; i < n; i++) {
      const certType = r.u8();
      const len = r.u16();
      certs.push({ certType, body: r.bytes(len).slice() });
    }
    r.expectEnd();
    return certs;
  });
}
