import { createHash, createPublicKey, publicDecrypt, constants, timingSafeEqual, type KeyObject } from 'node:crypto';

/** An RSA public key as directory documents carry it: PKCS#1 RSAPublicKey DER. */
export interface RsaPublicKey {
  readonly der: Buffer;
  readonly key: KeyObject;
  /** SHA-1 of the DER: the "fingerprint"/"identity digest" used throughout the directory protocol. */
  readonly sha1: Buffer;
}

export function rsaPublicKeyFromDer(der: Buffer): RsaPublicKey {
  const key = createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
  if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA key');
  return { der, key, sha1: sha1(der) };
}

export function rsaModulusBits(k: RsaPublicKey): number {
  return k.key.asymmetricKeyDetails?.modulusLength ?? 0;
}

export function sha1(data: Uint8Array): Buffer {
  return createHash('sha1').update(data).digest();
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * Tor's directory signatures are PKCS#1 v1.5 type-1 padding around the bare digest (no DigestInfo),
 * so a public "decrypt" returns the digest itself.
 */
export function verifyRawDigestSignature(k: RsaPublicKey, signature: Buffer, digest: Buffer): boolean {
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key: k.key, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
  return recovered.length === digest.length && timingSafeEqual(recovered, digest);
}
