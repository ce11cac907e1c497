/**
 * TCP segment wire format (RFC 9293 §3.1) with the options of RFC 9293 (MSS), RFC 7323 (window scale,
 * timestamps) and RFC 2018 (SACK-permitted, SACK blocks).
 *
 * `TcpView` is a reusable, allocation-free view over a Uint8Array: `reset()` checks the header and binds the
 * view, getters/setters read and write fields in place. `TcpOptions` is a reusable parsed-options record.
 * `parseTcp`/`emitTcp` convert to and from a plain `TcpRepr` for tests and tools (they allocate).
 */
import { internetChecksum, pseudoHeaderSum } from './checksum.js';

export const IP_PROTO_TCP = 6;
export const TCP_HEADER_LEN = 20;
export const TCP_MAX_HEADER_LEN = 60;
export const TCP_MAX_OPTIONS_LEN = 40;

export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

export const TcpOptionKind = {
  END: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMP: 8,
} as const;

/** Why a buffer is not a TCP segment (0 = fine). */
export const enum TcpWireError {
  None = 0,
  Truncated = 1,
  BadDataOffset = 2,
  BadOption = 3,
}

export const MAX_SACK_BLOCKS = 4;

/** Parsed TCP options. Absent values: mss 0, wscale -1, tsPresent false, sackCount 0. Reused, never reallocated. */
export class TcpOptions {
  mss = 0;
  wscale = -1;
  sackPermitted = false;
  tsPresent = false;
  tsVal = 0;
  tsEcr = 0;
  sackCount = 0;
  /** SACK blocks as [left0, right0, left1, right1, …] sequence numbers. */
  readonly sackBlocks = new Uint32Array(MAX_SACK_BLOCKS * 2);

  clear(): void {
    this.mss = 0;
    this.wscale = -1;
    this.sackPermitted = false;
    this.tsPresent = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackCount = 0;
  }
}

/** Bytes the options in `o` take on the wire, padded to a multiple of 4. */
export function tcpOptionsLength(o: TcpOptions): number {
  let n = 0;
  if (o.mss > 0) n += 4;
  if (o.tsPresent) n += 12; // NOP NOP TS, or SACK-permitted + TS
  else if (o.sackPermitted) n += 4;
  if (o.wscale >= 0) n += 4;
  if (o.sackCount > 0) n += 4 + 8 * o.sackCount;
  return n;
}

/** Write options (NOP-padded to 4 bytes) at buf[off]; returns the bytes written. Callers keep the total ≤ 40. */
export function writeTcpOptions(buf: Uint8Array, off: number, o: TcpOptions): number {
  let p = off;
  if (o.mss > 0) {
    buf[p] = TcpOptionKind.MSS; buf[p + 1] = 4; buf[p + 2] = (o.mss >>> 8) & 0xff; buf[p + 3] = o.mss & 0xff;
    p += 4;
  }
  if (o.tsPresent) {
    if (o.sackPermitted) { buf[p] = TcpOptionKind.SACK_PERMITTED; buf[p + 1] = 2; } else { buf[p] = TcpOptionKind.NOP; buf[p + 1] = TcpOptionKind.NOP; }
    buf[p + 2] = TcpOptionKind.TIMESTAMP; buf[p + 3] = 10;
    writeU32(buf, p + 4, o.tsVal);
    writeU32(buf, p + 8, o.tsEcr);
    p += 12;
  } else if (o.sackPermitted) {
    buf[p] = TcpOptionKind.NOP; buf[p + 1] = TcpOptionKind.NOP; buf[p + 2] = TcpOptionKind.SACK_PERMITTED; buf[p + 3] = 2;
    p += 4;
  }
  if (o.wscale >= 0) {
    buf[p] = TcpOptionKind.NOP; buf[p + 1] = TcpOptionKind.WINDOW_SCALE; buf[p + 2] = 3; buf[p + 3] = o.wscale;
    p += 4;
  }
  if (o.sackCount > 0) {
    buf[p] = TcpOptionKind.NOP; buf[p + 1] = TcpOptionKind.NOP; buf[p + 2] = TcpOptionKind.SACK; buf[p + 3] = 2 + 8 * o.sackCount;
    p += 4;
    for (let i = 0; i < o.sackCount * 2; i++, p += 4) writeU32(buf, p, o.sackBlocks[i]!);
  }
  return p - off;
}

function writeU32(buf: Uint8Array, p: number, v: number): void {
  buf[p] = (v >>> 24) & 0xff; buf[p + 1] = (v >>> 16) & 0xff; buf[p + 2] = (v >>> 8) & 0xff; buf[p + 3] = v & 0xff;
}

function readU32(buf: Uint8Array, p: number): number {
  return ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
}

/** A view over a TCP segment (header + payload) at buf[off, off+len). */
export class TcpView {
  buf: Uint8Array = new Uint8Array(0);
  off = 0;
  len = 0;

  /** Bind to buf[off, off+len) after checking the header fits; returns TcpWireError.None or the reason. */
  reset(buf: Uint8Array, off: number, len: number): TcpWireError {
    this.buf = buf; this.off = off; this.len = len;
    if (len < TCP_HEADER_LEN || off + len > buf.length) return TcpWireError.Truncated;
    const hl = this.headerLen;
    if (hl < TCP_HEADER_LEN) return TcpWireError.BadDataOffset;
    if (hl > len) return TcpWireError.Truncated;
    return TcpWireError.None;
  }

  /** Bind for writing a new header (no check; the caller owns the bytes). */
  bindForWrite(buf: Uint8Array, off: number, len: number): void {
    this.buf = buf; this.off = off; this.len = len;
  }

  get srcPort(): number { return (this.buf[this.off]! << 8) | this.buf[this.off + 1]!; }
  set srcPort(v: number) { this.buf[this.off] = v >>> 8; this.buf[this.off + 1] = v & 0xff; }
  get dstPort(): number { return (this.buf[this.off + 2]! << 8) | this.buf[this.off + 3]!; }
  set dstPort(v: number) { this.buf[this.off + 2] = v >>> 8; this.buf[this.off + 3] = v & 0xff; }
  get seq(): number { return readU32(this.buf, this.off + 4); }
  set seq(v: number) { writeU32(this.buf, this.off + 4, v); }
  get ack(): number { return readU32(this.buf, this.off + 8); }
  set ack(v: number) { writeU32(this.buf, this.off + 8, v); }
  /** Header length in bytes (data offset × 4). */
  get headerLen(): number { return (this.buf[this.off + 12]! >>> 4) * 4; }
  set headerLen(v: number) { this.buf[this.off + 12] = ((v >>> 2) << 4) & 0xf0; }
  get flags(): number { return this.buf[this.off + 13]!; }
  set flags(v: number) { this.buf[this.off + 13] = v & 0xff; }
  get window(): number { return (this.buf[this.off + 14]! << 8) | this.buf[this.off + 15]!; }
  set window(v: number) { this.buf[this.off + 14] = (v >>> 8) & 0xff; this.buf[this.off + 15] = v & 0xff; }
  get checksum(): number { return (this.buf[this.off + 16]! << 8) | this.buf[this.off + 17]!; }
  set checksum(v: number) { this.buf[this.off + 16] = (v >>> 8) & 0xff; this.buf[this.off + 17] = v & 0xff; }
  get urgent(): number { return (this.buf[this.off + 18]! << 8) | this.buf[this.off + 19]!; }
  set urgent(v: number) { this.buf[this.off + 18] = (v >>> 8) & 0xff; this.buf[this.off + 19] = v & 0xff; }
  get payloadOffset(): number { return this.off + this.headerLen; }
  get payloadLen(): number { return this.len - this.headerLen; }

  /** Parse options into `out`; returns TcpWireError.None or BadOption on a malformed option list. */
  parseOptions(out: TcpOptions): TcpWireError {
    out.clear();
    const b = this.buf;
    let p = this.off + TCP_HEADER_LEN;
    const end = this.off + this.headerLen;
    while (p < end) {
      const kind = b[p]!;
      if (kind === TcpOptionKind.END) break;
      if (kind === TcpOptionKind.NOP) { p++; continue; }
      if (p + 1 >= end) return TcpWireError.BadOption;
      const olen = b[p + 1]!;
      if (olen < 2 || p + olen > end) return TcpWireError.BadOption;
      switch (kind) {
        case TcpOptionKind.MSS:
          if (olen !== 4) return TcpWireError.BadOption;
          out.mss = (b[p + 2]! << 8) | b[p + 3]!;
          break;
        case TcpOptionKind.WINDOW_SCALE:
          if (olen !== 3) return TcpWireError.BadOption;
          out.wscale = Math.min(b[p + 2]!, 14); // RFC 7323 §2.3: values above 14 are treated as 14
          break;
        case TcpOptionKind.SACK_PERMITTED:
          if (olen !== 2) return TcpWireError.BadOption;
          out.sackPermitted = true;
          break;
        case TcpOptionKind.TIMESTAMP:
          if (olen !== 10) return TcpWireError.BadOption;
          out.tsPresent = true;
          out.tsVal = readU32(b, p + 2);
          out.tsEcr = readU32(b, p + 6);
          break;
        case TcpOptionKind.SACK: {
          if ((olen - 2) % 8 !== 0) return TcpWireError.BadOption;
          const n = Math.min((olen - 2) / 8, MAX_SACK_BLOCKS);
          for (let i = 0; i < n; i++) {
            out.sackBlocks[2 * i] = readU32(b, p + 2 + 8 * i);
            out.sackBlocks[2 * i + 1] = readU32(b, p + 6 + 8 * i);
          }
          out.sackCount = n;
          break;
        }
        default:
          break; // unknown options are skipped (RFC 9293 §3.2)
      }
      p += olen;
    }
    return TcpWireError.None;
  }

  /** Compute and store the checksum including the IPv4 pseudo-header. */
  fillChecksum(srcIp: number, dstIp: number): void {
    this.checksum = 0;
    this.checksum = internetChecksum(this.buf, this.off, this.off + this.len, pseudoHeaderSum(srcIp, dstIp, IP_PROTO_TCP, this.len));
  }

  /** True when the checksum (with the IPv4 pseudo-header) is correct. */
  verifyChecksum(srcIp: number, dstIp: number): boolean {
    return internetChecksum(this.buf, this.off, this.off + this.len, pseudoHeaderSum(srcIp, dstIp, IP_PROTO_TCP, this.len)) === 0;
  }
}

/** Plain representation of a segment, for tests, tracing and tools. */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent: number;
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  timestamp?: { tsVal: number; tsEcr: number };
  sackBlocks?: Array<[number, number]>;
  payload: Uint8Array;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: TcpWireError };

/** Parse buf[off, off+len) into a TcpRepr (the checksum is not checked here; use TcpView.verifyChecksum). */
export function parseTcp(buf: Uint8Array, off = 0, len = buf.length - off): ParseResult<TcpRepr> {
  const v = new TcpView();
  let err = v.reset(buf, off, len);
  if (err !== TcpWireError.None) return { ok: false, error: err };
  const o = new TcpOptions();
  err = v.parseOptions(o);
  if (err !== TcpWireError.None) return { ok: false, error: err };
  const repr: TcpRepr = {
    srcPort: v.srcPort, dstPort: v.dstPort, seq: v.seq, ack: v.ack, flags: v.flags, window: v.window, urgent: v.urgent,
    payload: buf.slice(v.payloadOffset, off + len),
  };
  if (o.mss > 0) repr.mss = o.mss;
  if (o.wscale >= 0) repr.wscale = o.wscale;
  if (o.sackPermitted) repr.sackPermitted = true;
  if (o.tsPresent) repr.timestamp = { tsVal: o.tsVal, tsEcr: o.tsEcr };
  if (o.sackCount > 0) {
    repr.sackBlocks = [];
    for (let i = 0; i < o.sackCount; i++) repr.sackBlocks.push([o.sackBlocks[2 * i]!, o.sackBlocks[2 * i + 1]!]);
  }
  return { ok: true, value: repr };
}

/** Bytes `emitTcp` will write for `repr`. */
export function tcpReprLength(repr: TcpRepr): number {
  return TCP_HEADER_LEN + tcpOptionsLength(reprOptions(repr)) + repr.payload.length;
}

function reprOptions(repr: TcpRepr): TcpOptions {
  const o = new TcpOptions();
  if (repr.mss !== undefined) o.mss = repr.mss;
  if (repr.wscale !== undefined) o.wscale = repr.wscale;
  o.sackPermitted = repr.sackPermitted === true;
  if (repr.timestamp) { o.tsPresent = true; o.tsVal = repr.timestamp.tsVal; o.tsEcr = repr.timestamp.tsEcr; }
  if (repr.sackBlocks) {
    o.sackCount = Math.min(repr.sackBlocks.length, MAX_SACK_BLOCKS);
    for (let i = 0; i < o.sackCount; i++) { o.sackBlocks[2 * i] = repr.sackBlocks[i]![0]; o.sackBlocks[2 * i + 1] = repr.sackBlocks[i]![1]; }
  }
  return o;
}

/**
 * Write `repr` at buf[off]; when srcIp/dstIp are given the checksum is filled. Returns the segment length.
 * Throws RangeError when the options exceed 40 bytes or the buffer is too small (a programming error, not data).
 */
export function emitTcp(repr: TcpRepr, buf: Uint8Array, off = 0, srcIp?: number, dstIp?: number): number {
  const o = reprOptions(repr);
  const optLen = tcpOptionsLength(o);
  if (optLen > TCP_MAX_OPTIONS_LEN) throw new RangeError('tcp options exceed 40 bytes');
  const hl = TCP_HEADER_LEN + optLen;
  const total = hl + repr.payload.length;
  if (off + total > buf.length) throw new RangeError('buffer too small for tcp segment');
  const v = new TcpView();
  v.bindForWrite(buf, off, total);
  v.srcPort = repr.srcPort; v.dstPort = repr.dstPort; v.seq = repr.seq; v.ack = repr.ack;
  v.headerLen = hl; v.flags = repr.flags; v.window = repr.window; v.checksum = 0; v.urgent = repr.urgent;
  writeTcpOptions(buf, off + TCP_HEADER_LEN, o);
  buf.set(repr.payload, off + hl);
  if (srcIp !== undefined && dstIp !== undefined) v.fillChecksum(srcIp, dstIp);
  return total;
}

/** Short human-readable form for traces: "1234 > 80 [S.] seq 1 ack 2 win 512 len 0". Never includes addresses. */
export function formatTcp(v: TcpView): string {
  const f = v.flags;
  let fl = '';
  if (f & TcpFlag.SYN) fl += 'S';
  if (f & TcpFlag.FIN) fl += 'F';
  if (f & TcpFlag.RST) fl += 'R';
  if (f & TcpFlag.PSH) fl += 'P';
  if (f & TcpFlag.ACK) fl += '.';
  return `${v.srcPort} > ${v.dstPort} [${fl}] seq ${v.seq} ack ${v.ack} win ${v.window} len ${v.payloadLen}`;
}
