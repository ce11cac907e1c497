import { describe, expect, it } from 'vitest';
import {
  EthernetFrame, EtherType, emitEthernet, formatMac, parseEthernet, parseMac, macHi, macLo, writeMacWords,
} from '../../../src/net/wire/ethernet.js';
import {
  Ipv4Check, Ipv4Packet, emitIpv4, ip4ToString, parseIp4, parseIp4Prefix, parseIpv4, prefixMask,
} from '../../../src/net/wire/ipv4.js';
import { ArpCheck, ArpOperation, ArpPacket, emitArp, parseArp } from '../../../src/net/wire/arp.js';
import { IcmpCheck, IcmpPacket, emitIcmp, parseIcmp } from '../../../src/net/wire/icmp.js';

const hex = (s: string): Uint8Array => new Uint8Array(s.replace(/\s+/g, '').match(/../g)!.map((b) => parseInt(b, 16)));

describe('ethernet', () => {
  const frame = hex('ffffffffffff 020000000001 0806');
  it('parses and emits a header', () => {
    const f = EthernetFrame.checked(frame);
    expect(formatMac(f.dst)).toBe('ff:ff:ff:ff:ff:ff');
    expect(formatMac(f.src)).toBe('02:00:00:00:00:01');
    expect(f.etherType).toBe(EtherType.ARP);
    expect(f.isDstGroup()).toBe(true);
    const out = new Uint8Array(14);
    emitEthernet(parseEthernet(f), out);
    expect(out).toEqual(frame);
  });
  it('rejects a runt', () => {
    expect(() => EthernetFrame.checked(frame.subarray(0, 13))).toThrow(RangeError);
  });
  it('parses MACs and packs them into words', () => {
    const mac = parseMac('02:AB:cd:00:10:ff')!;
    expect(formatMac(mac)).toBe('02:ab:cd:00:10:ff');
    expect(parseMac('02:ab:cd:00:10')).toBeUndefined();
    const out = new Uint8Array(6);
    writeMacWords(out, 0, macHi(mac), macLo(mac));
    expect(out).toEqual(mac);
  });
});

describe('ipv4', () => {
  // RFC 1071-style example header (192.168.0.1 -> 192.168.0.199, UDP) with checksum 0xb861.
  const header = hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');
  it('verifies and parses a known header', () => {
    const buf = new Uint8Array(0x73);
    buf.set(header);
    const p = Ipv4Packet.checked(buf);
    expect(p.checksum).toBe(0xb861);
    expect(parseIpv4(p)).toMatchObject({ src: 0xc0a80001, dst: 0xc0a800c7, protocol: 17, payloadLen: 0x73 - 20, ttl: 64 });
    expect(p.dontFragment).toBe(true);
    expect(p.isFragment()).toBe(false);
  });
  it('emits the same bytes', () => {
    const out = new Uint8Array(20);
    emitIpv4({ src: 0xc0a80001, dst: 0xc0a800c7, protocol: 17, payloadLen: 0x73 - 20, ttl: 64 }, out);
    expect(out).toEqual(header);
  });
  it('classifies each malformation', () => {
    const good = new Uint8Array(0x73);
    good.set(header);
    const check = (mutate: (b: Uint8Array) => void, len = good.length): number => {
      const b = good.slice();
      mutate(b);
      return new Ipv4Packet(b, 0, len).check(true);
    };
    expect(check(() => {}, 19)).toBe(Ipv4Check.TRUNCATED);
    expect(check((b) => (b[0] = 0x65))).toBe(Ipv4Check.BAD_VERSION);
    expect(check((b) => (b[0] = 0x44))).toBe(Ipv4Check.BAD_IHL);
    expect(check((b) => (b[0] = 0x4f), 40)).toBe(Ipv4Check.BAD_IHL);
    expect(check((b) => (b[3] = 0x74))).toBe(Ipv4Check.LENGTH_EXCEEDS_DATA);
    expect(check((b) => ((b[2] = 0), (b[3] = 10)))).toBe(Ipv4Check.BAD_LENGTH);
    expect(check((b) => (b[8] = 63))).toBe(Ipv4Check.BAD_CHECKSUM);
    expect(check(() => {})).toBe(Ipv4Check.OK);
  });
  it('fills the checksum after a change', () => {
    const b = header.slice();
    const p = new Ipv4Packet(b, 0, 20);
    p.ttl = 1;
    expect(p.verifyChecksum()).toBe(false);
    p.fillChecksum();
    expect(p.verifyChecksum()).toBe(true);
  });
  it('parses addresses and prefixes', () => {
    expect(parseIp4('10.0.0.1')).toBe(0x0a000001);
    expect(parseIp4('256.0.0.1')).toBeUndefined();
    expect(ip4ToString(0xc0a800c7)).toBe('192.168.0.199');
    expect(parseIp4Prefix('10.1.2.3/24')).toEqual({ addr: 0x0a010203, len: 24 });
    expect(parseIp4Prefix('10.1.2.3/33')).toBeUndefined();
    expect(prefixMask(24)).toBe(0xffffff00);
    expect(prefixMask(0)).toBe(0);
    expect(prefixMask(32)).toBe(0xffffffff);
  });
});

describe('arp', () => {
  // Request: who has 10.0.0.1? tell 10.0.0.2 (02:00:00:00:00:02)
  const request = hex('0001 0800 06 04 0001 020000000002 0a000002 000000000000 0a000001');
  it('parses a request and round-trips', () => {
    const p = ArpPacket.checked(request);
    const repr = parseArp(p);
    expect(repr.operation).toBe(ArpOperation.REQUEST);
    expect(formatMac(repr.senderHw)).toBe('02:00:00:00:00:02');
    expect(repr.senderIp).toBe(0x0a000002);
    expect(repr.targetIp).toBe(0x0a000001);
    const out = new Uint8Array(28);
    emitArp(repr, out);
    expect(out).toEqual(request);
  });
  it('rejects truncated, non-Ethernet/IPv4 and unknown operations', () => {
    expect(new ArpPacket(request, 0, 27).check()).toBe(ArpCheck.TRUNCATED);
    const b = request.slice();
    b[1] = 6;
    expect(new ArpPacket(b).check()).toBe(ArpCheck.UNSUPPORTED);
    const c = request.slice();
    c[7] = 3;
    expect(new ArpPacket(c).check()).toBe(ArpCheck.BAD_OPERATION);
  });
});

describe('icmp', () => {
  // Echo request id 0x1234 seq 1 payload "abcd", checksum field zero.
  const echo = hex('0800 0000 1234 0001 61626364');
  it('fills and verifies the checksum, parses echo', () => {
    const b = echo.slice();
    const p = new IcmpPacket(b);
    expect(p.check(true)).toBe(IcmpCheck.BAD_CHECKSUM);
    p.fillChecksum();
    // The complement of the folded sum of the message's 16-bit words, computed independently here.
    let sum = 0x0800 + 0x1234 + 0x0001 + 0x6162 + 0x6364;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    expect(p.checksum).toBe(~sum & 0xffff);
    expect(p.check(true)).toBe(IcmpCheck.OK);
    expect(parseIcmp(p)).toEqual({ kind: 'echo-request', ident: 0x1234, seq: 1, data: hex('61626364') });
    const out = new Uint8Array(12);
    emitIcmp({ kind: 'echo-request', ident: 0x1234, seq: 1, data: hex('61626364') }, out);
    expect(out).toEqual(b);
  });
  it('emits destination unreachable carrying the original header', () => {
    const original = hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7 0102030405060708');
    const out = new Uint8Array(8 + original.length);
    emitIcmp({ kind: 'dest-unreachable', code: 2, original }, out);
    const p = IcmpPacket.checked(out);
    expect(p.type).toBe(3);
    expect(parseIcmp(p)).toEqual({ kind: 'dest-unreachable', code: 2, original });
    expect(new IcmpPacket(out, 0, 7).check(false)).toBe(IcmpCheck.TRUNCATED);
  });
});
