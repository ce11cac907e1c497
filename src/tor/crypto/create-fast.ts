import { randomBytes } from 'node:crypto';
import { err, ok, type Result } from '../bytes/result.js';
import { constantTimeEqual } from '../bytes/util.js';
import { cryptoError, type CryptoError } from './errors.js';
import { kdfTor } from './kdf-tor.js';
import { splitRelayKeys, TOR1_KEY_MATERIAL_LEN, type RelayKeys } from './relay-keys.js';

/** Client state of a CREATE_FAST handshake (tor-spec §5.1.5): just X. */
export interface CreateFastClientState {
  readonly x: Uint8Array;
}

export function createFastClientStart(x: Uint8Array = randomBytes(20)): { state: CreateFastClientState; message: Uint8Array } {
  if (x.length !== 20) throw new RangeError('CREATE_FAST X must be 20 bytes');
  const copy = Uint8Array.from(x);
  return { state: { x: copy }, message: copy };
}

/** Check KH and derive keys: KDF-TOR(X|Y) laid out `KH(20) | Df | Db | Kf | Kb`. */
export function createFastClientComplete(state: CreateFastClientState, y: Uint8Array, kh: Uint8Array): Result<RelayKeys, CryptoError> {
  if (y.length !== 20 || kh.length !== 20) return err(cryptoError('BAD_HANDSHAKE_LEN', 'CREATED_FAST needs Y(20) and KH(20)'));
  const seed = new Uint8Array(40);
  seed.set(state.x, 0);
  seed.set(y, 20);
  const k = kdfTor(seed, 20 + TOR1_KEY_MATERIAL_LEN);
  if (!constantTimeEqual(k.subarray(0, 20), kh)) return err(cryptoError('HANDSHAKE_AUTH_FAILED', 'CREATED_FAST KH mismatch'));
  return ok(splitRelayKeys(k.subarray(20)));
}
