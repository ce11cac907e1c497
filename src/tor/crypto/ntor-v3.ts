import { createCipheriv, createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { err, ok, type Result } from '../bytes/result.js';
import { concatBytes, constantTimeEqual } from '../bytes/util.js';
import { cryptoError, type CryptoError } from './errors.js';
import { x25519Ephemeral, x25519Shared, type X25519KeyPair } from './x25519.js';

// ntor v3 (tor-spec "The ntor-v3 handshake", proposal 332): SHA3-256, SHAKE-256 and AES-256-CTR,
// with an encrypted, authenticated message in each direction (the CREATE2 extensions).
const PROTOID = 'ntor3-curve25519-sha3_256-1';
const T_MSGKDF = tweak(':kdf_phase1');
const T_MSGMAC = tweak(':msg_mac');
const T_KEY_SEED = tweak(':key_seed');
const T_VERIFY = tweak(':verify');
const T_FINAL = tweak(':kdf_final');
const T_AUTH = tweak(':auth_final');
const PROTOID_BYTES = ascii(PROTOID);
const SERVER = ascii('Server');

/** The verification string for circuit extension. */
export const NTOR_V3_CIRCUIT_VERIFICATION = ascii('circuit extend');
const ENC_KEY_LEN = 32;
const MAC_LEN = 32;
const PUB_LEN = 32;
const ID_LEN = 32;

function ascii(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'ascii'));
}
function tweak(suffix: string): Uint8Array {
  return ascii(PROTOID + suffix);
}

/** ENCAP(s) = htonll(len(s)) | s */
function encap(s: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + s.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(s.length));
  out.set(s, 8);
  return out;
}

/** H(s, t) = SHA3_256(ENCAP(t) | s) */
function h(s: Uint8Array, t: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha3-256').update(encap(t)).update(s).digest());
}

/** MAC(k, msg, t) = SHA3_256(ENCAP(t) | ENCAP(k) | msg) */
function mac(k: Uint8Array, msg: Uint8Array, t: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha3-256').update(encap(t)).update(encap(k)).update(msg).digest());
}

/** KDF(s, t) = SHAKE_256(ENCAP(t) | s), `n` bytes. */
function kdf(s: Uint8Array, t: Uint8Array, n: number): Uint8Array {
  return new Uint8Array(createHash('shake256', { outputLength: n }).update(encap(t)).update(s).digest());
}

/** ENC(k, m) = AES-256-CTR with a zero IV. */
function enc(k: Uint8Array, m: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-256-ctr', k, Buffer.alloc(16));
  return new Uint8Array(Buffer.concat([c.update(m), c.final()]));
}

/** What the client must know about the relay: its Ed25519 identity and ntor onion key. */
export interface NtorV3RelayKey {
  readonly ed25519Id: Uint8Array; // 32 (ID)
  readonly ntorKey: Uint8Array; // 32 (B)
}

export interface NtorV3ClientState {
  readonly relay: NtorV3RelayKey;
  readonly ephemeral: X25519KeyPair;
  readonly verification: Uint8Array;
  /** x·B, kept for the second phase. */
  readonly bx: Uint8Array;
  /** The client's msg_mac (part of the server's auth input). */
  readonly msgMac: Uint8Array;
}

/** Smallest client onion skin: ID | B | X | MAC with an empty message. */
export const NTOR_V3_CLIENT_OVERHEAD = ID_LEN + PUB_LEN + PUB_LEN + MAC_LEN;
/** Smallest server reply: Y | AUTH with an empty message. */
export const NTOR_V3_SERVER_OVERHEAD = PUB_LEN + MAC_LEN;

/**
 * Start a handshake carrying `message` (the client's encrypted extensions) to the relay.
 * Returns the onion skin `ID | B | X | ENC(CM) | MAC`.
 */
export function ntorV3ClientStart(
  relay: NtorV3RelayKey,
  message: Uint8Array,
  verification: Uint8Array = NTOR_V3_CIRCUIT_VERIFICATION,
  ephemeral: X25519KeyPair = x25519Ephemeral(),
): Result<{ state: NtorV3ClientState; onionSkin: Uint8Array }, CryptoError> {
  if (relay.ed25519Id.length !== ID_LEN || relay.ntorKey.length !== PUB_LEN) {
    return err(cryptoError('BAD_KEY', 'ntor v3 needs a 32-byte Ed25519 id and a 32-byte onion key'));
  }
  const bx = x25519Shared(ephemeral.secret, relay.ntorKey);
  if (!bx) return err(cryptoError('DH_DEGENERATE', 'ntor v3 Diffie-Hellman produced zero'));
  const x = ephemeral.publicKey;
  const { ed25519Id: id, ntorKey: b } = relay;
  const phase1 = kdf(concatBytes(bx, id, x, b, PROTOID_BYTES, encap(verification)), T_MSGKDF, ENC_KEY_LEN + MAC_LEN);
  const encrypted = enc(phase1.subarray(0, ENC_KEY_LEN), message);
  const msgMac = mac(phase1.subarray(ENC_KEY_LEN), concatBytes(id, b, x, encrypted), T_MSGMAC);
  return ok({
    state: { relay, ephemeral, verification, bx, msgMac },
    onionSkin: concatBytes(id, b, x, encrypted, msgMac),
  });
}

/**
 * Finish with the relay's `Y | AUTH | ENC(SM)`: check AUTH, decrypt the server message, and derive
 * `keyLen` bytes of circuit key material (the SHAKE-256 stream after the message key).
 */
export function ntorV3ClientComplete(
  state: NtorV3ClientState,
  reply: Uint8Array,
  keyLen: number,
): Result<{ keys: Uint8Array; serverMessage: Uint8Array }, CryptoError> {
  if (reply.length < NTOR_V3_SERVER_OVERHEAD) return err(cryptoError('BAD_HANDSHAKE_LEN', `ntor v3 reply of ${reply.length} bytes`));
  const y = reply.subarray(0, PUB_LEN);
  const auth = reply.subarray(PUB_LEN, PUB_LEN + MAC_LEN);
  const encrypted = reply.subarray(PUB_LEN + MAC_LEN);
  const yx = x25519Shared(state.ephemeral.secret, y);
  if (!yx) return err(cryptoError('DH_DEGENERATE', 'ntor v3 Diffie-Hellman produced zero'));
  const derived = phase2(yx, state.bx, state.relay, state.ephemeral.publicKey, y, state.msgMac, encrypted, state.verification, keyLen);
  if (!constantTimeEqual(derived.auth, auth)) return err(cryptoError('HANDSHAKE_AUTH_FAILED', 'ntor v3 AUTH mismatch'));
  return ok({ keys: derived.keys, serverMessage: enc(derived.encKey, encrypted) });
}

function phase2(
  yx: Uint8Array, bx: Uint8Array, relay: NtorV3RelayKey, x: Uint8Array, y: Uint8Array, msgMac: Uint8Array,
  encryptedServerMsg: Uint8Array, verification: Uint8Array, keyLen: number,
): { auth: Uint8Array; encKey: Uint8Array; keys: Uint8Array } {
  const { ed25519Id: id, ntorKey: b } = relay;
  const secretInput = concatBytes(yx, bx, id, b, x, y, PROTOID_BYTES, encap(verification));
  const keySeed = h(secretInput, T_KEY_SEED);
  const verify = h(secretInput, T_VERIFY);
  const authInput = concatBytes(verify, id, b, y, x, msgMac, encap(encryptedServerMsg), PROTOID_BYTES, SERVER);
  const stream = kdf(keySeed, T_FINAL, ENC_KEY_LEN + keyLen);
  return { auth: h(authInput, T_AUTH), encKey: stream.subarray(0, ENC_KEY_LEN), keys: stream.slice(ENC_KEY_LEN) };
}

/** The relay's secret onion key, for the responder side. */
export interface NtorV3ServerKey {
  readonly ed25519Id: Uint8Array;
  readonly ntorKey: Uint8Array; // B
  readonly secret: KeyObject; // b
}

/**
 * The relay's side (for tests and tools): check the onion skin, decrypt the client message, answer
 * with `reply(clientMessage)`. Returns the reply bytes and `keyLen` bytes of key material.
 */
export function ntorV3ServerHandshake(
  key: NtorV3ServerKey,
  onionSkin: Uint8Array,
  reply: (clientMessage: Uint8Array) => Uint8Array,
  keyLen: number,
  verification: Uint8Array = NTOR_V3_CIRCUIT_VERIFICATION,
  ephemeral: X25519KeyPair = x25519Ephemeral(),
): Result<{ clientMessage: Uint8Array; reply: Uint8Array; keys: Uint8Array }, CryptoError> {
  if (onionSkin.length < NTOR_V3_CLIENT_OVERHEAD) return err(cryptoError('BAD_HANDSHAKE_LEN', `ntor v3 onion skin of ${onionSkin.length} bytes`));
  const id = onionSkin.subarray(0, ID_LEN);
  const b = onionSkin.subarray(ID_LEN, ID_LEN + PUB_LEN);
  const x = onionSkin.subarray(ID_LEN + PUB_LEN, ID_LEN + 2 * PUB_LEN);
  const encrypted = onionSkin.subarray(ID_LEN + 2 * PUB_LEN, onionSkin.length - MAC_LEN);
  const msgMac = onionSkin.subarray(onionSkin.length - MAC_LEN);
  if (!constantTimeEqual(id, key.ed25519Id) || !constantTimeEqual(b, key.ntorKey)) return err(cryptoError('BAD_KEY', 'ntor v3 onion skin for another relay or key'));
  const bx = x25519Shared(key.secret, x);
  if (!bx) return err(cryptoError('DH_DEGENERATE', 'ntor v3 Diffie-Hellman produced zero'));
  const phase1 = kdf(concatBytes(bx, id, x, b, PROTOID_BYTES, encap(verification)), T_MSGKDF, ENC_KEY_LEN + MAC_LEN);
  const expectMac = mac(phase1.subarray(ENC_KEY_LEN), concatBytes(id, b, x, encrypted), T_MSGMAC);
  if (!constantTimeEqual(expectMac, msgMac)) return err(cryptoError('HANDSHAKE_AUTH_FAILED', 'ntor v3 client MAC mismatch'));
  const clientMessage = enc(phase1.subarray(0, ENC_KEY_LEN), encrypted);
  const xy = x25519Shared(ephemeral.secret, x);
  if (!xy) return err(cryptoError('DH_DEGENERATE', 'ntor v3 Diffie-Hellman produced zero'));
  const y = ephemeral.publicKey;
  // The server message key comes from the final KDF, which needs the encrypted message for AUTH:
  // derive the key first, then AUTH over the ciphertext.
  const { ed25519Id, ntorKey } = key;
  const secretInput = concatBytes(xy, bx, ed25519Id, ntorKey, x, y, PROTOID_BYTES, encap(verification));
  const stream = kdf(h(secretInput, T_KEY_SEED), T_FINAL, ENC_KEY_LEN + keyLen);
  const encryptedReply = enc(stream.subarray(0, ENC_KEY_LEN), reply(clientMessage));
  const d = phase2(xy, bx, { ed25519Id, ntorKey }, x, y, msgMac, encryptedReply, verification, keyLen);
  return ok({ clientMessage, reply: concatBytes(y, d.auth, encryptedReply), keys: d.keys });
}
