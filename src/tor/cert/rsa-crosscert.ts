import { constants, createHash, publicDecrypt, type KeyObject } from 'node:crypto';
import { Reader } from '../bytes/reader.js';
import { err, ok, type Result } from '../bytes/result.js';
import { constantTimeEqual } from '../bytes/util.js';
import { certError, type CertError } from './errors.js';

const PREFIX = Buffer.from('Tor TLS RSA/Ed25519 cross-certificate', 'ascii');

/** Type-7 RSA→Ed25519 cross-certificate (cert-spec §2.3). */
export interface RsaEd25519Crosscert {
  readonly ed25519Key: Uint8Array;
  readonly expirationHours: number;
  readonly signature: Uint8Array;
  /** ED25519_KEY | EXPIRATION_DATE: the 36 bytes the signature covers (after the prefix). */
  readonly signedBytes: Uint8Array;
}

export function parseRsaCrosscert(bytes: Uint8Array): Result<RsaEd25519Crosscert, CertError> {
  try {
    const r = new Reader(bytes);
    const ed25519Key = r.bytes(32).slice();
    const expirationHours = r.u32();
    const sigLen = r.u8();
    const signature = r.bytes(sigLen).slice();
    r.expectEnd();
    return ok({ ed25519Key, expirationHours, signature, signedBytes: bytes.slice(0, 36) });
  } catch (e) {
    return err(certError('MALFORMED', `RSA cross-cert: ${(e as Error).message}`));
  }
}

/** PKCS#1 v1.5 signature over SHA256(prefix | 36 bytes) without DigestInfo. */
export function verifyRsaCrosscert(cert: RsaEd25519Crosscert, rsaKey: KeyObject): boolean {
  const digest = createHash('sha256').update(PREFIX).update(cert.signedBytes).digest();
  try {
    const recovered = publicDecrypt({ key: rsaKey, padding: constants.RSA_PKCS1_PADDING }, cert.signature);
    return constantTimeEqual(new Uint8Array(recovered), new Uint8Array(digest));
  } catch {
    return false;
  }
}
