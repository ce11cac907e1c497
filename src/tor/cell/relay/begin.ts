import { Reader } from '../../bytes/reader.js';
import { Writer } from '../../bytes/writer.js';
import type { Result } from '../../bytes/result.js';
import { CellDecodeFailure, decodeWith, type CellError } from '../errors.js';

/** BEGIN flags (tor-spec §6.2). */
export const BeginFlags = {
  IPV6_OK: 1 << 0,
  IPV4_NOT_OK: 1 << 1,
  IPV6_PREFERRED: 1 << 2,
} as const;

export interface Begin {
  /** Hostname, IPv4 dotted quad or IPv6 literal (without brackets). */
  readonly host: string;
  readonly port: number;
  readonly flags: number;
}

const HOST_RE = /^[A-Za-z0-9._:\-]+$/;

/** `host:port\0` (IPv6 in brackets) then FLAGS (u32) when non-zero. */
export function encodeBeginBody(msg: Begin): Result<Uint8Array, CellError> {
  return decodeWith('BEGIN', () => {
    if (!HOST_RE.test(msg.host) || msg.host.length > 255) throw new CellDecodeFailure('BAD_VALUE', 'invalid BEGIN host');
    if (!Number.isInteger(msg.port) || msg.port < 1 || msg.port > 65535) throw new CellDecodeFailure('BAD_VALUE', 'invalid BEGIN port');
    const host = msg.host.includes(':') ? `[${msg.host}]` : msg.host;
    const w = new Writer(498);
    w.bytes(Buffer.from(`${host}:${msg.port}`, 'ascii')).u8(0);
    if (msg.flags !== 0) w.u32(msg.flags >>> 0);
    return w.finish();
  });
}

export function decodeBeginBody(body: Uint8Array): Result<Begin, CellError> {
  return decodeWith('BEGIN', () => {
    const r = new Reader(body);
    const addr = Buffer.from(r.untilNul()).toString('ascii');
    const flags = r.remaining >= 4 ? r.u32() : 0;
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(addr);
    if (!m) throw new CellDecodeFailure('BAD_VALUE', 'malformed BEGIN address');
    const port = Number(m[3]);
    if (port < 1 || port > 65535) throw new CellDecodeFailure('BAD_VALUE', 'BEGIN port out of range');
    return { host: (m[1] ?? m[2])!, port, flags };
  });
}

/** BEGIN_DIR has an empty body. */
export function encodeBeginDirBody(): Uint8Array {
  return new Uint8Array(0);
}
