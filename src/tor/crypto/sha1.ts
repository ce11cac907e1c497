// Incremental SHA-1 (FIPS 180-4 §6.1) whose whole state is a few small typed arrays, for tor1's
// running relay digests. node:crypto's Hash can only be forked by Hash.copy(), which allocates a
// native object per call; relay crypto needs a trial update per inbound cell (check the digest,
// commit only on a match), so here the state is saved and restored by copying 5 words and the
// partial block, and a digest is read without finalizing the running state.

const BLOCK = 64;

/** Scratch for the message schedule and for non-destructive digests (single-threaded use). */
const W = new Int32Array(80);
const FINAL_STATE = new Int32Array(5);
const FINAL_BLOCK = new Uint8Array(BLOCK);

function compress(h: Int32Array, src: Uint8Array, off: number): void {
  for (let t = 0; t < 16; t++) {
    const p = off + t * 4;
    W[t] = (src[p]! << 24) | (src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!;
  }
  for (let t = 16; t < 80; t++) {
    const x = W[t - 3]! ^ W[t - 8]! ^ W[t - 14]! ^ W[t - 16]!;
    W[t] = (x << 1) | (x >>> 31);
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  for (let t = 0; t < 20; t++) {
    const tmp = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + W[t]! + 0x5a827999) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = tmp;
  }
  for (let t = 20; t < 40; t++) {
    const tmp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + W[t]! + 0x6ed9eba1) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = tmp;
  }
  for (let t = 40; t < 60; t++) {
    const tmp = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + W[t]! - 0x70e44324) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = tmp;
  }
  for (let t = 60; t < 80; t++) {
    const tmp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + W[t]! - 0x359d3e2a) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = tmp;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
}

/** A running SHA-1. `digestInto` leaves it running; `copyFrom` snapshots or restores it. */
export class Sha1 {
  private readonly h = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0]);
  private readonly block = new Uint8Array(BLOCK);
  private blockLen = 0;
  /** Bytes hashed so far (exact up to 2^53, far beyond any circuit's life). */
  private total = 0;

  update(data: Uint8Array, off = 0, len = data.length - off): this {
    if (off < 0 || len < 0 || off + len > data.length) throw new RangeError('Sha1.update: range outside the data');
    this.total += len;
    let i = off;
    const end = off + len;
    if (this.blockLen > 0) {
      const take = Math.min(BLOCK - this.blockLen, len);
      const blk = this.block;
      for (let k = 0; k < take; k++) blk[this.blockLen + k] = data[i + k]!;
      this.blockLen += take;
      i += take;
      if (this.blockLen < BLOCK) return this;
      compress(this.h, this.block, 0);
      this.blockLen = 0;
    }
    for (; end - i >= BLOCK; i += BLOCK) compress(this.h, data, i);
    const blk = this.block;
    for (let k = 0; i + k < end; k++) blk[k] = data[i + k]!;
    this.blockLen = end - i;
    return this;
  }

  /** Write the digest of everything hashed so far to `out[off..off+20)`; the hash keeps running. */
  digestInto(out: Uint8Array, off = 0): void {
    if (off < 0 || off + 20 > out.length) throw new RangeError('Sha1.digestInto: no room for 20 bytes');
    FINAL_STATE.set(this.h);
    let n = this.blockLen;
    for (let k = 0; k < n; k++) FINAL_BLOCK[k] = this.block[k]!;
    FINAL_BLOCK[n++] = 0x80;
    if (n > BLOCK - 8) {
      FINAL_BLOCK.fill(0, n);
      compress(FINAL_STATE, FINAL_BLOCK, 0);
      n = 0;
    }
    FINAL_BLOCK.fill(0, n, BLOCK - 8);
    const bits = this.total * 8;
    const hi = Math.floor(bits / 0x100000000);
    const lo = bits >>> 0;
    FINAL_BLOCK[56] = hi >>> 24;
    FINAL_BLOCK[57] = hi >>> 16;
    FINAL_BLOCK[58] = hi >>> 8;
    FINAL_BLOCK[59] = hi;
    FINAL_BLOCK[60] = lo >>> 24;
    FINAL_BLOCK[61] = lo >>> 16;
    FINAL_BLOCK[62] = lo >>> 8;
    FINAL_BLOCK[63] = lo;
    compress(FINAL_STATE, FINAL_BLOCK, 0);
    for (let k = 0; k < 5; k++) {
      const v = FINAL_STATE[k]!;
      out[off + k * 4] = v >>> 24;
      out[off + k * 4 + 1] = v >>> 16;
      out[off + k * 4 + 2] = v >>> 8;
      out[off + k * 4 + 3] = v;
    }
  }

  /** The digest so far as a new 20-byte array (the hash keeps running). */
  digest(): Uint8Array {
    const out = new Uint8Array(20);
    this.digestInto(out);
    return out;
  }

  /** Make this hash's state equal to `other`'s (snapshot or restore; no allocation). */
  copyFrom(other: Sha1): this {
    this.h.set(other.h);
    for (let k = 0; k < other.blockLen; k++) this.block[k] = other.block[k]!;
    this.blockLen = other.blockLen;
    this.total = other.total;
    return this;
  }
}
