import { describe, expect, it } from 'vitest';
import { parseDirAuthorityLine, parsePortPolicy, policyAllowsAnyPort, policyAllowsPort, formatPortPolicy } from '../../../../src/tor/netdoc/index.js';
import { dirAuthorityLines } from './fixtures.js';

describe('DirAuthority lines', () => {
  it('parses the lines the private network used', () => {
    const a = parseDirAuthorityLine(dirAuthorityLines()[0]!);
    expect(a.nickname).toBe('auth0');
    expect(a.v3ident).toMatch(/^[0-9A-F]{40}$/);
    expect(a.address).toBe('127.0.0.1');
    expect(a.orPort).toBeGreaterThan(0);
    expect(a.dirPort).toBeGreaterThan(0);
    expect(a.rsaFingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(a.flags).toEqual(['no-v2']);
  });

  it('accepts C tor variants: no nickname, split fingerprint, ipv6', () => {
    const a = parseDirAuthorityLine(
      'orport=443 v3ident=D586D18309DED4CD6D57C18FDB97EFA96D330566 ipv6=[2001:638:a000:4140::ffff:189]:443 86.59.21.38:80 847B 1F85 0344 D787 6491 A548 92F9 0493 4E4E B85D',
    );
    expect(a.nickname).toBeUndefined();
    expect(a.rsaFingerprint).toBe('847B1F850344D7876491A54892F904934E4EB85D');
    expect(a.ipv6OrAddress).toBe('[2001:638:a000:4140::ffff:189]:443');
    expect(a.dirPort).toBe(80);
  });

  it('rejects bad lines', () => {
    expect(() => parseDirAuthorityLine('auth0 orport=1 127.0.0.1:80 ABCD')).toThrow(/fingerprint/);
    expect(() => parseDirAuthorityLine('auth0 orport=1 v3ident=XYZ 127.0.0.1:80 ' + 'A'.repeat(40))).toThrow(/v3ident/);
    expect(() => parseDirAuthorityLine('auth0 bogus=1 127.0.0.1:80 ' + 'A'.repeat(40))).toThrow(/unknown flag/);
    expect(() => parseDirAuthorityLine('auth0 ' + 'A'.repeat(40))).toThrow(/address/);
  });
});

describe('port policy summaries', () => {
  it('matches accept and reject lists', () => {
    const acc = parsePortPolicy('accept', '20-23,43,53,79-81,88');
    expect([20, 23, 43, 80, 88].map((p) => policyAllowsPort(acc, p))).toEqual([true, true, true, true, true]);
    expect([19, 24, 82, 65535].map((p) => policyAllowsPort(acc, p))).toEqual([false, false, false, false]);
    const rej = parsePortPolicy('reject', '25,119,135-139');
    expect(policyAllowsPort(rej, 25)).toBe(false);
    expect(policyAllowsPort(rej, 80)).toBe(true);
    expect(policyAllowsAnyPort(parsePortPolicy('reject', '1-65535'))).toBe(false);
    expect(formatPortPolicy(acc)).toBe('accept 20-23,43,53,79-81,88');
  });

  it('refuses malformed lists', () => {
    for (const bad of ['', '0', '80-79', '65536', '80,80', '90,80', 'a', '1-2-3']) {
      expect(() => parsePortPolicy('accept', bad)).toThrow();
    }
    expect(() => parsePortPolicy('allow', '80')).toThrow();
  });
});
