import { createCipheriv, type Cipher } from 'node:crypto';
import { RELAY_BODY_LEN, RELAY_DIGEST_LEN, RELAY_DIGEST_OFFSET } from '../cell/relay-cell.js';
import type { RelayKeys } from './relay-keys.js';
import { Sha1 } from './sha1.js';

const ZERO_IV = Buffer.alloc(16);
/** Keystream is made this many cell bodies at a time: one native call and one allocation per batch. */
const KEYSTREAM_CELLS = 16;
const ZEROS = Buffer.alloc(KEYSTREAM_CELLS * RELAY_BODY_LEN);

/**
 * One direction of one hop: a continuous AES-128-CTR keystream and a running SHA-1.
 * CTR encryption is XOR with the keystream, so the keystream is generated ahead in batches (node's
 * Cipher has no in-place update; one Buffer per cell per hop was most of the data path's garbage).
 */
class Tor1Layer {
  private readonly cipher: Cipher;
  /** Generated keystream; bytes from `ksPos` on are unused. */
  keystream: Uint8Array = new Uint8Array(0);
  private ksPos = 0;
  readonly digest = new Sha1();
  constructor(key: Uint8Array, digestSeed: Uint8Array) {
    this.cipher = createCipheriv('aes-128-ctr', key, ZERO_IV);
    this.digest.update(digestSeed);
  }
  /** XOR the next keystream bytes into `body` in place (encrypt and decrypt are the same operation). */
  apply(body: Uint8Array): void {
    const p = this.reserve(body.length);
    const ks = this.keystream;
    for (let i = 0; i < body.length; i++) body[i] ^= ks[p + i]!;
    this.ksPos = p + body.length;
  }

  /** Make the next `n` keystream bytes contiguous in `keystream` and return where they start. */
  reserve(n: number): number {
    const left = this.keystream.length - this.ksPos;
    if (left < n) {
      const more = Math.max(n - left, ZEROS.length);
      const fresh = this.cipher.update(more <= ZEROS.length ? ZEROS.subarray(0, more) : Buffer.alloc(more));
      if (left === 0) {
        this.keystream = fresh;
      } else {
        // Only when bodies of other sizes were mixed in (tests): keep the unused tail in front.
        const joined = new Uint8Array(left + fresh.length);
        joined.set(this.keystream.subarray(this.ksPos), 0);
        joined.set(fresh, left);
        this.keystream = joined;
      }
      this.ksPos = 0;
    }
    return this.ksPos;
  }

  /** Consume `n` reserved bytes. */
  advance(n: number): void {
    this.ksPos += n;
  }
}

/** The client's tor1 state for one hop (tor-spec §5.5). */
export class Tor1Hop {
  readonly forward: Tor1Layer;
  readonly backward: Tor1Layer;
  constructor(keys: RelayKeys) {
    this.forward = new Tor1Layer(keys.kf, keys.df);
    this.backward = new Tor1Layer(keys.kb, keys.db);
  }
}

export interface InboundRecognition {
  /** Index (0 = first hop) of the hop that originated the cell. */
  readonly hop: number;
  /** The full 20-byte running digest after this cell (the SENDME v1 tag). */
  readonly tag: Uint8Array;
}

/**
 * Client-side layered tor1 crypto for a whole circuit. Bodies are 509-byte relay cell bodies and
 * are transformed in place.
 */
export class Tor1CircuitCrypto {
  private readonly hops: Tor1Hop[] = [];
  /** Backward digest state before the trial update of the cell being checked. */
  private readonly saved = new Sha1();
  private readonly trialTag = new Uint8Array(20);
  /** Per hop: where this cell's backward keystream starts (scratch for peelInbound). */
  private ksPos: number[] = [];

  get hopCount(): number {
    return this.hops.length;
  }

  addHop(keys: RelayKeys): void {
    this.hops.push(new Tor1Hop(keys));
    this.ksPos.push(0);
  }

  /** Drop hops after `keep` (after a TRUNCATED). */
  truncate(keep: number): void {
    this.hops.length = Math.min(this.hops.length, keep);
    this.ksPos.length = this.hops.length;
  }

  /**
   * Seal a plaintext body for hop `target`: zero Recognized/Digest, update that hop's forward digest,
   * write the first 4 digest bytes, then encrypt with Kf of target, target-1, …, 0.
   * Returns the full 20-byte digest (the tag a SENDME v1 from that hop will echo).
   */
  encryptOutbound(body: Uint8Array, target: number): Uint8Array {
    const hop = this.hops[target];
    if (!hop) throw new RangeError(`no hop ${target}`);
    body[1] = 0;
    body[2] = 0;
    body.fill(0, RELAY_DIGEST_OFFSET, RELAY_DIGEST_OFFSET + RELAY_DIGEST_LEN);
    hop.forward.digest.update(body);
    const tag = hop.forward.digest.digest();
    body.set(tag.subarray(0, RELAY_DIGEST_LEN), RELAY_DIGEST_OFFSET);
    for (let i = target; i >= 0; i--) this.hops[i]!.forward.apply(body);
    return tag;
  }

  /**
   * Peel layers hop by hop; at each, if Recognized is zero, update that hop's backward digest as a
   * trial and keep it only if the digest field matches (else restore it and peel on). Returns the
   * hop that recognized the cell, or -1 if none did (the caller must close the circuit: keystreams
   * are now out of step). The recognizing hop's full running digest is then in `lastTag` until the
   * next call.
   *
   * Recognized is checked from its two bytes and each layer's keystream alone; the whole body is
   * XORed only up to a candidate hop, with all those layers' keystreams in one pass.
   */
  peelInbound(body: Uint8Array): number {
    const n = body.length;
    const hops = this.hops;
    const pos = this.ksPos;
    for (let i = 0; i < hops.length; i++) pos[i] = hops[i]!.backward.reserve(n);
    let r1 = body[1]!;
    let r2 = body[2]!;
    let peeled = 0; // layers already XORed into body
    for (let i = 0; i < hops.length; i++) {
      const layer = hops[i]!.backward;
      r1 ^= layer.keystream[pos[i]! + 1]!;
      r2 ^= layer.keystream[pos[i]! + 2]!;
      if ((r1 | r2) !== 0) continue;
      this.xorLayers(body, peeled, i + 1);
      peeled = i + 1;
      const d0 = body[RELAY_DIGEST_OFFSET]!;
      const d1 = body[RELAY_DIGEST_OFFSET + 1]!;
      const d2 = body[RELAY_DIGEST_OFFSET + 2]!;
      const d3 = body[RELAY_DIGEST_OFFSET + 3]!;
      body[RELAY_DIGEST_OFFSET] = 0;
      body[RELAY_DIGEST_OFFSET + 1] = 0;
      body[RELAY_DIGEST_OFFSET + 2] = 0;
      body[RELAY_DIGEST_OFFSET + 3] = 0;
      // After the last hop a mismatch closes the circuit anyway: no need to keep the old state.
      const last = i === hops.length - 1;
      if (!last) this.saved.copyFrom(layer.digest);
      layer.digest.update(body);
      const t = this.trialTag;
      layer.digest.digestInto(t);
      body[RELAY_DIGEST_OFFSET] = d0;
      body[RELAY_DIGEST_OFFSET + 1] = d1;
      body[RELAY_DIGEST_OFFSET + 2] = d2;
      body[RELAY_DIGEST_OFFSET + 3] = d3;
      if (((t[0]! ^ d0) | (t[1]! ^ d1) | (t[2]! ^ d2) | (t[3]! ^ d3)) === 0) {
        // The cell passed through hops 0..i only: later layers' keystreams stay where they were.
        for (let k = 0; k <= i; k++) hops[k]!.backward.advance(n);
        return i;
      }
      if (!last) layer.digest.copyFrom(this.saved);
    }
    this.xorLayers(body, peeled, hops.length);
    for (let k = 0; k < hops.length; k++) hops[k]!.backward.advance(n);
    return -1;
  }

  /** XOR the reserved keystreams of backward layers [from, to) into body, in one pass. */
  private xorLayers(body: Uint8Array, from: number, to: number): void {
    const hops = this.hops;
    const pos = this.ksPos;
    const n = body.length;
    let k = from;
    for (; to - k >= 3; k += 3) {
      const a = hops[k]!.backward.keystream;
      const b = hops[k + 1]!.backward.keystream;
      const c = hops[k + 2]!.backward.keystream;
      const pa = pos[k]!;
      const pb = pos[k + 1]!;
      const pc = pos[k + 2]!;
      for (let j = 0; j < n; j++) body[j] ^= a[pa + j]! ^ b[pb + j]! ^ c[pc + j]!;
    }
    if (to - k === 2) {
      const a = hops[k]!.backward.keystream;
      const b = hops[k + 1]!.backward.keystream;
      const pa = pos[k]!;
      const pb = pos[k + 1]!;
      for (let j = 0; j < n; j++) body[j] ^= a[pa + j]! ^ b[pb + j]!;
    } else if (to - k === 1) {
      const a = hops[k]!.backward.keystream;
      const pa = pos[k]!;
      for (let j = 0; j < n; j++) body[j] ^= a[pa + j]!;
    }
  }

  /** The running backward digest after the cell the last peelInbound recognized (reused buffer). */
  get lastTag(): Uint8Array {
    return this.trialTag;
  }

  /** peelInbound with the result as an object and the tag copied. Null if no hop recognized it. */
  decryptInbound(body: Uint8Array): InboundRecognition | null {
    const hop = this.peelInbound(body);
    return hop < 0 ? null : { hop, tag: this.trialTag.slice() };
  }
}
