import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Sha1 } from '../../../src/tor/crypto/sha1.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'ascii'));

describe('Sha1 (incremental, snapshot/restore)', () => {
  it('matches the FIPS 180 / RFC 3174 test vectors', () => {
    expect(hex(new Sha1().digest())).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(hex(new Sha1().update(ascii('abc')).digest())).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(hex(new Sha1().update(ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).digest())).toBe(
      '84983e441c3bd26ebaae4aa1f95129e5e54670f1',
    );
    const million = new Sha1();
    const chunk = new Uint8Array(1000).fill(0x61);
    for (let i = 0; i < 1000; i++) million.update(chunk);
    expect(hex(million.digest())).toBe('34aa973cd4c4daa4f61eeb2bdbad27316534016f');
    const rep = new Sha1();
    const s = ascii('0123456701234567012345670123456701234567012345670123456701234567');
    for (let i = 0; i < 10; i++) rep.update(s);
    expect(hex(rep.digest())).toBe('dea356a2cddd90c7a7ecedc5ebb563934f460452');
  });

  it('equals node:crypto on random inputs split at random points, and digests without finalizing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(2000), { maxLength: 6 }), (data, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        const ours = new Sha1();
        const ref = createHash('sha1');
        let prev = 0;
        for (const p of [...points, data.length]) {
          ours.update(data, prev, p - prev);
          ref.update(data.subarray(prev, p));
          expect(hex(ours.digest())).toBe(ref.copy().digest('hex'));
          prev = p;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('copyFrom snapshots and restores the running state', () => {
    const a = new Sha1().update(randomBytes(509));
    const snap = new Sha1().copyFrom(a);
    const before = hex(a.digest());
    a.update(randomBytes(509));
    expect(hex(a.digest())).not.toBe(before);
    a.copyFrom(snap);
    expect(hex(a.digest())).toBe(before);
    const more = randomBytes(777);
    expect(hex(a.update(more).digest())).toBe(hex(snap.update(more).digest()));
  });

  it('digestInto writes at an offset and rejects ranges that do not fit', () => {
    const out = new Uint8Array(24);
    new Sha1().update(ascii('abc')).digestInto(out, 4);
    expect(hex(out.subarray(4))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(() => new Sha1().digestInto(new Uint8Array(19))).toThrow(RangeError);
    expect(() => new Sha1().update(new Uint8Array(4), 2, 3)).toThrow(RangeError);
  });
});
