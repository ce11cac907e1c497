import { createCipheriv, type Cipher } from 'node:crypto';
import { RELAY_BODY_LEN, RELAY_DIGEST_LEN, RELAY_DIGEST_OFFSET } from '../cell/relay-cell.js';
import type { RelayKeys } from './relay-keys.js';
import { Sha1 } from './sha1.js';

const ZERO_IV = Buffer.alloc(16);
/** Keystream is made this many cell bodies at a time: one native call and one allocation per batch. */
const KEYSTREAM_CELLS = 16;
const ZEROS = Buffer.alloc(KEYSTREAM_CELLS * RELAY_BODY_LEN);
/** Each body's keystream sits in its own 4-byte aligned 512-byte slot, so XOR runs on 32-bit words. */
const SLOT = 512;
const SLOT_WORDS = SLOT / 4;

/** An aligned copy of the body being transformed (bodies are views at any offset of a read buffer). */
const SCRATCH = new Int32Array(SLOT_WORDS);
const SCRATCH_BYTES = new Uint8Array(SCRATCH.buffer);
const SCRATCH_BODY = SCRATCH_BYTES.subarray(0, RELAY_BODY_LEN);

function checkBody(body: Uint8Array): void {
  if (body.length !== RELAY_BODY_LEN) throw new RangeError(`tor1 bodies are ${RELAY_BODY_LEN} bytes, not ${body.length}`);
}

/**
 * One direction of one hop: a continuous AES-128-CTR keystream and a running SHA-1.
 * CTR encryption is XOR with the keystream, so the keystream is generated ahead in batches (node's
 * Cipher has no in-place update; one Buffer per cell per hop was most of the data path's garbage)
 * and laid out one body per aligned slot.
 */
class Tor1Layer {
  private readonly cipher: Cipher;
  /** KEYSTREAM_CELLS slots of SLOT bytes; slot k holds the keystream of the k-th body of the batch. */
  readonly words = new Int32Array(KEYSTREAM_CELLS * SLOT_WORDS);
  readonly bytes = new Uint8Array(this.words.buffer);
  /** The next unused slot (KEYSTREAM_CELLS: the batch is used up). */
  private slot = KEYSTREAM_CELLS;
  readonly digest = new Sha1();
  constructor(key: Uint8Array, digestSeed: Uint8Array) {
    this.cipher = createCipheriv('aes-128-ctr', key, ZERO_IV);
    this.digest.update(digestSeed);
  }

  /** XOR the next body's keystream into `body` in place (encrypt and decrypt are the same operation). */
  apply(body: Uint8Array): void {
    checkBody(body);
    const base = this.reserve() * SLOT_WORDS;
    SCRATCH_BYTES.set(body);
    const w = this.words;
    for (let i = 0; i < SLOT_WORDS; i++) SCRATCH[i] ^= w[base + i]!;
    body.set(SCRATCH_BODY);
    this.advance();
  }

  /** The slot holding the next body's keystream (made now if the batch is used up). */
  reserve(): number {
    if (this.slot === KEYSTREAM_CELLS) {
      const ks = this.cipher.update(ZEROS);
      for (let k = 0; k < KEYSTREAM_CELLS; k++) this.bytes.set(ks.subarray(k * RELAY_BODY_LEN, (k + 1) * RELAY_BODY_LEN), k * SLOT);
      this.slot = 0;
    }
    return this.slot;
  }

  /** The reserved slot was used. */
  advance(): void {
    this.slot++;
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
  /** Per hop: byte offset of this cell's backward keystream slot (scratch for peelInbound). */
  private slots: number[] = [];

  get hopCount(): number {
    return this.hops.length;
  }

  addHop(keys: RelayKeys): void {
    this.hops.push(new Tor1Hop(keys));
    this.slots.push(0);
  }

  /** Drop hops after `keep` (after a TRUNCATED). */
  truncate(keep: number): void {
    this.hops.length = Math.min(this.hops.length, keep);
    this.slots.length = this.hops.length;
  }

  /**
   * Seal a plaintext body for hop `target`: zero Recognized/Digest, update that hop's forward digest,
   * write the first 4 digest bytes, then encrypt with Kf of target, target-1, …, 0.
   * Returns the full 20-byte digest (the tag a SENDME v1 from that hop will echo).
   */
  encryptOutbound(body: Uint8Array, target: number): Uint8Array {
    checkBody(body);
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
    checkBody(body);
    const hops = this.hops;
    const slot = this.slots;
    for (let i = 0; i < hops.length; i++) slot[i] = hops[i]!.backward.reserve() * SLOT;
    let r1 = body[1]!;
    let r2 = body[2]!;
    let peeled = 0; // layers already XORed into body
    for (let i = 0; i < hops.length; i++) {
      const layer = hops[i]!.backward;
      r1 ^= layer.bytes[slot[i]! + 1]!;
      r2 ^= layer.bytes[slot[i]! + 2]!;
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
        for (let k = 0; k <= i; k++) hops[k]!.backward.advance();
        return i;
      }
      if (!last) layer.digest.copyFrom(this.saved);
    }
    this.xorLayers(body, peeled, hops.length);
    for (let k = 0; k < hops.length; k++) hops[k]!.backward.advance();
    return -1;
  }

  /** XOR the reserved keystream slots of backward layers [from, to) into body, as 32-bit words. */
  private xorLayers(body: Uint8Array, from: number, to: number): void {
    if (from >= to) return;
    const hops = this.hops;
    const slot = this.slots;
    SCRATCH_BYTES.set(body);
    let k = from;
    for (; to - k >= 3; k += 3) {
      const a = hops[k]!.backward.words;
      const b = hops[k + 1]!.backward.words;
      const c = hops[k + 2]!.backward.words;
      const pa = slot[k]! >> 2;
      const pb = slot[k + 1]! >> 2;
      const pc = slot[k + 2]! >> 2;
      for (let j = 0; j < SLOT_WORDS; j++) SCRATCH[j] ^= a[pa + j]! ^ b[pb + j]! ^ c[pc + j]!;
    }
    for (; k < to; k++) {
      const a = hops[k]!.backward.words;
      const pa = slot[k]! >> 2;
      for (let j = 0; j < SLOT_WORDS; j++) SCRATCH[j] ^= a[pa + j]!;
    }
    body.set(SCRATCH_BODY);
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
