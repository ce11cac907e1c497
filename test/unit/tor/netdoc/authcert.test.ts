import { describe, expect, it } from 'vitest';
import {
  NetDocError,
  parseAuthCert,
  parseAuthCerts,
  parseDirAuthorityLine,
  validateAuthCert,
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

describe('authority key certificates (captured from C tor)', () => {
  const certs = parseAuthCerts(fixture('keys-all.txt'));
  const auths = dirAuthorityLines().map(parseDirAuthorityLine);

  it('parses every certificate of /tor/keys/all', () => {
    expect(certs).toHaveLength(3);
    for (const c of certs) {
      expect(c.identityKey.key.asymmetricKeyDetails?.modulusLength).toBe(3072);
      expect(c.expires).toBeGreaterThan(c.published);
      expect(c.text.startsWith('dir-key-certificate-version 3\n')).toBe(true);
      expect(c.text.endsWith('-----END SIGNATURE-----\n')).toBe(true);
    }
    expect(new Set(certs.map((c) => c.fingerprint))).toEqual(new Set(auths.map((a) => a.v3ident)));
  });

  it('validates against the configured v3idents', () => {
    for (const c of certs) {
      const v = validateAuthCert(c, { expectedV3ident: c.fingerprint, now: c.published });
      expect(v.validated).toBe(true);
    }
  });

  it('refuses a certificate for another v3ident', () => {
    const [a, b] = certs;
    expect(reasonOf(() => validateAuthCert(a!, { expectedV3ident: b!.fingerprint, now: a!.published }))).toBe('wrong-identity');
  });

  it('refuses a fingerprint that is not the identity key digest', () => {
    const [a, b] = certs;
    const forged = a!.text.replace(`fingerprint ${a!.fingerprint}`, `fingerprint ${b!.fingerprint}`);
    expect(reasonOf(() => validateAuthCert(parseAuthCert(forged), { now: a!.published }))).toBe('wrong-identity');
  });

  it('refuses an expired certificate', () => {
    const c = certs[0]!;
    expect(reasonOf(() => validateAuthCert(c, { expectedV3ident: c.fingerprint, now: c.expires }))).toBe('expired');
    expect(reasonOf(() => validateAuthCert(c, { expectedV3ident: c.fingerprint, now: c.expires - 1 }))).toBe('accepted');
  });

  it('detects a tampered certificate body and a foreign cross-certificate', () => {
    const c = certs[0]!;
    const tampered = c.text.replace(/dir-address 127\.0\.0\.1:(\d)/, 'dir-address 127.0.0.2:$1');
    expect(tampered).not.toBe(c.text);
    expect(reasonOf(() => validateAuthCert(parseAuthCert(tampered), { now: c.published }))).toBe('bad-signature');
    const other = certs[1]!;
    const swapped = { ...c, crosscert: other.crosscert };
    expect(reasonOf(() => validateAuthCert(swapped, { now: c.published }))).toBe('bad-signature');
  });

  it('refuses structurally broken certificates', () => {
    const c = certs[0]!.text;
    expect(reasonOf(() => parseAuthCert(c.replace('dir-key-certificate-version 3', 'dir-key-certificate-version 4')))).toBe('malformed');
    expect(reasonOf(() => parseAuthCert(c.replace(/dir-signing-key\n/, 'dir-signing-key-x\n')))).toBe('malformed');
    expect(reasonOf(() => parseAuthCert(c + c))).toBe('malformed');
  });
});
