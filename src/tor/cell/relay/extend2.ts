import { Reader } from '../../bytes/reader.js';
import { Writer } from '../../bytes/writer.js';
import type { Result } from '../../bytes/result.js';
import { CellDecodeFailure, decodeWith, type CellError } from '../errors.js';
import { decodeCreated2Body, encodeCreated2Body } from '../create.js';

/** EXTEND2 link specifier types (tor-spec §5.1.2). */
export const LinkSpecType = { IPV4: 0, IPV6: 1, RSA_ID: 2, ED25519_ID: 3 } as const;

export type LinkSpecifier =
  | { readonly type: 0; readonly addr: Uint8Array; readonly port: number }
  | { readonly type: 1; readonly addr: Uint8Array; readonly port: number }
  | { readonly type: 2; readonly rsaId: Uint8Array }
  | { readonly type: 3; readonly ed25519Id: Uint8Array }
  | { readonly type: number; readonly unrecognized: Uint8Array };

export interface Extend2 {
  readonly linkSpecifiers: readonly LinkSpecifier[];
  readonly handshakeType: number;
  readonly handshakeData: Uint8Array;
}

function writeLinkSpec(w: Writer, ls: LinkSpecifier): void {
  if ('addr' in ls) {
    const want = ls.type === 0 ? 4 : 16;
    if (ls.addr.length !== want) throw new CellDecodeFailure('BAD_LENGTH', `link specifier ${ls.type} address length`);
    w.u8(ls.type).u8(want + 2).bytes(ls.addr).u16(ls.port);
  } else if ('rsaId' in ls) {
    if (ls.rsaId.length !== 20) throw new CellDecodeFailure('BAD_LENGTH', 'RSA id must be 20 bytes');
    w.u8(2).u8(20).bytes(ls.rsaId);
  } else if ('ed25519Id' in ls) {
    if (ls.ed25519Id.length !== 32) throw new CellDecodeFailure('BAD_LENGTH', 'Ed25519 id must be 32 bytes');
    w.u8(3).u8(32).bytes(ls.ed25519Id);
  } else {
    w.u8(ls.type).u8(ls.unrecognized.length).bytes(ls.unrecognized);
  }
}

function readLinkSpec(r: Reader): LinkSpecifier {
  const type = r.u8();
  const len = r.u8();
  const v = r.bytes(len);
  const bad = (): never => {
    throw new CellDecodeFailure('BAD_LENGTH', `link specifier type ${type} with length ${len}`);
  };
  switch (type) {
    case 0:
      if (len !== 6) bad();
      return { type: 0, addr: v.slice(0, 4), port: (v[4]! << 8) | v[5]! };
    case 1:
      if (len !== 18) bad();
      return { type: 1, addr: v.slice(0, 16), port: (v[16]! << 8) | v[17]! };
    case 2:
      if (len !== 20) bad();
      return { type: 2, rsaId: v.slice() };
    case 3:
      if (len !== 32) bad();
      return { type: 3, ed25519Id: v.slice() };
    default:
      return { type, unrecognized: v.slice() };
  }
}

export function encodeExtend2Body(msg: Extend2): Result<Uint8Array, CellError> {
  return decodeWith('EXTEND2', () => {
    const w = new Writer(498);
    w.u8(msg.linkSpecifiers.length);
    for (const ls of msg.linkSpecifiers) writeLinkSpec(w, ls);
    w.u16(msg.handshakeType).u16(msg.handshakeData.length).bytes(msg.handshakeData);
    return w.finish();
  });
}

export function decodeExtend2Body(body: Uint8Array): Result<Extend2, CellError> {
  return decodeWith('EXTEND2', () => {
    const r = new Reader(body);
    const n = r.u8();
    const linkSpecifiers: LinkSpecifier[] = [];
    for (let i = 0; i < n; i++) linkSpecifiers.push(readLinkSpec(r));
    const handshakeType = r.u16();
    const len = r.u16();
    return { linkSpecifiers, handshakeType, handshakeData: r.bytes(len).slice() };
  });
}

/** EXTENDED2 carries a CREATED2 body. */
export const encodeExtended2Body = encodeCreated2Body;
export const decodeExtended2Body = decodeCreated2Body;
