import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { err, ok, type Result } from '../bytes/result.js';
import { certError, type CertError } from './errors.js';

/** The relay's RSA identity as carried in a type-2 (RSA_ID_X509) CERTS entry. */
export interface RsaIdentityCert {
  readonly publicKey: KeyObject;
  /** PKCS#1 DER of the identity key. */
  readonly keyDer: Uint8Array;
  /** SHA-1 of keyDer: the relay fingerprint / RSA identity digest. */
  readonly rsaId: Uint8Array;
  readonly modulusBits: number;
  readonly validFromMs: number;
  readonly validToMs: number;
  readonly selfSigned: boolean;
}

export function rsaIdentityDigest(pkcs1Der: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha1').update(pkcs1Der).digest());
}

export function parseRsaIdentityCert(der: Uint8Array): Result<RsaIdentityCert, CertError> {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (e) {
    return err(certError('MALFORMED', `RSA identity X.509: ${(e as Error).message}`));
  }
  const publicKey = x509.publicKey;
  if (publicKey.asymmetricKeyType !== 'rsa') return err(certError('BAD_RSA_KEY', 'identity cert key is not RSA'));
  const keyDer = new Uint8Array(publicKey.export({ type: 'pkcs1', format: 'der' }));
  let selfSigned = false;
  try {
    selfSigned = x509.verify(publicKey);
  } catch {
    selfSigned = false;
  }
  return ok({
    publicKey,
    keyDer,
    rsaId: rsaIdentityDigest(keyDer),
    modulusBits: publicKey.asymmetricKeyDetails?.modulusLength ?? 0,
    validFromMs: Date.parse(x509.validFrom),
    validToMs: Date.parse(x509.validTo),
    selfSigned,
  });
}
