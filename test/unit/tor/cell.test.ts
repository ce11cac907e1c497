import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hexToBytes, bytesToHex } from '../../../src/tor/bytes/index.js';
import { Reader } from '../../../src/tor/bytes/reader.js';
import { Writer } from '../../../src/tor/bytes/writer.js';
import { BytesError } from '../../../src/tor/bytes/errors.js';
import {
  ChanCmd, ChannelCellDecoder, encodeChannelCell, encodeVersionsBody, decodeVersionsBody, negotiateLinkVersion,
  decodeNetinfoBody, encodeNetinfoBody, decodeAuthChallengeBody, decodeCertsBody, encodeCertsBody,
  encodeCreate2Body, decodeCreate2Body, decodeCreated2Body, encodeCreated2Body, decodeCreatedFastBody,
  decodeDestroyBody, destroyReasonName, DestroyReason, encodeRelayBody, decodeRelayBody, RelayCmd,
  encodeBeginBody, decodeBeginBody, BeginFlags, decodeConnectedBody, encodeConnectedBody, decodeEndBody,
  encodeEndBody, endReasonName, EndReason, encodeSendmeBody, decodeSendmeBody, encodeExtend2Body,
  decodeExtend2Body, decodeExtended2Body, decodeResolvedBody, encodeResolvedBody, encodeResolveBody,
  decodeTruncatedBody, encodeTruncatedBody, RELAY_DATA_MAX, decodeResolveBody,
} from '../../../src/tor/cell/index.js';

const h = hexToBytes;
const hex = bytesToHex;
function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(`unexpected error ${JSON.stringify(r.error)}`);
  return r.value;
}

describe('bytes', () => {
  it('reads big-endian and throws typed errors on truncation', () => {
    const r = new Reader(h('01 0203 04050607 ff'));
    expect([r.u8(), r.u16(), r.u32()]).toEqual([1, 0x0203, 0x04050607]);
    expect(() => r.u16()).toThrow(BytesError);
    expect(r.u8()).toBe(0xff);
    r.expectEnd();
  });
  it('writer enforces capacity and ranges', () => {
    const w = new Writer(3);
    w.u16(0xabcd);
    expect(() => w.u16(1)).toThrow(BytesError);
    expect(() => new Writer().u8(256)).toThrow(BytesError);
    expect(hex(w.finish())).toBe('abcd');
  });
});

describe('channel cells', () => {
  it('encodes the first VERSIONS cell with a 2-byte circuit id', () => {
    const b = unwrap(encodeChannelCell({ circId: 0, command: ChanCmd.VERSIONS, body: encodeVersionsBody([3, 4, 5]) }, 2));
    expect(hex(b)).toBe('0000070006000300040005');
    expect(unwrap(decodeVersionsBody(h('000300040005')))).toEqual([3, 4, 5]);
    expect(negotiateLinkVersion([4, 5], [3, 4, 5])).toBe(5);
    expect(negotiateLinkVersion([4, 5], [1, 2, 3])).toBeNull();
    expect(decodeVersionsBody(h('00030004ff')).ok).toBe(false);
  });
  it('pads fixed cells to 514 bytes on link v4+', () => {
    const b = unwrap(encodeChannelCell({ circId: 0x80000001, command: ChanCmd.CREATE_FAST, body: new Uint8Array(20).fill(7) }, 4));
    expect(b.length).toBe(514);
    expect(hex(b.subarray(0, 6))).toBe('800000010507');
    expect(encodeChannelCell({ circId: 1, command: ChanCmd.RELAY, body: new Uint8Array(510) }, 4).ok).toBe(false);
  });
  it('frames a stream split at every byte boundary, switching to 4-byte ids after VERSIONS', () => {
    const versions = h('0000070006000300040005');
    const certs = unwrap(encodeChannelCell({ circId: 0, command: ChanCmd.CERTS, body: h('00') }, 4));
    const vpad = h('00000000 80 0003 FFFFFF');
    const netinfo = unwrap(encodeChannelCell({ circId: 0, command: ChanCmd.NETINFO, body: h('00000000 04047f000002 01 04047f000003') }, 4));
    const stream = new Uint8Array([...versions, ...certs, ...vpad, ...netinfo]);
    for (let split = 0; split <= stream.length; split += 7) {
      const d = new ChannelCellDecoder({ firstCellShortCircId: true });
      const cells = [...unwrap(d.push(stream.subarray(0, split))), ...unwrap(d.push(stream.subarray(split)))];
      expect(cells.map((c) => c.command)).toEqual([ChanCmd.VERSIONS, ChanCmd.CERTS, ChanCmd.VPADDING, ChanCmd.NETINFO]);
      expect(d.bufferedBytes).toBe(0);
    }
  });
  it('rejects a first cell that is not VERSIONS and stays failed', () => {
    const d = new ChannelCellDecoder({ firstCellShortCircId: true });
    expect(d.push(h('0000 08 00')).ok).toBe(false);
    expect(d.push(h('0000070002 0004')).ok).toBe(false);
  });
  it('bounds buffering: oversize variable cells are refused', () => {
    const d = new ChannelCellDecoder({ maxVarBodyLen: 1024 });
    const r = d.push(h('00000000 81 0801'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('TOO_LARGE');
  });
  it('never throws on random input', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 6 }), fc.boolean(), (chunks, short) => {
        const d = new ChannelCellDecoder({ firstCellShortCircId: short });
        for (const c of chunks) {
          const r = d.push(c);
          if (!r.ok) break;
          expect(d.bufferedBytes).toBeLessThanOrEqual(65535 + 7);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('handshake cells', () => {
  it('NETINFO (arti vector)', () => {
    const body = h('48949290 04047f000002 01 04047f000003');
    const n = unwrap(decodeNetinfoBody(new Uint8Array([...body, ...new Uint8Array(100)])));
    expect(n.time).toBe(0x48949290);
    expect(hex(n.otherAddr!.bytes)).toBe('7f000002');
    expect(n.myAddrs.map((a) => hex(a.bytes))).toEqual(['7f000003']);
    expect(hex(encodeNetinfoBody(n))).toBe(hex(body));
    expect(hex(encodeNetinfoBody({ time: 0, otherAddr: { type: 4, bytes: h('7f000001') }, myAddrs: [] }))).toBe('0000000004047f00000100');
    expect(decodeNetinfoBody(h('00000000 0405 7f000001')).ok).toBe(false);
  });
  it('AUTH_CHALLENGE (arti vector)', () => {
    const a = unwrap(decodeAuthChallengeBody(h('FF'.repeat(32) + '0002 0003 00ff')));
    expect(a.methods).toEqual([3, 255]);
  });
  it('CERTS round trip and truncation', () => {
    const body = encodeCertsBody([{ certType: 4, body: h('0102') }, { certType: 7, body: h('') }]);
    expect(hex(body)).toBe('02040002010207' + '0000');
    expect(unwrap(decodeCertsBody(body)).map((c) => c.certType)).toEqual([4, 7]);
    const bad = decodeCertsBody(h('01 04 0005 0102'));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe('TRUNCATED');
  });
  it('CREATE2 / CREATED2 / CREATED_FAST / DESTROY', () => {
    const c2 = encodeCreate2Body({ handshakeType: 2, handshakeData: h('aabb') });
    expect(hex(c2)).toBe('00020002aabb');
    expect(unwrap(decodeCreate2Body(c2)).handshakeType).toBe(2);
    expect(hex(unwrap(decodeCreated2Body(encodeCreated2Body(h('0102')))))).toBe('0102');
    expect(decodeCreated2Body(h('0040 00')).ok).toBe(false);
    const cf = unwrap(decodeCreatedFastBody(new Uint8Array(509).fill(3)));
    expect(cf.y.length + cf.kh.length).toBe(40);
    expect(unwrap(decodeDestroyBody(h('08')))).toBe(DestroyReason.CHANNEL_CLOSED);
    expect(destroyReasonName(9)).toBe('FINISHED');
    expect(destroyReasonName(200)).toBe('UNKNOWN(200)');
  });
});

describe('relay messages', () => {
  it('relay body layout with zero-then-random padding', () => {
    const b = unwrap(encodeRelayBody({ command: RelayCmd.DATA, streamId: 0x1234, data: h('abcd') }));
    expect(b.length).toBe(509);
    expect(hex(b.subarray(0, 17))).toBe('02' + '0000' + '1234' + '00000000' + '0002' + 'abcd' + '00000000');
    const d = unwrap(decodeRelayBody(b));
    expect([d.command, d.streamId, hex(d.data), d.recognized]).toEqual([2, 0x1234, 'abcd', 0]);
    expect(encodeRelayBody({ command: 2, streamId: 1, data: new Uint8Array(RELAY_DATA_MAX + 1) }).ok).toBe(false);
    const lying = b.slice();
    lying[9] = 0x01; lying[10] = 0xf3; // 499
    expect(decodeRelayBody(lying).ok).toBe(false);
  });
  it('BEGIN (arti vector) with flags and IPv6', () => {
    expect(hex(unwrap(encodeBeginBody({ host: '127.0.0.1', port: 7003, flags: 0 })))).toBe('3132372e302e302e313a3730303300');
    const v6 = unwrap(encodeBeginBody({ host: '2001:db8::1', port: 443, flags: BeginFlags.IPV6_OK | BeginFlags.IPV6_PREFERRED }));
    expect(Buffer.from(v6.subarray(0, v6.indexOf(0))).toString()).toBe('[2001:db8::1]:443');
    expect(hex(v6.subarray(v6.indexOf(0) + 1))).toBe('00000005');
    expect(unwrap(decodeBeginBody(v6))).toEqual({ host: '2001:db8::1', port: 443, flags: 5 });
    expect(encodeBeginBody({ host: 'a b', port: 80, flags: 0 }).ok).toBe(false);
    expect(decodeBeginBody(h('3132373a')).ok).toBe(false);
  });
  it('CONNECTED in all forms (arti vectors)', () => {
    expect(unwrap(decodeConnectedBody(h(''))).kind).toBe('empty');
    const v4 = unwrap(decodeConnectedBody(h('7F000001 00000E10')));
    expect(v4).toEqual({ kind: 'ipv4', addr: h('7f000001'), ttl: 3600 });
    expect(hex(encodeConnectedBody(v4))).toBe('7f00000100000e10');
    const v6body = h('00000000 06 00000000000000000000000000000001 00000E10');
    const v6 = unwrap(decodeConnectedBody(v6body));
    expect(v6.kind).toBe('ipv6');
    expect(hex(encodeConnectedBody(v6))).toBe(hex(v6body));
    expect(decodeConnectedBody(h('00000000 04 7f000001 00000e10')).ok).toBe(false);
  });
  it('END reasons and the exit-policy form (arti vectors)', () => {
    expect(unwrap(decodeEndBody(h('06'))).reason).toBe(EndReason.DONE);
    expect(unwrap(decodeEndBody(h(''))).reason).toBe(EndReason.MISC);
    const ep = unwrap(decodeEndBody(h('04 7f000007 00000100')));
    expect([ep.reason, hex(ep.addr!), ep.ttl]).toEqual([4, '7f000007', 256]);
    expect(hex(encodeEndBody(ep))).toBe('047f00000700000100');
    const names = Array.from({ length: 14 }, (_, i) => endReasonName(i + 1));
    expect(names).toEqual(['MISC', 'RESOLVEFAILED', 'CONNECTREFUSED', 'EXITPOLICY', 'DESTROY', 'DONE', 'TIMEOUT', 'NOROUTE', 'HIBERNATING', 'INTERNAL', 'RESOURCELIMIT', 'CONNRESET', 'TORPROTOCOL', 'NOTDIRECTORY']);
  });
  it('SENDME v0 and v1 (arti vector)', () => {
    expect(hex(encodeSendmeBody({ version: 0 }))).toBe('');
    const tag = h('F01234989823478bcdefabcdef01234567890123');
    const b = encodeSendmeBody({ version: 1, tag });
    expect(hex(b)).toBe('010014' + hex(tag));
    expect(unwrap(decodeSendmeBody(b))).toEqual({ version: 1, tag });
    expect(decodeSendmeBody(h('020014' + hex(tag))).ok).toBe(false);
    expect(decodeSendmeBody(h('010013' + hex(tag))).ok).toBe(false);
  });
  it('EXTEND2 / EXTENDED2 (arti vectors)', () => {
    const hs = h('03479E93EBF3FF2C58C1C9DBF2DE9DE9C2801B3E36A3E0BDB1F1A10579820243DD2E228B902940EB49EF842646E3926768C28410074BEE50A535116D657C6BFB7E5114119DC69F05DF907EF62002EA782B0A357F');
    const body = h('02 00 06 7F0000011388 02 14 03479E93EBF3FF2C58C1C9DBF2DE9DE9C2801B3E 0002 0054') ;
    const full = new Uint8Array([...body, ...hs]);
    const m = unwrap(decodeExtend2Body(full));
    expect(m.linkSpecifiers.length).toBe(2);
    expect(m.handshakeType).toBe(2);
    expect(hex(unwrap(encodeExtend2Body(m)))).toBe(hex(full));
    const withEd = unwrap(encodeExtend2Body({
      linkSpecifiers: [
        { type: 0, addr: h('7f000001'), port: 5000 },
        { type: 1, addr: new Uint8Array(16).fill(1), port: 443 },
        { type: 2, rsaId: new Uint8Array(20).fill(2) },
        { type: 3, ed25519Id: new Uint8Array(32).fill(3) },
      ],
      handshakeType: 2,
      handshakeData: new Uint8Array(84),
    }));
    expect(unwrap(decodeExtend2Body(withEd)).linkSpecifiers.map((l) => l.type)).toEqual([0, 1, 2, 3]);
    expect(decodeExtend2Body(h('01 00 05 7f00000113')).ok).toBe(false);
    const e2 = unwrap(decodeExtended2Body(h('0040' + '00'.repeat(64))));
    expect(e2.length).toBe(64);
  });
  it('RESOLVE / RESOLVED / TRUNCATED', () => {
    expect(unwrap(decodeResolveBody(unwrap(encodeResolveBody('example.com'))))).toBe('example.com');
    const answers = unwrap(decodeResolvedBody(h('04 04 7f000001 00000e10 F0 00 00000E10 00 03 616263 0000003c')));
    expect(answers.map((a) => a.kind)).toEqual(['ipv4', 'error', 'hostname']);
    expect(hex(encodeResolvedBody(answers))).toBe('04047f00000100000e10f00000000e100003616263' + '0000003c');
    expect(decodeResolvedBody(h('04 03 7f0000 00000e10')).ok).toBe(false);
    expect(unwrap(decodeTruncatedBody(encodeTruncatedBody(DestroyReason.OR_IDENTITY)))).toBe(7);
  });
  it('relay decoders never throw on random bodies', () => {
    const decoders = [decodeRelayBody, decodeBeginBody, decodeConnectedBody, decodeEndBody, decodeSendmeBody, decodeExtend2Body, decodeExtended2Body, decodeResolvedBody, decodeNetinfoBody, decodeCertsBody, decodeAuthChallengeBody, decodeCreate2Body];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => {
        for (const d of decoders) expect(typeof d(b).ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
});
