// ARP for IPv4 over Ethernet (RFC 826): a reusable view with checked construction, getters and
// setters, and parse/emit of a plain representation.

import type { MacAddress } from './ethernet.js';
import { readU32, writeU32 } from './ipv4.js';

export const ARP_PACKET_LEN = 28;
export const ARP_HW_ETHERNET = 1;
export const ARP_PROTO_IPV4 = 0x0800;

export const ArpOperation = {
  REQUEST: 1,
  REPLY: 2,
} as const;

/** Why an ARP packet is unusable. */
export const ArpCheck = {
  OK: 0,
  TRUNCATED: 1,
  /** Not Ethernet/IPv4 (hardware type, protocol type or their lengths). */
  UNSUPPORTED: 2,
  BAD_OPERATION: 3,
} as const;
export type ArpCheckResult = (typeof ArpCheck)[keyof typeof ArpCheck];

export interface ArpRepr {
  readonly operation: number;
  readonly senderHw: MacAddress;
  readonly senderIp: number;
  readonly targetHw: MacAddress;
  readonly targetIp: number;
}

export class ArpPacket {
  buf: Uint8Array;
  off: number;
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

  static checked(buf: Uint8Array, off = 0, len = buf.length - off): ArpPacket {
    const p = new ArpPacket(buf, off, len);
    const r = p.check();
    if (r !== ArpCheck.OK) throw new RangeError(`arp: ${Object.keys(ArpCheck)[r]!.toLowerCase()}`);
    return p;
  }

  check(): ArpCheckResult {
    if (this.len < ARP_PACKET_LEN || this.off + this.len > this.buf.length) return ArpCheck.TRUNCATED;
    if (this.hwType !== ARP_HW_ETHERNET || this.protoType !== ARP_PROTO_IPV4 || this.hwLen !== 6 || this.protoLen !== 4) {
      return ArpCheck.UNSUPPORTED;
    }
    const op = this.operation;
    if (op !== ArpOperation.REQUEST && op !== ArpOperation.REPLY) return ArpCheck.BAD_OPERATION;
    return ArpCheck.OK;
  }

  get hwType(): number {
    return (this.buf[this.off]! << 8) | this.buf[this.off + 1]!;
  }

  get protoType(): number {
    return (this.buf[this.off + 2]! << 8) | this.buf[this.off + 3]!;
  }

  get hwLen(): number {
    return this.buf[this.off + 4]!;
  }

  get protoLen(): number {
    return this.buf[this.off + 5]!;
  }

  /** Sets hardware/protocol types and lengths for Ethernet/IPv4. */
  setEthernetIpv4(): void {
    const b = this.buf;
    const o = this.off;
    b[o] = 0;
    b[o + 1] = ARP_HW_ETHERNET;
    b[o + 2] = ARP_PROTO_IPV4 >>> 8;
    b[o + 3] = ARP_PROTO_IPV4 & 0xff;
    b[o + 4] = 6;
    b[o + 5] = 4;
  }

  get operation(): number {
    return (this.buf[this.off + 6]! << 8) | this.buf[this.off + 7]!;
  }

  set operation(op: number) {
    this.buf[this.off + 6] = op >>> 8;
    this.buf[this.off + 7] = op & 0xff;
  }

  get senderHwOffset(): number {
    return this.off + 8;
  }

  get senderHw(): MacAddress {
    return this.buf.slice(this.off + 8, this.off + 14);
  }

  set senderHw(mac: MacAddress) {
    this.buf.set(mac.subarray(0, 6), this.off + 8);
  }

  get senderIp(): number {
    return readU32(this.buf, this.off + 14);
  }

  set senderIp(a: number) {
    writeU32(this.buf, this.off + 14, a);
  }

  get targetHwOffset(): number {
    return this.off + 18;
  }

  get targetHw(): MacAddress {
    return this.buf.slice(this.off + 18, this.off + 24);
  }

  set targetHw(mac: MacAddress) {
    this.buf.set(mac.subarray(0, 6), this.off + 18);
  }

  get targetIp(): number {
    return readU32(this.buf, this.off + 24);
  }

  set targetIp(a: number) {
    writeU32(this.buf, this.off + 24, a);
  }
}

export function parseArp(p: ArpPacket): ArpRepr {
  return {
    operation: p.operation,
    senderHw: p.senderHw,
    senderIp: p.senderIp,
    targetHw: p.targetHw,
    targetIp: p.targetIp,
  };
}

/** Writes the 28-byte packet at `off`; returns its length. */
export function emitArp(repr: ArpRepr, buf: Uint8Array, off = 0): number {
  if (off + ARP_PACKET_LEN > buf.length) throw new RangeError('arp: no room for the packet');
  const p = new ArpPacket(buf, off, ARP_PACKET_LEN);
  p.setEthernetIpv4();
  p.operation = repr.operation;
  p.senderHw = repr.senderHw;
  p.senderIp = repr.senderIp;
  p.targetHw = repr.targetHw;
  p.targetIp = repr.targetIp;
  return ARP_PACKET_LEN;
}
