import { hkdfSync } from 'node:crypto';

/** HKDF-SHA256 (RFC 5869) as used by ntor: extract with `salt`, expand with `info`. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, n: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, n));
}
