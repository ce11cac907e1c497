import { describe, expect, it } from 'vitest';
import {
  consensusLiveness,
  NetDocError,
  parseAuthCerts,
  parseDirAuthorityLine,
  parseMdConsensus,
  validateAuthCert,
  validateMdConsensus,
  type MdConsensus,
} from '../../../../src/tor/netdoc/index.js';
import { dirAuthorityLines, fixture } from './fixtures.js';

function reasonOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof NetDocError) return e.reason;
    throw e;
  }
  return 'accepted';
}

describe('microdesc consensus (captured from C tor)', () => {
  const raw = fixture('consensus-microdesc.txt');
  const text = raw.toString('latin1');
  const auths = dirAuthorityLines().map(parseDirAuthorityLine);
  const v3idents = auths.map((a) => a.v3ident);
  const c = parseMdConsensus(raw);
  const now = c.validAfter;
  const certs = parseAuthCerts(fixture('keys-all.txt')).map((k) => validateAuthCert(k, { expectedV3ident: k.fingerprint, now }));
  const check = (doc: MdConsensus, at = now) => validateMdConsensus(doc, { authorityV3idents: v3idents, certs, now: at });

  it('parses preamble, authorities, router entries and footer', () => {
    expect(c.consensusMethod).toBeGreaterThanOrEqual(28);
    expect(c.freshUntil).toBeGreaterThan(c.validAfter);
    expect(c.validUntil).toBeGreaterThan(c.freshUntil);
    expect(c.knownFlags).toContain('Exit');
    expect(c.dirSources.map((d) => d.v3ident).sort()).toEqual([...v3idents].sort());
    expect(c.relays).toHaveLength(7);
    const names = c.relays.map((r) => r.nickname).sort();
    expect(names).toEqual(['auth0', 'auth1', 'auth2', 'relay0', 'relay1', 'relay2', 'relay3']);
    for (const r of c.relays) {
      expect(r.rsaIdentity).toHaveLength(20);
      expect(r.microdescDigest).toHaveLength(32);
      expect(r.ip).toBe('127.0.0.1');
      expect(r.flags.has('Running')).toBe(true);
      expect(r.flags.has('Exit')).toBe(true);
      expect(r.bandwidth).toBeGreaterThanOrEqual(0);
    }
    const a0 = auths.find((a) => a.nickname === 'auth0')!;
    const a0Status = c.relays.find((r) => r.nickname === 'auth0')!;
    expect(a0Status.rsaIdentity.toString('hex').toUpperCase()).toBe(a0.rsaFingerprint);
    expect(a0Status.orPort).toBe(a0.orPort);
    expect(a0Status.dirPort).toBe(a0.dirPort);
    expect(c.bandwidthWeights.get('Wgg')).toBeGreaterThan(0);
    expect(c.signatures).toHaveLength(3);
    expect(c.signatures.every((s) => s.algorithm === 'sha256')).toBe(true);
  });

  it('verifies all three sha256 signatures (quorum 2 of 3)', () => {
    const tally = check(c);
    expect([...tally.good].sort()).toEqual([...v3idents].sort());
    expect(tally.needed).toBe(2);
    expect(tally.bad).toEqual([]);
  });

  it('rejects a consensus with one changed byte in a router line', () => {
    const at = text.indexOf('\nr relay2 ') + 4;
    const tampered = text.slice(0, at) + 'X' + text.slice(at + 1);
    expect(tampered.length).toBe(text.length);
    expect(reasonOf(() => check(parseMdConsensus(tampered)))).toBe('bad-signature');
  });

  it('needs more than half of the authorities', () => {
    const blocks = text.split(/(?=^directory-signature )/m);
    expect(blocks).toHaveLength(4);
    const oneRemoved = blocks[0]! + blocks[1]! + blocks[2]!;
    expect(check(parseMdConsensus(oneRemoved)).good).toHaveLength(2);
    const twoRemoved = blocks[0]! + blocks[1]!;
    expect(reasonOf(() => check(parseMdConsensus(twoRemoved)))).toBe('no-quorum');
    // Duplicated signatures from one authority count once.
    const dup = blocks[0]! + blocks[1]! + blocks[1]!;
    expect(reasonOf(() => check(parseMdConsensus(dup)))).toBe('no-quorum');
  });

  it('ignores signatures from unconfigured authorities', () => {
    const tally = validateMdConsensus(c, { authorityV3idents: [...v3idents, 'AB'.repeat(20), 'CD'.repeat(20)], certs, now });
    expect(tally.needed).toBe(3);
    expect(reasonOf(() => validateMdConsensus(c, { authorityV3idents: v3idents.slice(0, 1), certs, now }))).toBe('accepted');
  });

  it('reports signatures whose certificate is missing', () => {
    const tally = (() => {
      try {
        return validateMdConsensus(c, { authorityV3idents: v3idents, certs: certs.slice(0, 1), now });
      } catch (e) {
        expect((e as NetDocError).reason).toBe('no-quorum');
        return undefined;
      }
    })();
    expect(tally).toBeUndefined();
  });

  it('checks liveness against the passed-in time', () => {
    expect(consensusLiveness(c, c.validAfter)).toBe('live');
    expect(consensusLiveness(c, c.validUntil)).toBe('reasonably-live');
    expect(consensusLiveness(c, c.validUntil + 24 * 3600_000)).toBe('expired');
    expect(reasonOf(() => check(c, c.validUntil + 24 * 3600_000 + 1))).toBe('expired');
    expect(reasonOf(() => check(c, c.validUntil + 3600_000))).toBe('accepted');
    expect(reasonOf(() => validateMdConsensus(c, { authorityV3idents: v3idents, certs, now: c.validUntil, requireLive: true }))).toBe('expired');
    expect(reasonOf(() => check(c, c.validAfter - 25 * 3600_000))).toBe('not-yet-valid');
  });

  it('refuses malformed consensuses with the line number', () => {
    const noFooter = text.replace('directory-footer\n', '');
    expect(reasonOf(() => parseMdConsensus(noFooter))).toBe('malformed');
    const badFlag = text.replace('\ns Exit', '\ns Bogus Exit');
    expect(reasonOf(() => parseMdConsensus(badFlag))).toBe('malformed');
    const lines = text.split('\n');
    const mLine = lines.findIndex((l) => l.startsWith('m '));
    lines[mLine] = 'm not*base64';
    try {
      parseMdConsensus(lines.join('\n'));
      expect.unreachable();
    } catch (e) {
      expect((e as NetDocError).line).toBe(mLine + 1);
    }
    expect(reasonOf(() => parseMdConsensus(text.replace('network-status-version 3 microdesc', 'network-status-version 3')))).toBe('malformed');
  });
});
