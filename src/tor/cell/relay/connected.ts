import { Reader } from '../../bytes/reader.js';
import { Writer } from '../../bytes/writer.js';
import type { Result } from '../../bytes/result.js';
import { CellDecodeFailure, decodeWith, type CellError } from '../errors.js';

/** CONNECTED (tor-spec §6.2): empty, `IPv4 TTL`, or `00000000 06 IPv6 TTL`. */
export type Connected =
  | { readonly kind: 'empty' }
  | { readonly kind: 'ipv4'; readonly addr: Uint8Array; readonly ttl: number }
  | { readonly kind: 'ipv6'; readonly addr: Uint8Array; readonly ttl: number };

export function decodeConnectedBody(body: Uint8Array): Result<Connected, CellError> {
  return decodeWith('CONNECTED', (): Connected => {
    if (body.length === 0) return { kind: 'empty' };
    const r = new Reader(body);
    const v4 = r.bytes(4);
    if (v4[0] === 0 && v4[1] === 0 && v4[2] === 0 && v4[3] === 0) {
      const t = r.u8();
      if (t !== 6) throw new CellDecodeFailure('BAD_VALUE', `CONNECTED address type ${t}`);
      const addr = r.bytes(16).slice();
      return { kind: 'ipv6', addr, ttl: r.u32() };
    }
    return { kind: 'ipv4', addr: v4.slice(), ttl: r.u32() };
  });
}

export function encodeConnectedBody(msg: Connected): Uint8Array {
  const w = new Writer(498);
  if (msg.kind === 'ipv4') w.bytes(msg.addr).u32(msg.ttl);
  else if (msg.kind === 'ipv6') w.u32(0).u8(6).bytes(msg.addr).u32(msg.ttl);
  return w.finish();
}
