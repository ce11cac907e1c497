import { createPublicKey, verify } from 'node:crypto';
import { Reader } from '../bytes/reader.js';
import { err, ok, type Result } from '../bytes/result.js';
import { certError, type CertError } from './errors.js';

/** Ed25519 certificate types (cert-spec §A.1). */
export const EdCertType = { IDENTITY_V_SIGNING: 4, SIGNING_V_TLS_CERT: 5, SIGNING_V_LINK_AUTH: 6 } as const;
/** CERT_KEY_TYPE values (cert-spec §2.1). */
export const EdCertKeyType = { ED25519: 1, SHA256_OF_RSA: 2, SHA256_OF_X509: 3 } as const;
/** Extension 04: the 32-byte Ed25519 key that signed this cert. */
export const EXT_SIGNED_WITH_ED25519_KEY = 4;
const FLAG_AFFECTS_VALIDATION = 1;

export interface Ed25519CertExtension {
  readonly type: number;
  readonly flags: number;
  readonly data: Uint8Array;
}

/** A parsed (not yet verified) Tor Ed25519 certificate (cert-spec §2.1). */
export interface Ed25519Cert {
  readonly certType: number;
  /** Hours since the epoch after which the cert is invalid. */
  readonly expirationHours: number;
  readonly keyType: number;
  readonly certifiedKey: Uint8Array;
  readonly extensions: readonly Ed25519CertExtension[];
  /** Contents of extension 04, when present. */
  readonly signedWith: Uint8Array | null;
  readonly signature: Uint8Array;
  /** Every byte before the signature: what the signature covers. */
  readonly signedBytes: Uint8Array;
}

export function parseEd25519Cert(bytes: Uint8Array): Result<Ed25519Cert, CertError> {
  try {
    const r = new Reader(bytes);
    const version = r.u8();
    if (version !== 1) return err(certError('UNSUPPORTED_VERSION', `Ed25519 cert version ${version}`));
    const certType = r.u8();
    const expirationHours = r.u32();
    const keyType = r.u8();
    const certifiedKey = r.bytes(32).slice();
    const n = r.u8();
    const extensions: Ed25519CertExtension[] = [];
    let signedWith: Uint8Array | null = null;
    for (let i = 0; i < n; i++) {
      const len = r.u16();
      const type = r.u8();
      const flags = r.u8();
      const data = r.bytes(len).slice();
      if (type === EXT_SIGNED_WITH_ED25519_KEY) {
        if (len !== 32) return err(certError('MALFORMED', 'signed-with-ed25519-key extension must be 32 bytes'));
        if (signedWith) return err(certError('MALFORMED', 'duplicate signed-with-ed25519-key extension'));
        signedWith = data;
      } else if (flags & FLAG_AFFECTS_VALIDATION) {
        return err(certError('UNKNOWN_CRITICAL_EXTENSION', `unknown extension ${type} affects validation`));
      }
      extensions.push({ type, flags, data });
    }
    const signedLen = r.offset;
    const signature = r.bytes(64).slice();
    r.expectEnd();
    return ok({ certType, expirationHours, keyType, certifiedKey, extensions, signedWith, signature, signedBytes: bytes.slice(0, signedLen) });
  } catch (e) {
    return err(certError('MALFORMED', `Ed25519 cert: ${(e as Error).message}`));
  }
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Verify an Ed25519 signature with a raw 32-byte public key; false on any malformed input. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

export function verifyEd25519Cert(cert: Ed25519Cert, signer: Uint8Array): boolean {
  return ed25519Verify(signer, cert.signedBytes, cert.signature);
}

export function ed25519CertExpired(cert: Ed25519Cert, nowMs: number): boolean {
  return nowMs >= cert.expirationHours * 3_600_000;
}
