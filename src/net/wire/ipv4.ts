// IPv4 header (RFC 791): address helpers, a reusable view with checked construction, getters and
// setters, header checksum fill/verify, and parse/emit of a plain representation. Addresses are u32.

import { internetChecksum } from './checksum.js';

export const IPV4_HEADER_LEN = 20;
export const IPV4_MAX_HEADER_LEN = 60;
export const IPV4_BROADCAST = 0xffffffff;

export const IpProtocol = {
  ICMP: 1,
  TCP: 6,
  UDP: 17,
} as const;

/** Why a header is unusable; each maps to its own ip4-input error counter. */
export const Ipv4Check = {
  OK: 0,
  /** Fewer bytes than a minimal header. */
  TRUNCATED: 1,
  BAD_VERSION: 2,
  /** IHL below 5 words or past the end of the bytes. */
  BAD_IHL: 3,
  /** Total length below the header length. */
  BAD_LENGTH: 4,
  /** Total length past the end of the bytes present (a truncated datagram). */
  LENGTH_EXCEEDS_DATA: 5,
  BAD_CHECKSUM: 6,
} as const;
export type Ipv4CheckResult = (typeof Ipv4Check)[keyof typeof Ipv4Check];

export function ip4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** Parses dotted-quad `a.b.c.d`; undefined when it is not one. */
export function parseIp4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  let a = 0;
  for (let i = 1; i <= 4; i++) {
    const b = Number(m[i]);
    if (b > 255) return undefined;
    a = a * 256 + b;
  }
  return a;
}

export interface Ip4Prefix {
  readonly addr: number;
  readonly len: number;
}

/** Parses `a.b.c.d/len`; undefined when it is not one. The address keeps its host bits. */
export function parseIp4Prefix(text: string): Ip4Prefix | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseIp4(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (addr === undefined || !/^\d{1,2}$/.test(lenText)) return undefined;
  const len = Number(lenText);
  return len <= 32 ? { addr, len } : undefined;
}

export function prefixMask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

export function formatPrefix(p: Ip4Prefix): string {
  return `${ip4ToString(p.addr)}/${p.len}`;
}

export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

export interface Ipv4Repr {
  readonly src: number;
  readonly dst: number;
  readonly protocol: number;
  /** Bytes after the header. */
  readonly payloadLen: number;
  readonly ttl: number;
  readonly ident?: number;
  readonly dontFragment?: boolean;
  readonly dscp?: number;
}

export class Ipv4Packet {
  buf: Uint8Array;
  off: number;
  /** Bytes available from `off` (the L2 payload; may exceed the total length by padding). */
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

  /** A view after `check` passed (checksum included); throws RangeError naming the problem. */
  static checked(buf: Uint8Array, off = 0, len = buf.length - off): Ipv4Packet {
    const p = new Ipv4Packet(buf, off, len);
    const r = p.check(true);
    if (r !== Ipv4Check.OK) throw new RangeError(`ipv4: ${Object.keys(Ipv4Check)[r]!.toLowerCase()}`);
    return p;
  }

  /** Validates the header against the bytes present, in the order RFC 1812 §5.2.2 lists. */
  check(verifyChecksum: boolean): Ipv4CheckResult {
    if (this.len < IPV4_HEADER_LEN || this.off + this.len > this.buf.length) return Ipv4Check.TRUNCATED;
    if (this.version !== 4) return Ipv4Check.BAD_VERSION;
    const hl = this.headerLen;
    if (hl < IPV4_HEADER_LEN || hl > this.len) return Ipv4Check.BAD_IHL;
    const total = this.totalLen;
    if (total < hl) return Ipv4Check.BAD_LENGTH;
    if (total > this.len) return Ipv4Check.LENGTH_EXCEEDS_DATA;
    if (verifyChecksum && !this.verifyChecksum()) return Ipv4Check.BAD_CHECKSUM;
    return Ipv4Check.OK;
  }

  get version(): number {
    return this.buf[this.off]! >>> 4;
  }

  /** Header length in bytes (IHL × 4). */
  get headerLen(): number {
    return (this.buf[this.off]! & 0x0f) * 4;
  }

  /** Sets version 4 and the IHL from a header length in bytes. */
  setVersionAndHeaderLen(bytes: number): void {
    this.buf[this.off] = 0x40 | ((bytes >>> 2) & 0x0f);
  }

  get dscp(): number {
    return this.buf[this.off + 1]! >>> 2;
  }

  get ecn(): number {
    return this.buf[this.off + 1]! & 3;
  }

  setTos(dscp: number, ecn: number): void {
    this.buf[this.off + 1] = ((dscp & 0x3f) << 2) | (ecn & 3);
  }

  get totalLen(): number {
    return (this.buf[this.off + 2]! << 8) | this.buf[this.off + 3]!;
  }

  set totalLen(v: number) {
    this.buf[this.off + 2] = v >>> 8;
    this.buf[this.off + 3] = v & 0xff;
  }

  get ident(): number {
    return (this.buf[this.off + 4]! << 8) | this.buf[this.off + 5]!;
  }

  set ident(v: number) {
    this.buf[this.off + 4] = v >>> 8;
    this.buf[this.off + 5] = v & 0xff;
  }

  get dontFragment(): boolean {
    return (this.buf[this.off + 6]! & 0x40) !== 0;
  }

  get moreFragments(): boolean {
    return (this.buf[this.off + 6]! & 0x20) !== 0;
  }

  /** Fragment offset in bytes. */
  get fragmentOffset(): number {
    return (((this.buf[this.off + 6]! & 0x1f) << 8) | this.buf[this.off + 7]!) * 8;
  }

  /** Whether this is a fragment (a first fragment or a later one). */
  isFragment(): boolean {
    return this.moreFragments || this.fragmentOffset !== 0;
  }

  setFlagsAndOffset(dontFragment: boolean, moreFragments: boolean, offsetBytes: number): void {
    const v = (dontFragment ? 0x4000 : 0) | (moreFragments ? 0x2000 : 0) | ((offsetBytes >>> 3) & 0x1fff);
    this.buf[this.off + 6] = v >>> 8;
    this.buf[this.off + 7] = v & 0xff;
  }

  get ttl(): number {
    return this.buf[this.off + 8]!;
  }

  set ttl(v: number) {
    this.buf[this.off + 8] = v;
  }

  get protocol(): number {
    return this.buf[this.off + 9]!;
  }

  set protocol(v: number) {
    this.buf[this.off + 9] = v;
  }

  get checksum(): number {
    return (this.buf[this.off + 10]! << 8) | this.buf[this.off + 11]!;
  }

  set checksum(v: number) {
    this.buf[this.off + 10] = v >>> 8;
    this.buf[this.off + 11] = v & 0xff;
  }

  get src(): number {
    return readU32(this.buf, this.off + 12);
  }

  set src(a: number) {
    writeU32(this.buf, this.off + 12, a);
  }

  get dst(): number {
    return readU32(this.buf, this.off + 16);
  }

  set dst(a: number) {
    writeU32(this.buf, this.off + 16, a);
  }

  get payloadOffset(): number {
    return this.off + this.headerLen;
  }

  get payloadLen(): number {
    return this.totalLen - this.headerLen;
  }

  verifyChecksum(): boolean {
    return internetChecksum(this.buf, this.off, this.off + this.headerLen) === 0;
  }

  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = internetChecksum(this.buf, this.off, this.off + this.headerLen);
  }
}

/** Reads the fields a host cares about; call after `check` passed. */
export function parseIpv4(p: Ipv4Packet): Ipv4Repr {
  return {
    src: p.src,
    dst: p.dst,
    protocol: p.protocol,
    payloadLen: p.payloadLen,
    ttl: p.ttl,
    ident: p.ident,
    dontFragment: p.dontFragment,
    dscp: p.dscp,
  };
}

/** Writes a 20-byte header (no options) with its checksum at `off`; returns the header length. */
export function emitIpv4(repr: Ipv4Repr, buf: Uint8Array, off = 0): number {
  if (off + IPV4_HEADER_LEN > buf.length) throw new RangeError('ipv4: no room for the header');
  const p = new Ipv4Packet(buf, off, IPV4_HEADER_LEN);
  p.setVersionAndHeaderLen(IPV4_HEADER_LEN);
  p.setTos(repr.dscp ?? 0, 0);
  p.totalLen = IPV4_HEADER_LEN + repr.payloadLen;
  p.ident = repr.ident ?? 0;
  p.setFlagsAndOffset(repr.dontFragment ?? true, false, 0);
  p.ttl = repr.ttl;
  p.protocol = repr.protocol;
  p.src = repr.src;
  p.dst = repr.dst;
  p.fillChecksum();
  return IPV4_HEADER_LEN;
}
