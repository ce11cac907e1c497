import { describe, expect, it } from 'vitest';
import { DEFAULT_DIR_AUTHORITIES, bootstrapStatus, formatBootstrap, reverseLookupName, BOOTSTRAP_PHASES } from '../../../../src/tor/client/index.js';
import { parseDirAuthorityLine } from '../../../../src/tor/netdoc/index.js';
import { embeddedConfigProblem, isEmbeddedEvent, isEmbeddedRequest, toResolveAnswer } from '../../../../src/tor/worker/index.js';

describe('client helpers', () => {
  it('names reverse lookups under in-addr.arpa and ip6.arpa', () => {
    expect(reverseLookupName('10.1.2.3')).toBe('3.2.1.10.in-addr.arpa');
    expect(reverseLookupName('2001:db8::1')).toBe(`1.0.0.0.${'0.'.repeat(20)}8.b.d.0.1.0.0.2.ip6.arpa`);
    expect(() => reverseLookupName('example.com')).toThrow();
  });

  it('formats bootstrap phases like C tor, in increasing order', () => {
    expect(formatBootstrap(bootstrapStatus('done'))).toBe('Bootstrapped 100% (done): Done');
    const p = Object.values(BOOTSTRAP_PHASES).map((x) => x.percent);
    expect(p).toEqual([...p].sort((a, b) => a - b));
  });

  it('ships the live network authorities with ORPorts and v3 identities', () => {
    const auths = DEFAULT_DIR_AUTHORITIES.map((l) => parseDirAuthorityLine(l));
    expect(auths).toHaveLength(9);
    expect(auths.every((a) => a.orPort !== undefined && /^[0-9A-F]{40}$/.test(a.v3ident))).toBe(true);
    expect(auths.find((a) => a.nickname === 'moria1')!.rsaFingerprint).toBe('1A25C6358DB91342AA51720A5038B72742732498');
  });

  it('maps RESOLVED answers to the backend contract', () => {
    expect(toResolveAnswer([{ kind: 'ipv4', addr: new Uint8Array([127, 0, 0, 1]), ttl: 1 }], 'forward')).toEqual({ kind: 'ipv4', addr: '127.0.0.1' });
    const v6 = new Uint8Array(16);
    v6[15] = 1;
    expect(toResolveAnswer([{ kind: 'ipv6', addr: v6, ttl: 1 }], 'forward')).toEqual({ kind: 'ipv6', addr: '0:0:0:0:0:0:0:1' });
    expect(toResolveAnswer([{ kind: 'hostname', hostname: 'a.example', ttl: 1 }], 'reverse')).toEqual({ kind: 'host', host: 'a.example' });
    expect(toResolveAnswer([{ kind: 'error', transient: false, ttl: 1 }], 'forward')).toEqual({ kind: 'error' });
  });

  it('checks the worker config and messages', () => {
    expect(embeddedConfigProblem({ dirAuthorities: ['x'], testNetwork: true })).toBeUndefined();
    expect(embeddedConfigProblem({ dirAuthorities: 'x' })).toMatch(/dirAuthorities/);
    expect(embeddedConfigProblem(null)).toMatch(/missing/);
    expect(isEmbeddedRequest({ type: 'status', id: 1 })).toBe(true);
    expect(isEmbeddedRequest({ type: 'newnym' })).toBe(true);
    expect(isEmbeddedRequest({ type: 'status' })).toBe(false);
    expect(isEmbeddedEvent({ type: 'bootstrap', status: bootstrapStatus('starting') })).toBe(true);
    expect(isEmbeddedEvent({ type: 'closed', id: 1, reason: 6 })).toBe(true);
  });
});
