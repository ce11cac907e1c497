import { describe, expect, it } from 'vitest';
import { internetChecksum, onesComplementSum, pseudoHeaderSum, checksumAdjust } from '../../../src/net/wire/checksum.js';
import { emitTcp, parseTcp, TcpFlag, TcpOptions, TcpView, TcpWireError, tcpReprLength, type TcpRepr } from '../../../src/net/wire/tcp.js';

describe('internet checksum', () => {
  it('matches the RFC 1071 example', () => {
    const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(onesComplementSum(b, 0, 8)).toBe(0xddf2);
    expect(internetChecksum(b, 0, 8)).toBe(~0xddf2 & 0xffff);
  });
  it('handles odd lengths and pseudo-header folding', () => {
    const b = Uint8Array.from([1, 2, 3]);
    expect(onesComplementSum(b, 0, 3)).toBe(0x0102 + 0x0300);
    expect(pseudoHeaderSum(0xc0a80001, 0xc0a800c7, 6, 20)).toBe((0xc0a8 + 0x0001 + 0xc0a8 + 0x00c7 + 6 + 20) % 0xffff);
  });
  it('incremental adjust equals recomputation', () => {
    const b = Uint8Array.from([0x45, 0, 0, 0x54, 0x12, 0x34, 0, 0, 0x40, 1, 0, 0]);
    const c = internetChecksum(b, 0, 12);
    b[8] = 0x3f;
    expect(checksumAdjust(c, 0x4001, 0x3f01)).toBe(internetChecksum(b, 0, 12));
  });
});

describe('TcpView', () => {
  const repr: TcpRepr = {
    srcPort: 40000, dstPort: 9050, seq: 0xfffffff0, ack: 12345, flags: TcpFlag.SYN | TcpFlag.ACK, window: 65535, urgent: 0,
    mss: 1460, wscale: 7, sackPermitted: true, timestamp: { tsVal: 111, tsEcr: 222 }, payload: new Uint8Array(0),
  };
  it('round-trips a SYN with every option and a valid checksum', () => {
    const buf = new Uint8Array(100);
    const n = emitTcp(repr, buf, 4, 0x0a000001, 0x0a000002);
    expect(n).toBe(tcpReprLength(repr));
    expect(n).toBe(20 + 4 + 12 + 4);
    const v = new TcpView();
    expect(v.reset(buf, 4, n)).toBe(TcpWireError.None);
    expect(v.verifyChecksum(0x0a000001, 0x0a000002)).toBe(true);
    expect(v.verifyChecksum(0x0a000001, 0x0a000003)).toBe(false);
    const p = parseTcp(buf, 4, n);
    expect(p.ok && p.value).toEqual(repr);
  });
  it('round-trips SACK blocks with timestamps and payload', () => {
    const r: TcpRepr = { ...repr, flags: TcpFlag.ACK, mss: undefined, wscale: undefined, sackPermitted: undefined,
      sackBlocks: [[100, 200], [300, 400], [0xfffffff0, 5]], payload: Uint8Array.from([1, 2, 3]) };
    delete r.mss; delete r.wscale; delete r.sackPermitted;
    const buf = new Uint8Array(100);
    const n = emitTcp(r, buf, 0, 1, 2);
    expect(n).toBe(20 + 12 + 28 + 3);
    const p = parseTcp(buf, 0, n);
    expect(p.ok && p.value).toEqual(r);
  });
  it('rejects truncated headers, bad data offsets and malformed options', () => {
    const v = new TcpView();
    expect(v.reset(new Uint8Array(19), 0, 19)).toBe(TcpWireError.Truncated);
    const b = new Uint8Array(24);
    b[12] = 4 << 4;
    expect(v.reset(b, 0, 24)).toBe(TcpWireError.BadDataOffset);
    b[12] = 8 << 4;
    expect(v.reset(b, 0, 24)).toBe(TcpWireError.Truncated);
    b[12] = 6 << 4;
    b[20] = 2; b[21] = 9; // MSS with a length running past the header
    expect(v.reset(b, 0, 24)).toBe(TcpWireError.None);
    expect(v.parseOptions(new TcpOptions())).toBe(TcpWireError.BadOption);
    b[20] = 3; b[21] = 3; b[22] = 20; b[23] = 0; // window scale 20 → clamped to 14
    const o = new TcpOptions();
    expect(v.parseOptions(o)).toBe(TcpWireError.None);
    expect(o.wscale).toBe(14);
  });
});

describe('checksum fast path', () => {
  it('agrees with a reference byte-wise sum for every alignment and length', () => {
    const ref = (b: Uint8Array, s: number, e: number) => {
      let sum = 0;
      for (let i = s; i < e; i += 2) sum += (b[i]! << 8) | (i + 1 < e ? b[i + 1]! : 0);
      while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
      return sum;
    };
    const big = new Uint8Array(4096);
    for (let i = 0; i < big.length; i++) big[i] = (i * 131 + 7) & 0xff;
    for (const off of [0, 1, 2, 3, 4, 5]) {
      for (const len of [0, 1, 63, 64, 65, 100, 1499, 1500, 4000]) {
        if (off + len > big.length) continue;
        const view = big.subarray(off);
        expect(onesComplementSum(view, 0, len)).toBe(ref(view, 0, len));
        expect(onesComplementSum(big, off, off + len, 0x1234)).toBe(foldRef(ref(big, off, off + len) + 0x1234));
      }
    }
    const ff = new Uint8Array(2048).fill(0xff);
    expect(onesComplementSum(ff, 0, 2048)).toBe(0xffff);
  });
});

function foldRef(x: number): number { while (x > 0xffff) x = (x & 0xffff) + (x >>> 16); return x; }
