import { Reader } from '../bytes/reader.js';
import { Writer } from '../bytes/writer.js';
import type { Result } from '../bytes/result.js';
import { decodeWith, type CellError } from './errors.js';

/** AUTH_CHALLENGE (tor-spec §4.3); a client reads it only to confirm it is well formed. */
export interface AuthChallenge {
  readonly challenge: Uint8Array; // 32 bytes
  readonly methods: number[];
}

export function decodeAuthChallengeBody(body: Uint8Array): Result<AuthChallenge, CellError> {
  return decodeWith('AUTH_CHALLENGE', () => {
    const r = new Reader(body);
    const challenge = r.bytes(32).slice();
    const n = r.u16();
    const methods: number[] = [];
    for (let i = 0; i < n; i++) methods.push(r.u16());
    return { challenge, methods };
  });
}

export function encodeAuthChallengeBody(msg: AuthChallenge): Uint8Array {
  const w = new Writer();
  w.bytes(msg.challenge).u16(msg.methods.length);
  for (const m of msg.methods) w.u16(m);
  return w.finish();
}
