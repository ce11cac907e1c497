import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';

// DER prefixes that wrap raw 32-byte X25519 keys so node:crypto can import them.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export interface X25519KeyPair {
  readonly secret: KeyObject;
  readonly publicKey: Uint8Array; // 32 bytes
}

export function x25519Generate(): X25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { secret: privateKey, publicKey: rawPublic(publicKey) };
}

/**
 * Key pairs made ahead for ntor handshakes, so sending CREATE2/EXTEND2 does not wait for key
 * generation. Bounded; each pair is handed out once and dropped.
 */
const ephemeralPool: X25519KeyPair[] = [];
export const X25519_POOL_MAX = 16;

/** Generate pairs until `n` (at most X25519_POOL_MAX) are ready; for runtime code, off the critical path. */
export function x25519Prefill(n: number): void {
  const want = Math.min(n, X25519_POOL_MAX);
  while (ephemeralPool.length < want) ephemeralPool.push(x25519Generate());
}

/** Pairs ready in the pool. */
export function x25519PoolSize(): number {
  return ephemeralPool.length;
}

/** A fresh ephemeral pair: one made ahead when available, else made now. */
export function x25519Ephemeral(): X25519KeyPair {
  return ephemeralPool.shift() ?? x25519Generate();
}

/** Import a fixed secret scalar (test vectors). */
export function x25519FromSecret(secret: Uint8Array): X25519KeyPair {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' });
  return { secret: key, publicKey: rawPublic(createPublicKey(key)) };
}

function rawPublic(k: KeyObject): Uint8Array {
  const der = k.export({ format: 'der', type: 'spki' });
  return Uint8Array.from(der.subarray(der.length - 32));
}

/**
 * X25519(secret, peer). Returns null when the result is all zeros (a small-order peer key):
 * node:crypto throws in that case, and ntor requires rejecting it anyway.
 */
export function x25519Shared(secret: KeyObject, peerPublic: Uint8Array): Uint8Array | null {
  if (peerPublic.length !== 32) return null;
  try {
    const pub = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, peerPublic]), format: 'der', type: 'spki' });
    const out = Uint8Array.from(diffieHellman({ privateKey: secret, publicKey: pub }));
    return out.every((b) => b === 0) ? null : out;
  } catch {
    return null;
  }
}
