import { Reader } from '../bytes/reader.js';
import { Writer } from '../bytes/writer.js';
import type { Result } from '../bytes/result.js';
import { CellDecodeFailure, decodeWith, type CellError } from './errors.js';

/** A NETINFO address: type 4 (IPv4, 4 bytes) or 6 (IPv6, 16 bytes); others are skipped on decode. */
export interface NetAddress {
  readonly type: 4 | 6;
  readonly bytes: Uint8Array;
}

export interface Netinfo {
  /** Seconds since the epoch (0 from clients). */
  readonly time: number;
  readonly otherAddr: NetAddress | null;
  readonly myAddrs: NetAddress[];
}

function readAddr(r: Reader): NetAddress | null {
  const type = r.u8();
  const len = r.u8();
  const value = r.bytes(len);
  if (type === 4 && len === 4) return { type: 4, bytes: value.slice() };
  if (type === 6 && len === 16) return { type: 6, bytes: value.slice() };
  if (type === 4 || type === 6) throw new CellDecodeFailure('BAD_LENGTH', `address type ${type} with length ${len}`);
  return null;
}

function writeAddr(w: Writer, a: NetAddress): void {
  w.u8(a.type).u8(a.bytes.length).bytes(a.bytes);
}

export function decodeNetinfoBody(body: Uint8Array): Result<Netinfo, CellError> {
  return decodeWith('NETINFO', () => {
    const r = new Reader(body);
    const time = r.u32();
    const otherAddr = readAddr(r);
    const n = r.u8();
    const myAddrs: NetAddress[] = [];
    for (let i = 0; i < n; i++) {
      const a = readAddr(r);
      if (a) myAddrs.push(a);
    }
    return { time, otherAddr, myAddrs }; // the rest is zero padding
  });
}

export function encodeNetinfoBody(msg: Netinfo): Uint8Array {
  const w = new Writer(509);
  w.u32(msg.time);
  if (msg.otherAddr) writeAddr(w, msg.otherAddr);
  else w.u8(0).u8(0);
  w.u8(msg.myAddrs.length);
  for (const a of msg.myAddrs) writeAddr(w, a);
  return w.finish();
}
