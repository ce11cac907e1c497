// Ethernet II frame: a reusable view over bytes (reset it per packet; nothing is allocated on the
// data path), MAC address helpers, and parse/emit of a plain representation.

export const ETHERNET_HEADER_LEN = 14;
/** Shortest frame the wire carries without its FCS; shorter ones are runts. */
export const ETHERNET_MIN_FRAME_LEN = 60;

export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPV6: 0x86dd,
} as const;

export type MacAddress = Uint8Array;

export const BROADCAST_MAC: MacAddress = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const ZERO_MAC: MacAddress = new Uint8Array(6);

/** Parses `aa:bb:cc:dd:ee:ff` (also `-` separated); undefined when it is not a MAC address. */
export function parseMac(text: string): MacAddress | undefined {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(
    text,
  );
  if (!m) return undefined;
  return new Uint8Array(m.slice(1).map((h) => parseInt(h, 16)));
}

export function formatMac(mac: Uint8Array, off = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(mac[off + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Whether the 6 bytes at `off` are a group (multicast or broadcast) address. */
export function isGroupMac(buf: Uint8Array, off: number): boolean {
  return (buf[off]! & 1) !== 0;
}

export function macEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff = 0): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** A MAC as two numbers (bytes 0-3, bytes 4-5) so it fits in buffer opaque words. */
export function macHi(mac: Uint8Array, off = 0): number {
  return ((mac[off]! << 24) | (mac[off + 1]! << 16) | (mac[off + 2]! << 8) | mac[off + 3]!) >>> 0;
}

export function macLo(mac: Uint8Array, off = 0): number {
  return (mac[off + 4]! << 8) | mac[off + 5]!;
}

export function writeMacWords(buf: Uint8Array, off: number, hi: number, lo: number): void {
  buf[off] = hi >>> 24;
  buf[off + 1] = (hi >>> 16) & 0xff;
  buf[off + 2] = (hi >>> 8) & 0xff;
  buf[off + 3] = hi & 0xff;
  buf[off + 4] = lo >>> 8;
  buf[off + 5] = lo & 0xff;
}

export interface EthernetRepr {
  readonly dst: MacAddress;
  readonly src: MacAddress;
  readonly etherType: number;
}

export class EthernetFrame {
  buf: Uint8Array;
  off: number;
  len: number;

  constructor(buf: Uint8Array, off = 0, len = buf.length - off) {
    this.buf = buf;
    this.off = off;
    this.len = len;
  }

  /** Points the view at another frame (no allocation). */
  reset(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  /** A view after checking the header fits; throws RangeError on a truncated frame. */
  static checked(buf: Uint8Array, off = 0, len = buf.length - off): EthernetFrame {
    const f = new EthernetFrame(buf, off, len);
    if (!f.isLongEnough()) throw new RangeError(`ethernet: frame of ${len} bytes is shorter than its header`);
    return f;
  }

  isLongEnough(): boolean {
    return this.len >= ETHERNET_HEADER_LEN && this.off + this.len <= this.buf.length;
  }

  get dstOffset(): number {
    return this.off;
  }

  get srcOffset(): number {
    return this.off + 6;
  }

  get dst(): MacAddress {
    return this.buf.slice(this.off, this.off + 6);
  }

  set dst(mac: MacAddress) {
    this.buf.set(mac.subarray(0, 6), this.off);
  }

  get src(): MacAddress {
    return this.buf.slice(this.off + 6, this.off + 12);
  }

  set src(mac: MacAddress) {
    this.buf.set(mac.subarray(0, 6), this.off + 6);
  }

  get etherType(): number {
    return (this.buf[this.off + 12]! << 8) | this.buf[this.off + 13]!;
  }

  set etherType(t: number) {
    this.buf[this.off + 12] = t >>> 8;
    this.buf[this.off + 13] = t & 0xff;
  }

  get payloadOffset(): number {
    return this.off + ETHERNET_HEADER_LEN;
  }

  get payloadLength(): number {
    return this.len - ETHERNET_HEADER_LEN;
  }

  isDstGroup(): boolean {
    return isGroupMac(this.buf, this.off);
  }
}

export function parseEthernet(frame: EthernetFrame): EthernetRepr {
  return { dst: frame.dst, src: frame.src, etherType: frame.etherType };
}

/** Writes the 14-byte header at `off`; returns the bytes written. */
export function emitEthernet(repr: EthernetRepr, buf: Uint8Array, off = 0): number {
  if (off + ETHERNET_HEADER_LEN > buf.length) throw new RangeError('ethernet: no room for the header');
  buf.set(repr.dst.subarray(0, 6), off);
  buf.set(repr.src.subarray(0, 6), off + 6);
  buf[off + 12] = repr.etherType >>> 8;
  buf[off + 13] = repr.etherType & 0xff;
  return ETHERNET_HEADER_LEN;
}
