import { describe, expect, it } from 'vitest';
import { TokenInput, tokenize } from '../../../src/control/token-input.js';
import { parseTorSection } from '../../../plugins/tor/config.js';

const parse = (text: string) => parseTorSection(new TokenInput(tokenize(text, true), 'tor'));
const AUTH = 'auth0 orport=5000 no-v2 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 127.0.0.1:7000 AAAABBBBCCCCDDDDEEEEFFFF0000111122223333';

describe('tor { } stanza', () => {
  it('has safe defaults: disabled, port 9050, embedded, safe-logging on', () => {
    const c = parse('');
    expect(c).toMatchObject({ enabled: false, socksPort: 9050, socksAddress: 0, backend: { kind: 'embedded' }, safeLogging: true, maxConnections: 1024 });
    expect(c.isolateClientAddr && c.isolateSocksAuth).toBe(true);
  });

  it('parses every key', () => {
    const c = parse(`enabled socks-port 9150 socks-address 10.77.0.1 backend managed tor-binary /usr/sbin/tor
      data-dir /tmp/d cache-dir /tmp/c max-connections 200 safe-logging off dir-authority "${AUTH}" test-network on
      allow-client 10.77.0.0/24 safe-socks on extended-errors on handshake-timeout 5 isolate-dest-port on ring-size 64k congestion-control off conflux off`);
    expect(c).toMatchObject({
      enabled: true,
      socksPort: 9150,
      socksAddress: 0x0a4d0001,
      backend: { kind: 'managed', torBinary: '/usr/sbin/tor' },
      dataDir: '/tmp/d',
      cacheDir: '/tmp/c',
      maxConnections: 200,
      safeLogging: false,
      dirAuthorities: [AUTH],
      testNetwork: true,
      allowedClients: [{ addr: 0x0a4d0000, len: 24 }],
      safeSocks: true,
      extendedErrors: true,
      handshakeTimeoutMs: 5000,
      isolateDestPort: true,
      ringSize: 65536,
      congestionControl: 'off',
      conflux: 'off',
    });
    expect(parse('backend external 127.0.0.1:9150').backend).toEqual({ kind: 'external', socksHost: '127.0.0.1', socksPort: 9150 });
    expect(parse('backend external [::1]:9150').backend).toEqual({ kind: 'external', socksHost: '::1', socksPort: 9150 });
  });

  it('refuses the direct backend without the acknowledgement, and bad values, naming them', () => {
    expect(() => parse('backend direct')).toThrow(/tor: backend direct is not anonymous/);
    expect(parse('backend direct i-understand-this-is-not-anonymous').backend).toEqual({ kind: 'direct' });
    expect(() => parse('socks-port 70000')).toThrow(/tor: SOCKS port expected/);
    expect(() => parse('backend external nowhere')).toThrow("tor: backend external: bad address `nowhere'");
    expect(() => parse('dir-authority "hello"')).toThrow(/not a DirAuthority line/);
    expect(() => parse('safe-logging maybe')).toThrow(/on or off expected/);
    expect(() => parse('ring-size 5000')).toThrow(/power of two/);
    expect(parse('').congestionControl).toBe('auto');
    expect(() => parse('congestion-control vegas')).toThrow(/auto or off expected/);
    expect(parse('').conflux).toBe('auto');
    expect(() => parse('conflux always')).toThrow(/conflux: auto or off expected/);
    expect(() => parse('enabled frobnicate 3')).toThrow("tor: unknown input `frobnicate 3'");
  });
});
