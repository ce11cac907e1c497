import { createHmac } from 'node:crypto';
import { err, ok, type Result } from '../bytes/result.js';
import { concatBytes, constantTimeEqual } from '../bytes/util.js';
import { cryptoError, type CryptoError } from './errors.js';
import { hkdfSha256 } from './hkdf.js';
import { splitRelayKeys, TOR1_KEY_MATERIAL_LEN, type RelayKeys } from './relay-keys.js';
import { x25519Ephemeral, x25519Shared, type X25519KeyPair } from './x25519.js';

// ntor constants (tor-spec §5.1.4).
const PROTOID = Buffer.from('ntor-curve25519-sha256-1', 'ascii');
const T_MAC = Buffer.from('ntor-curve25519-sha256-1:mac', 'ascii');
const T_KEY = Buffer.from('ntor-curve25519-sha256-1:key_extract', 'ascii');
const T_VERIFY = Buffer.from('ntor-curve25519-sha256-1:verify', 'ascii');
const M_EXPAND = Buffer.from('ntor-curve25519-sha256-1:key_expand', 'ascii');
const SERVER = Buffer.from('Server', 'ascii');

export const NTOR_CLIENT_HANDSHAKE_LEN = 84;
export const NTOR_SERVER_HANDSHAKE_LEN = 64;

/** What the client must know about the relay: its RSA identity digest and ntor onion key. */
export interface NtorRelayKey {
  readonly rsaId: Uint8Array; // 20
  readonly ntorKey: Uint8Array; // 32 (B)
}

export interface NtorClientState {
  readonly relay: NtorRelayKey;
  readonly ephemeral: X25519KeyPair;
}

export function ntorClientStart(relay: NtorRelayKey, ephemeral: X25519KeyPair = x25519Ephemeral()): Result<{ state: NtorClientState; message: Uint8Array }, CryptoError> {
  if (relay.rsaId.length !== 20 || relay.ntorKey.length !== 32) return err(cryptoError('BAD_KEY', 'ntor needs a 20-byte id and a 32-byte key'));
  const message = concatBytes(relay.rsaId, relay.ntorKey, ephemeral.publicKey);
  return ok({ state: { relay, ephemeral }, message });
}

/** Raw KDF output of `n` bytes, for callers that need more than the tor1 keys. */
export function ntorClientCompleteRaw(state: NtorClientState, reply: Uint8Array, n: number): Result<Uint8Array, CryptoError> {
  if (reply.length < NTOR_SERVER_HANDSHAKE_LEN) return err(cryptoError('BAD_HANDSHAKE_LEN', `ntor reply of ${reply.length} bytes`));
  const y = reply.subarray(0, 32);
  const auth = reply.subarray(32, 64);
  const xy = x25519Shared(state.ephemeral.secret, y);
  const xb = x25519Shared(state.ephemeral.secret, state.relay.ntorKey);
  if (!xy || !xb) return err(cryptoError('DH_DEGENERATE', 'ntor Diffie-Hellman produced zero'));
  const { rsaId, ntorKey } = state.relay;
  const x = state.ephemeral.publicKey;
  const secretInput = concatBytes(xy, xb, rsaId, ntorKey, x, y, PROTOID);
  const verify = createHmac('sha256', T_VERIFY).update(secretInput).digest();
  const authInput = concatBytes(verify, rsaId, ntorKey, y, x, PROTOID, SERVER);
  const expected = createHmac('sha256', T_MAC).update(authInput).digest();
  if (!constantTimeEqual(expected, auth)) return err(cryptoError('HANDSHAKE_AUTH_FAILED', 'ntor AUTH mismatch'));
  return ok(hkdfSha256(secretInput, T_KEY, M_EXPAND, n));
}

/** Finish the handshake with the relay's `Y | AUTH` and derive tor1 keys (`Df|Db|Kf|Kb|KH`). */
export function ntorClientComplete(state: NtorClientState, reply: Uint8Array): Result<RelayKeys, CryptoError> {
  const k = ntorClientCompleteRaw(state, reply, TOR1_KEY_MATERIAL_LEN + 20);
  return k.ok ? ok(splitRelayKeys(k.value)) : k;
}
