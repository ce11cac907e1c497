// ICMPv4 (RFC 792): a reusable view with checked construction, getters and setters, checksum
// fill/verify over the whole message, and parse/emit of echo and destination-unreachable messages.

import { internetChecksum } from './checksum.js';

export const ICMP_HEADER_LEN = 8;

export const IcmpType = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
} as const;

export const DestUnreachableCode = {
  NET: 0,
  HOST: 1,
  PROTOCOL: 2,
  PORT: 3,
  FRAG_NEEDED: 4,
} as const;

export const IcmpCheck = {
  OK: 0,
  TRUNCATED: 1,
  BAD_CHECKSUM: 2,
} as const;
export type IcmpCheckResult = (typeof IcmpCheck)[keyof typeof IcmpCheck];

export type IcmpRepr =
  | { readonly kind: 'echo-request' | 'echo-reply'; readonly ident: number; readonly seq: number; readonly data: Uint8Array }
  | {
      readonly kind: 'dest-unreachable';
      readonly code: number;
      /** The offending datagram's header and the first bytes of its payload (RFC 1812 §4.3.2.3). */
      readonly original: Uint8Array;
    }
  | { readonly kind: 'other'; readonly type: number; readonly code: number; readonly rest: Uint8Array };

export class IcmpPacket {
  buf: Uint8Array;
  off: number;
  /** Bytes of the whole message (the IPv4 payload length). */
  len: number;

  constructor(buf: Uint8Array, off = 0, len = buf.length - off) {
    this.buf = buf;
    this.off = off;
    this.len = len;
  }

  reset(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  static checked(buf: Uint8Array, off = 0, len = buf.length - off): IcmpPacket {
    const p = new IcmpPacket(buf, off, len);
    const r = p.check(true);
    if (r !== IcmpCheck.OK) throw new RangeError(`icmp: ${Object.keys(IcmpCheck)[r]!.toLowerCase()}`);
    return p;
  }

  check(verifyChecksum: boolean): IcmpCheckResult {
    if (this.len < ICMP_HEADER_LEN || this.off + this.len > this.buf.length) return IcmpCheck.TRUNCATED;
    if (verifyChecksum && !this.verifyChecksum()) return IcmpCheck.BAD_CHECKSUM;
    return IcmpCheck.OK;
  }

  get type(): number {
    return this.buf[this.off]!;
  }

  set type(v: number) {
    this.buf[this.off] = v;
  }

  get code(): number {
    return this.buf[this.off + 1]!;
  }

  set code(v: number) {
    this.buf[this.off + 1] = v;
  }

  get checksum(): number {
    return (this.buf[this.off + 2]! << 8) | this.buf[this.off + 3]!;
  }

  set checksum(v: number) {
    this.buf[this.off + 2] = v >>> 8;
    this.buf[this.off + 3] = v & 0xff;
  }

  /** Echo identifier (bytes 4-5). */
  get ident(): number {
    return (this.buf[this.off + 4]! << 8) | this.buf[this.off + 5]!;
  }

  set ident(v: number) {
    this.buf[this.off + 4] = v >>> 8;
    this.buf[this.off + 5] = v & 0xff;
  }

  /** Echo sequence number (bytes 6-7). */
  get seq(): number {
    return (this.buf[this.off + 6]! << 8) | this.buf[this.off + 7]!;
  }

  set seq(v: number) {
    this.buf[this.off + 6] = v >>> 8;
    this.buf[this.off + 7] = v & 0xff;
  }

  /** The 4 bytes after the checksum as one word (unused/zero for destination unreachable). */
  setRestOfHeader(v: number): void {
    this.buf[this.off + 4] = v >>> 24;
    this.buf[this.off + 5] = (v >>> 16) & 0xff;
    this.buf[this.off + 6] = (v >>> 8) & 0xff;
    this.buf[this.off + 7] = v & 0xff;
  }

  get dataOffset(): number {
    return this.off + ICMP_HEADER_LEN;
  }

  get data(): Uint8Array {
    return this.buf.subarray(this.off + ICMP_HEADER_LEN, this.off + this.len);
  }

  verifyChecksum(): boolean {
    return internetChecksum(this.buf, this.off, this.off + this.len) === 0;
  }

  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = internetChecksum(this.buf, this.off, this.off + this.len);
  }
}

export function parseIcmp(p: IcmpPacket): IcmpRepr {
  switch (p.type) {
    case IcmpType.ECHO_REQUEST:
    case IcmpType.ECHO_REPLY:
      if (p.code === 0) {
        return {
          kind: p.type === IcmpType.ECHO_REQUEST ? 'echo-request' : 'echo-reply',
          ident: p.ident,
          seq: p.seq,
          data: p.data.slice(),
        };
      }
      break;
    case IcmpType.DEST_UNREACHABLE:
      return { kind: 'dest-unreachable', code: p.code, original: p.data.slice() };
  }
  return { kind: 'other', type: p.type, code: p.code, rest: p.buf.slice(p.off + 4, p.off + p.len) };
}

export function icmpReprLength(repr: IcmpRepr): number {
  switch (repr.kind) {
    case 'echo-request':
    case 'echo-reply':
      return ICMP_HEADER_LEN + repr.data.length;
    case 'dest-unreachable':
      return ICMP_HEADER_LEN + repr.original.length;
    case 'other':
      return 4 + repr.rest.length;
  }
}

/** Writes the message with its checksum at `off`; returns its length. */
export function emitIcmp(repr: IcmpRepr, buf: Uint8Array, off = 0): number {
  const len = icmpReprLength(repr);
  if (off + len > buf.length) throw new RangeError('icmp: no room for the message');
  const p = new IcmpPacket(buf, off, len);
  switch (repr.kind) {
    case 'echo-request':
    case 'echo-reply':
      p.type = repr.kind === 'echo-request' ? IcmpType.ECHO_REQUEST : IcmpType.ECHO_REPLY;
      p.code = 0;
      p.ident = repr.ident;
      p.seq = repr.seq;
      buf.set(repr.data, off + ICMP_HEADER_LEN);
      break;
    case 'dest-unreachable':
      p.type = IcmpType.DEST_UNREACHABLE;
      p.code = repr.code;
      p.setRestOfHeader(0);
      buf.set(repr.original, off + ICMP_HEADER_LEN);
      break;
    case 'other':
      p.type = repr.type;
      p.code = repr.code;
      buf.set(repr.rest, off + 4);
      break;
  }
  p.fillChecksum();
  return len;
}
