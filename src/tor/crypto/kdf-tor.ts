import { createHash } from 'node:crypto';

/** KDF-TOR (tor-spec §5.2.1): SHA1(K0|00) | SHA1(K0|01) | … truncated to `n` bytes. */
export function kdfTor(seed: Uint8Array, n: number): Uint8Array {
  if (n > 20 * 256) throw new RangeError('KDF-TOR output too long');
  const out = new Uint8Array(Math.ceil(n / 20) * 20);
  for (let i = 0; i * 20 < n; i++) {
    out.set(createHash('sha1').update(seed).update(Uint8Array.of(i)).digest(), i * 20);
  }
  return out.slice(0, n);
}
