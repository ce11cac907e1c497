import { randomFillSync } from 'node:crypto';
import { err, ok, type Result } from '../bytes/result.js';
import { FIXED_BODY_LEN } from './channel-cell.js';
import { CellDecodeFailure, cellError, decodeWith, type CellError } from './errors.js';

/** Relay cell body layout (tor-spec §6.1): Cmd(1) Recognized(2) StreamID(2) Digest(4) Length(2) Data. */
export const RELAY_HEADER_LEN = 11;
export const RELAY_BODY_LEN = FIXED_BODY_LEN;
export const RELAY_DATA_MAX = RELAY_BODY_LEN - RELAY_HEADER_LEN; // 498
export const RELAY_RECOGNIZED_OFFSET = 1;
export const RELAY_DIGEST_OFFSET = 5;
export const RELAY_DIGEST_LEN = 4;

/**
 * Padding bytes come from a CSPRNG pool refilled 16 KiB at a time (one randomFillSync per ~30
 * cells instead of one per cell); every byte is used once.
 */
const PAD_POOL = new Uint8Array(16 * 1024);
let padPos = PAD_POOL.length;

function randomPad(body: Uint8Array, from: number): void {
  let at = from;
  while (at < body.length) {
    if (padPos === PAD_POOL.length) {
      randomFillSync(PAD_POOL);
      padPos = 0;
    }
    const take = Math.min(body.length - at, PAD_POOL.length - padPos);
    body.set(PAD_POOL.subarray(padPos, padPos + take), at);
    padPos += take;
    at += take;
  }
}

/** A relay message as carried in one relay cell. */
export interface RelayMessage {
  readonly command: number;
  readonly streamId: number;
  readonly data: Uint8Array;
}

/** A decoded plaintext relay body, header fields included. */
export interface RelayBody extends RelayMessage {
  readonly recognized: number;
  readonly digest: Uint8Array;
}

/**
 * Build a 509-byte plaintext relay body with Recognized = 0 and Digest = 0. Padding is four zero
 * bytes then random bytes (tor-spec §6.1), which keeps the crypto layer's job to the digest only.
 */
export function encodeRelayBody(msg: RelayMessage, randomPadding = true): Result<Uint8Array, CellError> {
  return decodeWith('relay body', () => {
    if (msg.data.length > RELAY_DATA_MAX) throw new CellDecodeFailure('TOO_LARGE', `relay data ${msg.data.length} > ${RELAY_DATA_MAX}`);
    if (msg.command < 0 || msg.command > 255 || msg.streamId < 0 || msg.streamId > 0xffff) {
      throw new CellDecodeFailure('BAD_VALUE', 'relay command or stream id out of range');
    }
    const body = new Uint8Array(RELAY_BODY_LEN);
    body[0] = msg.command;
    body[3] = msg.streamId >>> 8;
    body[4] = msg.streamId & 0xff;
    body[9] = msg.data.length >>> 8;
    body[10] = msg.data.length & 0xff;
    body.set(msg.data, RELAY_HEADER_LEN);
    const padStart = RELAY_HEADER_LEN + msg.data.length + 4;
    if (randomPadding && padStart < RELAY_BODY_LEN) randomPad(body, padStart);
    return body;
  });
}

/**
 * Decode a plaintext relay body. `digest` and `data` are views into `body` (no copies: this runs for
 * every cell); copy them if the body buffer is to be reused.
 */
export function decodeRelayBody(body: Uint8Array): Result<RelayBody, CellError> {
  if (body.length !== RELAY_BODY_LEN) return err(cellError('BAD_LENGTH', `relay body: relay body must be ${RELAY_BODY_LEN} bytes`));
  const len = (body[9]! << 8) | body[10]!;
  if (len > RELAY_DATA_MAX) return err(cellError('BAD_LENGTH', `relay body: relay length ${len} > ${RELAY_DATA_MAX}`));
  return ok({
    command: body[0]!,
    recognized: (body[1]! << 8) | body[2]!,
    streamId: (body[3]! << 8) | body[4]!,
    digest: body.subarray(RELAY_DIGEST_OFFSET, RELAY_DIGEST_OFFSET + RELAY_DIGEST_LEN),
    data: body.subarray(RELAY_HEADER_LEN, RELAY_HEADER_LEN + len),
  });
}
