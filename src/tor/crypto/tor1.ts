import { createCipheriv, createHash, type Cipher, type Hash } from 'node:crypto';
import { RELAY_DIGEST_LEN, RELAY_DIGEST_OFFSET } from '../cell/relay-cell.js';
import type { RelayKeys } from './relay-keys.js';

const ZERO_IV = Buffer.alloc(16);

/** One direction of one hop: a continuous AES-128-CTR keystream and a running SHA-1. */
class Tor1Layer {
  private readonly cipher: Cipher;
  digest: Hash;
  constructor(key: Uint8Array, digestSeed: Uint8Array) {
    this.cipher = createCipheriv('aes-128-ctr', key, ZERO_IV);
    this.digest = createHash('sha1').update(digestSeed);
  }
  /** XOR the keystream into `body` in place (encrypt and decrypt are the same operation). */
  apply(body: Uint8Array): void {
    body.set(this.cipher.update(body));
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

  get hopCount(): number {
    return this.hops.length;
  }

  addHop(keys: RelayKeys): void {
    this.hops.push(new Tor1Hop(keys));
  }

  /** Drop hops after `keep` (after a TRUNCATED). */
  truncate(keep: number): void {
    this.hops.length = Math.min(this.hops.length, keep);
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
    const tag = new Uint8Array(hop.forward.digest.copy().digest());
    body.set(tag.subarray(0, RELAY_DIGEST_LEN), RELAY_DIGEST_OFFSET);
    for (let i = target; i >= 0; i--) this.hops[i]!.forward.apply(body);
    return tag;
  }

  /**
   * Peel layers hop by hop; at each, if Recognized is zero, check the digest on a copy of that hop's
   * backward hash and commit it only on a match. Returns null if no hop recognizes the cell (the
   * caller must close the circuit: keystreams are now out of step).
   */
  decryptInbound(body: Uint8Array): InboundRecognition | null {
    const saved = new Uint8Array(RELAY_DIGEST_LEN);
    for (let i = 0; i < this.hops.length; i++) {
      const layer = this.hops[i]!.backward;
      layer.apply(body);
      if (body[1] !== 0 || body[2] !== 0) continue;
      saved.set(body.subarray(RELAY_DIGEST_OFFSET, RELAY_DIGEST_OFFSET + RELAY_DIGEST_LEN));
      body.fill(0, RELAY_DIGEST_OFFSET, RELAY_DIGEST_OFFSET + RELAY_DIGEST_LEN);
      const trial = layer.digest.copy().update(body);
      const tag = new Uint8Array(trial.copy().digest());
      body.set(saved, RELAY_DIGEST_OFFSET);
      let same = 0;
      for (let j = 0; j < RELAY_DIGEST_LEN; j++) same |= tag[j]! ^ saved[j]!;
      if (same === 0) {
        layer.digest = trial;
        return { hop: i, tag };
      }
    }
    return null;
  }
}
