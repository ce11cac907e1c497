import { describe, expect, it } from 'vitest';
import { StreamEndReason, HTTP_NOT_A_PROXY_RESPONSE, SocksEvent, MAX_HANDSHAKE_MESSAGE } from '../../../src/socks/index.js';
import { closed, counters, forwarded, hex, open, opens, sent, toHex } from './helpers.js';

const GREET_NOAUTH = '050100';
const CONNECT_V4 = '05010001 7f000001 0050'; // 127.0.0.1:80
const CONNECT_HOST = '05010003 0b 6578616d706c652e636f6d 01bb'; // example.com:443
const CONNECT_V6 = '05010004 20010db8000000000000000000000001 0016'; // [2001:db8::1]:22

describe('SOCKS5 CONNECT', () => {
  it('no-auth CONNECT to an IPv4 address, then success reply', () => {
    const { session } = open();
    let a = session.receive(hex(GREET_NOAUTH), 1);
    expect(sent(a)).toBe('0500');
    a = session.receive(hex(CONNECT_V4), 2);
    expect(opens(a)).toEqual([expect.objectContaining({ command: 'connect', protocol: 'socks5', target: { kind: 'ipv4', addr: '127.0.0.1', port: 80 } })]);
    expect(counters(a)).toContain(SocksEvent.REQUEST_CONNECT);
    expect(session.state).toBe('awaiting-connect');
    a = session.connected();
    expect(sent(a)).toBe('05000001000000000000');
    expect(counters(a)).toEqual(['socks5-reply-succeeded']);
    expect(session.state).toBe('established');
    expect(forwarded(session.receive(hex('abcd'), 3))).toBe('abcd');
  });

  it('domain and IPv6 targets parse; bound address is reported', () => {
    let { session } = open();
    let a = session.receive(hex(GREET_NOAUTH + CONNECT_HOST), 1);
    expect(opens(a)[0]!.target).toEqual({ kind: 'host', host: 'example.com', port: 443 });
    expect(sent(session.connected({ kind: 'ipv4', addr: '10.1.2.3', port: 0x1234 }))).toBe('050000010a0102031234');

    ({ session } = open());
    a = session.receive(hex(GREET_NOAUTH + CONNECT_V6), 1);
    expect(opens(a)[0]!.target).toEqual({ kind: 'ipv6', addr: '2001:db8::1', port: 22 });
    expect(sent(session.connected({ kind: 'ipv6', addr: '::1', port: 1 }))).toBe('0500000400000000000000000000000000000001' + '0001');
  });

  it('handles a handshake split into single bytes', () => {
    const { session } = open();
    const bytes = hex(GREET_NOAUTH + CONNECT_HOST);
    const all = [];
    for (let i = 0; i < bytes.length; i++) all.push(...session.receive(bytes.subarray(i, i + 1), i));
    expect(sent(all)).toBe('0500');
    expect(opens(all)).toHaveLength(1);
    expect(session.bufferedBytes).toBe(0);
  });

  it('keeps optimistic data sent with the request and after it', () => {
    const { session } = open();
    const a = session.receive(hex(GREET_NOAUTH + CONNECT_HOST + '474554'), 1);
    expect(opens(a)).toHaveLength(1);
    expect(forwarded(a)).toBe('474554');
    expect(counters(a)).toContain(SocksEvent.OPTIMISTIC_DATA);
    const b = session.receive(hex('2020'), 2);
    expect(forwarded(b)).toBe('2020');
    expect(counters(b)).not.toContain(SocksEvent.OPTIMISTIC_DATA);
    expect(session.clientEof()).toEqual([{ type: 'forward-eof' }]);
    expect(sent(session.connected())).toBe('05000001000000000000');
  });

  it('refuses BIND and UDP ASSOCIATE with 0x07, unknown commands with 0x01 (as C tor)', () => {
    for (const cmd of ['02', '03']) {
      const { session } = open();
      const a = session.receive(hex(GREET_NOAUTH + `05${cmd}0001 7f000001 0050`), 1);
      expect(sent(a)).toBe('0500' + '05070001000000000000');
      expect(counters(a)).toContain('socks5-reply-command-not-supported');
      expect(closed(a)).toBe(true);
      expect(opens(a)).toHaveLength(0);
    }
    const a = open().session.receive(hex(GREET_NOAUTH + '05090001 7f000001 0050'), 1);
    expect(sent(a)).toBe('0500' + '05010001000000000000');
    expect(counters(a)).toContain(SocksEvent.BAD_REQUEST);
  });

  it('refuses an unknown address type with 0x08', () => {
    const { session } = open();
    const a = session.receive(hex(GREET_NOAUTH + '05010002 00'), 1);
    expect(sent(a)).toBe('0500' + '05080001000000000000');
    expect(counters(a)).toContain('socks5-reply-address-type-not-supported');
    expect(closed(a)).toBe(true);
  });

  it('refuses invalid hostnames with general failure', () => {
    for (const host of ['', 'a b', 'exa\u0000mple', 'bad..name', 'h\u00e9llo']) {
      const { session } = open();
      const name = Buffer.from(host, 'latin1');
      const req = Uint8Array.of(5, 1, 0, 3, name.length, ...name, 0, 80);
      const a = session.receive(Uint8Array.of(5, 1, 0, ...req), 1);
      expect(sent(a)).toBe('0500' + '05010001000000000000');
      expect(counters(a)).toContain(SocksEvent.INVALID_HOSTNAME);
      expect(closed(a)).toBe(true);
    }
  });

  it('answers no-acceptable-methods with 0xFF and closes', () => {
    const { session } = open();
    const a = session.receive(hex('050101'), 1); // GSSAPI only
    expect(sent(a)).toBe('05ff');
    expect(counters(a)).toEqual([SocksEvent.NO_ACCEPTABLE_METHOD]);
    expect(closed(a)).toBe(true);
    expect(session.receive(hex('00'), 2)).toEqual([]);
  });

  it('closes on a bad version in the request', () => {
    const { session } = open();
    const a = session.receive(hex(GREET_NOAUTH + '04010001 7f000001 0050'), 1);
    expect(counters(a)).toContain(SocksEvent.BAD_VERSION);
    expect(closed(a)).toBe(true);
  });
});

describe('SOCKS5 username/password (RFC 1929)', () => {
  const auth = (u: string, p: string) => {
    const ub = Buffer.from(u);
    const pb = Buffer.from(p);
    return toHex(Uint8Array.of(1, ub.length, ...ub, pb.length, ...pb));
  };

  it('prefers USERPASS when offered and accepts any credentials, including empty', () => {
    for (const [u, p] of [['alice', 'secret'], ['', '']]) {
      const { session } = open();
      let a = session.receive(hex('05020002'), 1);
      expect(sent(a)).toBe('0502');
      a = session.receive(hex(auth(u!, p!) + CONNECT_V4), 2);
      expect(sent(a)).toBe('0100');
      expect(opens(a)).toHaveLength(1);
    }
  });

  it('preferNoAuth picks NO AUTH when both are offered', () => {
    const { session } = open({ preferNoAuth: true });
    expect(sent(session.receive(hex('05020002'), 1))).toBe('0500');
  });

  it('required credentials: accepts the right pair, refuses others and no-auth', () => {
    const cfg = { requiredCredentials: { username: 'u', password: 'p' } };
    let { session } = open(cfg);
    let a = session.receive(hex('050100'), 1);
    expect(sent(a)).toBe('05ff');
    expect(closed(a)).toBe(true);

    ({ session } = open(cfg));
    a = session.receive(hex('050102' + auth('u', 'x')), 1);
    expect(sent(a)).toBe('0502' + '0101');
    expect(counters(a)).toEqual([SocksEvent.AUTH_FAILED]);
    expect(closed(a)).toBe(true);

    ({ session } = open(cfg));
    a = session.receive(hex('050102' + auth('u', 'p') + CONNECT_V4), 1);
    expect(sent(a)).toBe('0502' + '0100');
    expect(opens(a)).toHaveLength(1);
  });

  it('closes on a bad sub-negotiation version', () => {
    const { session } = open();
    const a = session.receive(hex('050102' + '0500'), 1);
    expect(sent(a)).toBe('0502' + '05010001000000000000');
    expect(counters(a)).toContain(SocksEvent.BAD_AUTH_VERSION);
    expect(closed(a)).toBe(true);
  });

  it('credentials change the isolation key; equal credentials share it', () => {
    const key = (u: string, p: string) => {
      const { session } = open();
      return opens(session.receive(hex('050102' + auth(u, p) + CONNECT_V4), 1))[0]!.isolationKey;
    };
    expect(key('a', 'b')).toBe(key('a', 'b'));
    expect(key('a', 'b')).not.toBe(key('a', 'c'));
    expect(key('ab', '')).not.toBe(key('a', 'b'));
    const { session } = open();
    const noAuth = opens(session.receive(hex(GREET_NOAUTH + CONNECT_V4), 1))[0]!.isolationKey;
    expect(noAuth).not.toBe(key('', ''));
  });
});

describe('SOCKS4 and SOCKS4a', () => {
  it('SOCKS4 CONNECT with a user id; granted reply', () => {
    const { session } = open();
    const a = session.receive(hex('0401 0050 7f000001 626f6200'), 1);
    expect(opens(a)[0]).toMatchObject({ command: 'connect', protocol: 'socks4', target: { kind: 'ipv4', addr: '127.0.0.1', port: 80 } });
    expect(sent(session.connected())).toBe('005a000000000000');
  });

  it('SOCKS4a CONNECT to a hostname', () => {
    const { session } = open();
    const a = session.receive(hex('0401 01bb 00000001 00 6578616d706c652e636f6d00'), 1);
    expect(opens(a)[0]).toMatchObject({ protocol: 'socks4a', target: { kind: 'host', host: 'example.com', port: 443 } });
  });

  it('SOCKS4 failure, BIND, 0.0.0.0 and over-long user id are rejected with 0x5b', () => {
    let { session } = open();
    session.receive(hex('0401 0050 7f000001 00'), 1);
    let a = session.failed(StreamEndReason.CONNECTREFUSED);
    expect(sent(a)).toBe('005b000000000000');
    expect(counters(a)).toEqual(['stream-end-connectrefused', 'socks4-reply-rejected']);

    ({ session } = open());
    a = session.receive(hex('0402 0050 7f000001 00'), 1);
    expect(sent(a)).toBe('005b000000000000');
    expect(closed(a)).toBe(true);

    ({ session } = open());
    a = session.receive(hex('0401 0050 00000000 00'), 1);
    expect(sent(a)).toBe('005b000000000000');

    ({ session } = open());
    a = session.receive(Uint8Array.of(4, 1, 0, 80, 127, 0, 0, 1, ...new Uint8Array(300).fill(0x61)), 1);
    expect(sent(a)).toBe('005b000000000000');
    expect(closed(a)).toBe(true);
    expect(session.bufferedBytes).toBe(0);
  });

  it('SOCKS4 is refused when disabled or when credentials are required', () => {
    let a = open({ allowSocks4: false }).session.receive(hex('0401 0050 7f000001 00'), 1);
    expect(counters(a)).toContain(SocksEvent.SOCKS4_DISABLED);
    a = open({ requiredCredentials: { username: 'a', password: 'b' } }).session.receive(hex('0401 0050 7f000001 00'), 1);
    expect(counters(a)).toContain(SocksEvent.AUTH_FAILED);
    expect(sent(a)).toBe('005b000000000000');
  });

  it('SOCKS4a RESOLVE answers with the address in DSTIP', () => {
    const { session } = open();
    const a = session.receive(hex('04f0 0000 00000001 00 6578616d706c652e636f6d00'), 1);
    expect(opens(a)[0]!.command).toBe('resolve');
    expect(sent(session.resolved({ kind: 'ipv4', addr: '93.184.216.34' }))).toBe('005a00005db8d822');
  });
});

describe('Tor RESOLVE and RESOLVE_PTR', () => {
  it('RESOLVE to IPv4, IPv6, and a failure', () => {
    const req = GREET_NOAUTH + '05f00003 0b 6578616d706c652e636f6d 0000';
    let { session } = open();
    let a = session.receive(hex(req), 1);
    expect(opens(a)[0]!.command).toBe('resolve');
    a = session.resolved({ kind: 'ipv4', addr: '1.2.3.4' });
    expect(sent(a)).toBe('05000001010203040000');
    expect(closed(a)).toBe(true);

    ({ session } = open());
    session.receive(hex(req), 1);
    expect(sent(session.resolved({ kind: 'ipv6', addr: '2001:db8::2' }))).toBe('0500000420010db8000000000000000000000002' + '0000');

    ({ session } = open());
    session.receive(hex(req), 1);
    a = session.resolved({ kind: 'error' });
    expect(sent(a)).toBe('05040001000000000000');
    expect(counters(a)).toEqual(['stream-end-resolvefailed', 'socks5-reply-host-unreachable']);
  });

  it('RESOLVE_PTR of an address answers a hostname', () => {
    const { session } = open({ safeSocks: true });
    const a = session.receive(hex(GREET_NOAUTH + '05f10001 01020304 0000'), 1);
    expect(opens(a)[0]).toMatchObject({ command: 'resolve_ptr', target: { kind: 'ipv4', addr: '1.2.3.4' } });
    expect(sent(session.resolved({ kind: 'host', host: 'a.example' }))).toBe('05000003 09 612e6578616d706c65 0000'.replace(/ /g, ''));
  });

  it('RESOLVE_PTR of a name is refused with 0x08, in-addr.arpa names too (as C tor does); an address text is taken', () => {
    const { session } = open();
    const a = session.receive(hex(GREET_NOAUTH + '05f10003 0b 6578616d706c652e636f6d 0000'), 1);
    expect(sent(a)).toBe('0500' + '05080001000000000000');
    expect(counters(a)).toContain(SocksEvent.INVALID_HOSTNAME);
    const name = Buffer.from('4.3.2.1.in-addr.arpa');
    const b = open().session.receive(Uint8Array.of(5, 1, 0, 5, 0xf1, 0, 3, name.length, ...name, 0, 0), 1);
    expect(opens(b)).toEqual([]);
    expect(sent(b)).toBe('0500' + '05080001000000000000');
    const text = Buffer.from('1.2.3.4');
    const c = open().session.receive(Uint8Array.of(5, 1, 0, 5, 0xf1, 0, 3, text.length, ...text, 0, 0), 1);
    expect(opens(c)[0]).toMatchObject({ command: 'resolve_ptr', target: { kind: 'host', host: '1.2.3.4' } });
  });

  it('bytes after a RESOLVE are dropped and counted once', () => {
    const { session } = open();
    const a = session.receive(hex(GREET_NOAUTH + '05f00003 01 61 0000 ffff'), 1);
    expect(forwarded(a)).toBe('');
    expect(counters(a)).toContain(SocksEvent.TRAILING_DATA);
    expect(counters(session.receive(hex('ff'), 2))).toEqual([]);
  });
});

describe('failures and END reason mapping', () => {
  const cases: [number, string][] = [
    [StreamEndReason.MISC, '01'],
    [StreamEndReason.RESOLVEFAILED, '04'],
    [StreamEndReason.CONNECTREFUSED, '05'],
    [StreamEndReason.EXITPOLICY, '02'],
    [StreamEndReason.DESTROY, '01'],
    [StreamEndReason.DONE, '05'],
    [StreamEndReason.TIMEOUT, '06'],
    [StreamEndReason.NOROUTE, '04'],
    [StreamEndReason.HIBERNATING, '01'],
    [StreamEndReason.INTERNAL, '01'],
    [StreamEndReason.RESOURCELIMIT, '01'],
    [StreamEndReason.CONNRESET, '05'],
    [StreamEndReason.TORPROTOCOL, '01'],
    [StreamEndReason.NOTDIRECTORY, '01'],
  ];
  it.each(cases)('END reason %i -> SOCKS5 reply %s', (reason, code) => {
    const { session } = open();
    session.receive(hex(GREET_NOAUTH + CONNECT_HOST), 1);
    const a = session.failed(reason);
    expect(sent(a)).toBe(`05${code}0001000000000000`);
    expect(counters(a)).toHaveLength(2);
    expect(closed(a)).toBe(true);
  });

  it('extended errors only when the listener enables them', () => {
    let { session } = open({ extendedErrors: true });
    session.receive(hex(GREET_NOAUTH + CONNECT_HOST), 1);
    let a = session.failed(StreamEndReason.MISC, 0xf0);
    expect(sent(a)).toBe('05f00001000000000000');
    expect(counters(a)).toContain('socks5-reply-onion-descriptor-not-found');

    ({ session } = open({ extendedErrors: false }));
    session.receive(hex(GREET_NOAUTH + CONNECT_HOST), 1);
    a = session.failed(StreamEndReason.TIMEOUT, 0xf7);
    expect(sent(a)).toBe('05060001000000000000');
  });

  it('late backend answers after close are ignored', () => {
    const { session } = open();
    session.receive(hex(GREET_NOAUTH + CONNECT_HOST), 1);
    session.failed(StreamEndReason.MISC);
    expect(session.connected()).toEqual([]);
    expect(session.failed(1)).toEqual([]);
    expect(session.resolved({ kind: 'error' })).toEqual([]);
  });
});

describe('listener policy', () => {
  it('safe-socks refuses IP-only requests (SOCKS5, hostname IP literals, SOCKS4) and allows names', () => {
    let a = open({ safeSocks: true }).session.receive(hex(GREET_NOAUTH + CONNECT_V4), 1);
    expect(sent(a)).toBe('0500' + '05020001000000000000');
    expect(counters(a)).toContain(SocksEvent.SAFE_SOCKS_REJECTED);
    a = open({ safeSocks: true }).session.receive(hex(GREET_NOAUTH + '05010003 07 312e322e332e34 0050'), 1);
    expect(counters(a)).toContain(SocksEvent.SAFE_SOCKS_REJECTED);
    a = open({ safeSocks: true }).session.receive(hex('0401 0050 7f000001 00'), 1);
    expect(sent(a)).toBe('005b000000000000');
    expect(counters(a)).toContain(SocksEvent.SAFE_SOCKS_REJECTED);
    a = open({ safeSocks: true }).session.receive(hex(GREET_NOAUTH + CONNECT_HOST), 1);
    expect(opens(a)).toHaveLength(1);
  });

  it('rejectInternalAddresses refuses CONNECT to local and private targets only', () => {
    const cfg = { rejectInternalAddresses: true };
    const connect = (atypAddr: string) => open(cfg).session.receive(hex(GREET_NOAUTH + '050100' + atypAddr + '0050'), 1);
    for (const t of ['017f000001', '010a000001', '01c0a80101', '01ac100001', '01a9fe0101', '0100000000',
      '04' + '00'.repeat(15) + '01', '04fd' + '00'.repeat(15), '04fe80' + '00'.repeat(14), '04' + '00'.repeat(10) + 'ffff7f000001',
      '03' + '09' + Buffer.from('127.0.0.1').toString('hex'), '03' + '09' + Buffer.from('localhost').toString('hex')]) {
      const a = connect(t);
      expect(sent(a)).toBe('0500' + '05010001000000000000');
      expect(counters(a)).toContain(SocksEvent.INTERNAL_ADDRESS_REJECTED);
    }
    for (const t of ['0101020304', '01ac200001', '04' + '2001' + '00'.repeat(13) + '01', '03' + '0b' + Buffer.from('example.com').toString('hex')]) {
      expect(opens(connect(t))).toHaveLength(1);
    }
    expect(opens(open().session.receive(hex(GREET_NOAUTH + CONNECT_V4), 1))).toHaveLength(1); // off by default
  });

  it('clients outside the allowed prefixes are closed at accept', () => {
    const r = open({ allowedClients: [{ addr: 0xc0a80000, len: 16 }] });
    expect(counters(r.actions)).toEqual([SocksEvent.CLIENT_NOT_ALLOWED]);
    expect(closed(r.actions)).toBe(true);
    expect(r.session.receive(hex(GREET_NOAUTH), 1)).toEqual([]);
    expect(open({ allowedClients: [{ addr: 0x0a000000, len: 8 }] }).actions).toEqual([]);
  });

  it('HTTP on the SOCKS port gets the 501 page', () => {
    for (const req of ['GET / HTTP/1.1\r\n', 'CONNECT x:443 HTTP/1.1\r\n', 'POST', 'HEAD']) {
      const { session } = open();
      const a = session.receive(new Uint8Array(Buffer.from(req)), 1);
      expect(sent(a)).toBe(toHex(HTTP_NOT_A_PROXY_RESPONSE));
      expect(Buffer.from(HTTP_NOT_A_PROXY_RESPONSE).toString()).toMatch(/^HTTP\/1\.0 501 Tor is not an HTTP Proxy\r\n/);
      expect(counters(a)).toEqual([SocksEvent.HTTP_REQUEST]);
      expect(closed(a)).toBe(true);
    }
  });

  it('an unknown first byte closes', () => {
    const a = open().session.receive(hex('01'), 1);
    expect(counters(a)).toEqual([SocksEvent.BAD_VERSION]);
    expect(closed(a)).toBe(true);
  });
});

describe('timeouts and bounds', () => {
  it('handshake timeout: deadline reported, fires at it, not before', () => {
    const { session } = open({ handshakeTimeoutMs: 1000 }, 100);
    expect(session.nextDeadline()).toBe(1100);
    session.receive(hex('0501'), 500);
    expect(session.poll(1099)).toEqual([]);
    const a = session.poll(1100);
    expect(counters(a)).toEqual([SocksEvent.HANDSHAKE_TIMEOUT]);
    expect(closed(a)).toBe(true);
    expect(session.nextDeadline()).toBeUndefined();
  });

  it('connect timeout replies TTL expired and aborts the request', () => {
    const { session } = open({ connectTimeoutMs: 2000 });
    session.receive(hex(GREET_NOAUTH + CONNECT_HOST), 10);
    expect(session.nextDeadline()).toBe(2010);
    const a = session.poll(2010);
    expect(a[0]).toEqual({ type: 'abort' });
    expect(sent(a)).toBe('05060001000000000000');
    expect(counters(a)).toContain(SocksEvent.CONNECT_TIMEOUT);
  });

  it('no deadline while waiting without a connect timeout, nor when established', () => {
    const { session } = open();
    session.receive(hex(GREET_NOAUTH + CONNECT_HOST), 10);
    expect(session.nextDeadline()).toBeUndefined();
    session.connected();
    expect(session.poll(1e12)).toEqual([]);
  });

  it('client EOF during the handshake closes and counts', () => {
    const { session } = open();
    session.receive(hex('05'), 1);
    const a = session.clientEof();
    expect(counters(a)).toEqual([SocksEvent.CLIENT_CLOSED]);
    expect(closed(a)).toBe(true);
  });

  it('buffers at most one message, whatever the input', () => {
    const { session } = open();
    session.receive(hex('0401'), 1);
    for (let i = 0; i < 100; i++) {
      session.receive(new Uint8Array(10).fill(0x61), i);
      expect(session.bufferedBytes).toBeLessThanOrEqual(MAX_HANDSHAKE_MESSAGE);
    }
    expect(session.state).toBe('closed');
  });
});
