import { Reader } from '../bytes/reader.js';
import { Writer } from '../bytes/writer.js';
import type { Result } from '../bytes/result.js';
import { CellDecodeFailure, decodeWith, type CellError } from './errors.js';

/** CREATE2 handshake types (tor-spec §5.1). */
export const HandshakeType = { TAP: 0, NTOR: 2, NTOR_V3: 3 } as const;

export const CREATE_FAST_KEY_LEN = 20;

/** CREATE_FAST body: X (20 bytes); the channel cell pads the rest. */
export function encodeCreateFastBody(x: Uint8Array): Uint8Array {
  if (x.length !== CREATE_FAST_KEY_LEN) throw new RangeError('CREATE_FAST X must be 20 bytes');
  return x.slice();
}

export interface CreatedFast {
  readonly y: Uint8Array;
  readonly kh: Uint8Array;
}

export function decodeCreatedFastBody(body: Uint8Array): Result<CreatedFast, CellError> {
  return decodeWith('CREATED_FAST', () => {
    const r = new Reader(body);
    return { y: r.bytes(20).slice(), kh: r.bytes(20).slice() };
  });
}

export function encodeCreatedFastBody(msg: CreatedFast): Uint8Array {
  return new Writer(40).bytes(msg.y).bytes(msg.kh).finish();
}

export interface Create2 {
  readonly handshakeType: number;
  readonly handshakeData: Uint8Array;
}

export function encodeCreate2Body(msg: Create2): Uint8Array {
  return new Writer(509).u16(msg.handshakeType).u16(msg.handshakeData.length).bytes(msg.handshakeData).finish();
}

export function decodeCreate2Body(body: Uint8Array): Result<Create2, CellError> {
  return decodeWith('CREATE2', () => {
    const r = new Reader(body);
    const handshakeType = r.u16();
    const len = r.u16();
    return { handshakeType, handshakeData: r.bytes(len).slice() };
  });
}

/** CREATED2 body, also the EXTENDED2 relay message body: HLEN | HDATA. */
export function encodeCreated2Body(handshakeData: Uint8Array): Uint8Array {
  return new Writer(509).u16(handshakeData.length).bytes(handshakeData).finish();
}

export function decodeCreated2Body(body: Uint8Array): Result<Uint8Array, CellError> {
  return decodeWith('CREATED2', () => {
    const r = new Reader(body);
    const len = r.u16();
    if (len > body.length - 2) throw new CellDecodeFailure('TRUNCATED', `HLEN ${len} exceeds body`);
    return r.bytes(len).slice();
  });
}
