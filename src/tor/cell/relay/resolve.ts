import { Reader } from '../../bytes/reader.js';
import { Writer } from '../../bytes/writer.js';
import type { Result } from '../../bytes/result.js';
import { CellDecodeFailure, decodeWith, type CellError } from '../errors.js';

/** RESOLVE body: `hostname\0` (or an in-addr.arpa name for reverse lookups). */
export function encodeResolveBody(hostname: string): Result<Uint8Array, CellError> {
  return decodeWith('RESOLVE', () => {
    if (!/^[A-Za-z0-9._:\-]+$/.test(hostname) || hostname.length > 255) throw new CellDecodeFailure('BAD_VALUE', 'invalid RESOLVE hostname');
    return new Writer(498).bytes(Buffer.from(hostname, 'ascii')).u8(0).finish();
  });
}

export function decodeResolveBody(body: Uint8Array): Result<string, CellError> {
  return decodeWith('RESOLVE', () => Buffer.from(new Reader(body).untilNul()).toString('ascii'));
}

/** RESOLVED answer types (tor-spec §6.4). */
export const ResolvedType = { HOSTNAME: 0x00, IPV4: 0x04, IPV6: 0x06, ERROR_TRANSIENT: 0xf0, ERROR_NONTRANSIENT: 0xf1 } as const;

export type ResolvedAnswer =
  | { readonly kind: 'hostname'; readonly hostname: string; readonly ttl: number }
  | { readonly kind: 'ipv4'; readonly addr: Uint8Array; readonly ttl: number }
  | { readonly kind: 'ipv6'; readonly addr: Uint8Array; readonly ttl: number }
  | { readonly kind: 'error'; readonly transient: boolean; readonly ttl: number }
  | { readonly kind: 'unrecognized'; readonly type: number; readonly value: Uint8Array; readonly ttl: number };

export function decodeResolvedBody(body: Uint8Array): Result<ResolvedAnswer[], CellError> {
  return decodeWith('RESOLVED', () => {
    const r = new Reader(body);
    const out: ResolvedAnswer[] = [];
    while (r.remaining > 0) {
      const type = r.u8();
      const len = r.u8();
      const value = r.bytes(len);
      const ttl = r.u32();
      switch (type) {
        case ResolvedType.HOSTNAME:
          out.push({ kind: 'hostname', hostname: Buffer.from(value).toString('ascii'), ttl });
          break;
        case ResolvedType.IPV4:
          if (len !== 4) throw new CellDecodeFailure('BAD_LENGTH', 'RESOLVED IPv4 length');
          out.push({ kind: 'ipv4', addr: value.slice(), ttl });
          break;
        case ResolvedType.IPV6:
          if (len !== 16) throw new CellDecodeFailure('BAD_LENGTH', 'RESOLVED IPv6 length');
          out.push({ kind: 'ipv6', addr: value.slice(), ttl });
          break;
        case ResolvedType.ERROR_TRANSIENT:
        case ResolvedType.ERROR_NONTRANSIENT:
          out.push({ kind: 'error', transient: type === ResolvedType.ERROR_TRANSIENT, ttl });
          break;
        default:
          out.push({ kind: 'unrecognized', type, value: value.slice(), ttl });
      }
    }
    return out;
  });
}

export function encodeResolvedBody(answers: readonly ResolvedAnswer[]): Uint8Array {
  const w = new Writer(498);
  for (const a of answers) {
    if (a.kind === 'hostname') {
      const b = Buffer.from(a.hostname, 'ascii');
      w.u8(0).u8(b.length).bytes(b).u32(a.ttl);
    } else if (a.kind === 'ipv4') {
      w.u8(4).u8(a.addr.length).bytes(a.addr).u32(a.ttl);
    } else if (a.kind === 'ipv6') {
      w.u8(6).u8(a.addr.length).bytes(a.addr).u32(a.ttl);
    } else if (a.kind === 'error') {
      w.u8(a.transient ? 0xf0 : 0xf1).u8(0).u32(a.ttl);
    } else {
      w.u8(a.type).u8(a.value.length).bytes(a.value).u32(a.ttl);
    }
  }
  return w.finish();
}
