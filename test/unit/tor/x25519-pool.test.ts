import { describe, expect, it } from 'vitest';
import { x25519Ephemeral, x25519Prefill, x25519PoolSize, x25519Shared, X25519_POOL_MAX } from '../../../src/tor/crypto/x25519.js';

describe('ntor ephemeral key pool', () => {
  it('hands out each prefilled pair once, stays bounded, and falls back to generating', () => {
    while (x25519PoolSize() > 0) x25519Ephemeral();
    x25519Prefill(1000);
    expect(x25519PoolSize()).toBe(X25519_POOL_MAX);
    const seen = new Set<string>();
    for (let i = 0; i < X25519_POOL_MAX + 3; i++) {
      const kp = x25519Ephemeral();
      const pub = Buffer.from(kp.publicKey).toString('hex');
      expect(seen.has(pub)).toBe(false);
      seen.add(pub);
    }
    expect(x25519PoolSize()).toBe(0);
    // Pooled pairs are real key pairs: both sides agree on the shared secret.
    x25519Prefill(2);
    const a = x25519Ephemeral();
    const b = x25519Ephemeral();
    expect(Buffer.from(x25519Shared(a.secret, b.publicKey)!)).toEqual(Buffer.from(x25519Shared(b.secret, a.publicKey)!));
  });
});
