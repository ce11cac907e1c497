import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  allSocksCounters,
  clientAllowed,
  DEFAULT_ISOLATION,
  endReasonToSocks5Reply,
  formatIpv6,
  isolationKey,
  isValidDestination,
  parseIpv4Prefix,
  parseIpv6,
  parseSocks5Request,
  SOCKS5_REPLY_COUNTERS,
  STREAM_END_COUNTERS,
  StreamEndReason,
  encodeSocks5Reply,
  socks5Client,
  type SocksTarget,
} from '../../../src/socks/index.js';
import { hex, open, opens, sent, toHex } from './helpers.js';

const target: fc.Arbitrary<SocksTarget> = fc.oneof(
  fc.record({ kind: fc.constant('ipv4' as const), addr: fc.ipV4(), port: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({
    kind: fc.constant('ipv6' as const),
    addr: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIpv6(b)),
    port: fc.integer({ min: 0, max: 65535 }),
  }),
  fc.record({
    kind: fc.constant('host' as const),
    host: fc.domain().filter((d) => d.length <= 255),
    port: fc.integer({ min: 0, max: 65535 }),
  }),
);

describe('addresses', () => {
  it('IPv6 text form is RFC 5952 and round-trips', () => {
    expect(formatIpv6(hex('20010db8000000000000000000000001'))).toBe('2001:db8::1');
    expect(formatIpv6(hex('00000000000000000000000000000000'))).toBe('::');
    expect(formatIpv6(hex('20010db8000100000001000000000001'))).toBe('2001:db8:1:0:1::1');
    expect(toHex(parseIpv6('::ffff:1.2.3.4')!)).toBe('00000000000000000000ffff01020304');
    expect(parseIpv6('1::2::3')).toBeUndefined();
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      expect(toHex(parseIpv6(formatIpv6(b))!)).toBe(toHex(b));
    }));
  });

  it('destination validity', () => {
    for (const ok of ['example.com', 'example.com.', 'a_b-c.onion', '1.2.3.4', '[::1]', '::1']) expect(isValidDestination(ok)).toBe(true);
    for (const bad of ['', '.', 'a..b', 'a b', 'x\u0000', 'é.com', 'a'.repeat(64) + '.com', '-'.repeat(256)]) expect(isValidDestination(bad)).toBe(false);
  });
});

describe('policy', () => {
  it('prefixes', () => {
    expect(parseIpv4Prefix('10.0.0.0/8')).toEqual({ addr: 0x0a000000, len: 8 });
    expect(parseIpv4Prefix('1.2.3.4')).toEqual({ addr: 0x01020304, len: 32 });
    expect(parseIpv4Prefix('1.2.3.256/8')).toBeUndefined();
    expect(parseIpv4Prefix('1.2.3.4/33')).toBeUndefined();
    const p = [parseIpv4Prefix('10.77.0.0/24')!, parseIpv4Prefix('127.0.0.1/32')!];
    expect(clientAllowed(p, 0x0a4d00fe)).toBe(true);
    expect(clientAllowed(p, 0x0a4d01fe)).toBe(false);
    expect(clientAllowed(p, 0x7f000001)).toBe(true);
    expect(clientAllowed([{ addr: 0, len: 0 }], 0xffffffff)).toBe(true);
    expect(clientAllowed(undefined, 0)).toBe(true);
  });

  it('isolation flags select which fields separate streams', () => {
    const base = { listenerId: 1, clientAddr: 1, protocol: 'socks5' as 'socks4' | 'socks4a' | 'socks5', target: { kind: 'host' as const, host: 'a.com', port: 80 } };
    const k = (flags = DEFAULT_ISOLATION, over: Partial<typeof base> & { auth?: { username: Uint8Array; password: Uint8Array }; sessionGroup?: number } = {}) =>
      isolationKey(flags, { ...base, ...over });
    expect(k()).toBe(k());
    expect(k(undefined, { listenerId: 2 })).not.toBe(k());
    expect(k(undefined, { clientAddr: 2 })).not.toBe(k());
    expect(k({ ...DEFAULT_ISOLATION, clientAddr: false }, { clientAddr: 2 })).toBe(k({ ...DEFAULT_ISOLATION, clientAddr: false }));
    expect(k(undefined, { target: { kind: 'host', host: 'b.com', port: 81 } })).toBe(k());
    const dest = { ...DEFAULT_ISOLATION, destAddr: true };
    expect(k(dest, { target: { kind: 'host', host: 'b.com', port: 80 } })).not.toBe(k(dest));
    expect(k(dest, { target: { kind: 'host', host: 'a.com', port: 81 } })).toBe(k(dest));
    const port = { ...DEFAULT_ISOLATION, destPort: true };
    expect(k(port, { target: { kind: 'host', host: 'a.com', port: 81 } })).not.toBe(k(port));
    expect(k(undefined, { sessionGroup: 3 })).not.toBe(k());
    const proto = { ...DEFAULT_ISOLATION, clientProtocol: true };
    expect(k(proto, { protocol: 'socks4a' })).not.toBe(k(proto));
    expect(k(undefined, { protocol: 'socks4a' })).toBe(k());
  });
});

describe('counter tables', () => {
  it('every reply code and END reason has a descriptor with a unique name', () => {
    for (const code of [0, 1, 2, 3, 4, 5, 6, 7, 8, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7]) {
      expect(SOCKS5_REPLY_COUNTERS.get(code as never)).toBeDefined();
    }
    for (const r of Object.values(StreamEndReason)) expect(STREAM_END_COUNTERS.get(r)).toBeDefined();
    const all = allSocksCounters();
    expect(new Set(all.map((c) => c.name)).size).toBe(all.length);
    for (const c of all) {
      expect(c.name).toMatch(/^[a-z0-9-]+$/);
      expect(['error', 'warn', 'info']).toContain(c.severity);
      expect(c.description.length).toBeGreaterThan(0);
    }
    expect(endReasonToSocks5Reply(999)).toBe(1);
  });
});

describe('SOCKS5 client codec', () => {
  it('encodes greetings, auth and requests', () => {
    expect(toHex(socks5Client.encodeGreeting())).toBe('050100');
    expect(toHex(socks5Client.encodeGreeting([0, 2]))).toBe('05020002');
    expect(toHex(socks5Client.encodeUserPassAuth('ab', 'c'))).toBe('0102616201' + '63');
    expect(toHex(socks5Client.encodeConnect({ kind: 'host', host: 'a.b', port: 443 }))).toBe('050100030361' + '2e62' + '01bb');
    expect(toHex(socks5Client.encodeRequest('resolve_ptr', { kind: 'ipv4', addr: '1.2.3.4', port: 0 }))).toBe('05f1000101020304' + '0000');
    expect(() => socks5Client.encodeConnect({ kind: 'host', host: '', port: 1 })).toThrow();
    expect(() => socks5Client.encodeUserPassAuth('x'.repeat(256), '')).toThrow();
  });

  it('decodes replies incrementally', () => {
    expect(socks5Client.decodeMethodSelection(hex('05'))).toEqual({ status: 'incomplete' });
    expect(socks5Client.decodeMethodSelection(hex('0502'))).toEqual({ status: 'ok', value: 2, consumed: 2 });
    expect(socks5Client.decodeAuthReply(hex('0101'))).toEqual({ status: 'ok', value: false, consumed: 2 });
    const r = hex('0500000101020304005041');
    for (let i = 0; i < 10; i++) expect(socks5Client.decodeReply(r.subarray(0, i)).status).toBe('incomplete');
    expect(socks5Client.decodeReply(r)).toEqual({ status: 'ok', value: { code: 0, bound: { kind: 'ipv4', addr: '1.2.3.4', port: 80 } }, consumed: 10 });
    // C tor's failed RESOLVE reply: ATYP 0.
    expect(socks5Client.decodeReply(hex('05040000000000000000'))).toMatchObject({ status: 'ok', value: { code: 4 }, consumed: 10 });
    expect(socks5Client.decodeReply(hex('0600000100000000000'.padEnd(20, '0'))).status).toBe('error');
  });

  it('requests round-trip through the server parser; replies through the client decoder', () => {
    fc.assert(fc.property(target, fc.constantFrom('connect', 'resolve', 'resolve_ptr') as fc.Arbitrary<'connect' | 'resolve' | 'resolve_ptr'>, (t, cmd) => {
      const bytes = socks5Client.encodeRequest(cmd, t);
      const p = parseSocks5Request(bytes);
      expect(p).toEqual({ status: 'ok', value: { command: { connect: 1, resolve: 0xf0, resolve_ptr: 0xf1 }[cmd], target: t }, consumed: bytes.length });
      const reply = encodeSocks5Reply(0, t);
      expect(socks5Client.decodeReply(reply)).toEqual({ status: 'ok', value: { code: 0, bound: t }, consumed: reply.length });
    }));
  });

  it('drives the server engine end to end', () => {
    const { session } = open();
    const a = session.receive(socks5Client.encodeGreeting([0, 2]), 0);
    const m = socks5Client.decodeMethodSelection(hex(sent(a)));
    expect(m).toMatchObject({ status: 'ok', value: 2 });
    const b = session.receive(socks5Client.encodeUserPassAuth('iso', '1'), 0);
    expect(socks5Client.decodeAuthReply(hex(sent(b)))).toMatchObject({ status: 'ok', value: true });
    const c = session.receive(socks5Client.encodeConnect({ kind: 'host', host: 'x.onion', port: 80 }), 0);
    expect(opens(c)[0]!.target).toEqual({ kind: 'host', host: 'x.onion', port: 80 });
    const d = socks5Client.decodeReply(hex(sent(session.connected())));
    expect(d).toMatchObject({ status: 'ok', value: { code: 0 } });
  });
});
