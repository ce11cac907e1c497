import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hexToBytes, bytesToHex } from '../../../src/tor/bytes/index.js';
import type { CertsEntry } from '../../../src/tor/cell/index.js';
import {
  validateRelayCerts, parseEd25519Cert, verifyEd25519Cert, parseRsaIdentityCert, parseRsaCrosscert, verifyRsaCrosscert,
} from '../../../src/tor/cert/index.js';

const fx = JSON.parse(readFileSync(new URL('../../fixtures/tor/proto/chutney-certs.json', import.meta.url), 'utf8')) as Record<string, string>;
const h = hexToBytes;
const now = Date.parse(fx.validAt!);
const base = (): CertsEntry[] => [
  { certType: 2, body: h(fx.certType2!) },
  { certType: 5, body: h(fx.certType5!) },
  { certType: 7, body: h(fx.certType7!) },
  { certType: 4, body: h(fx.certType4!) },
];
const expected = { rsaId: h(fx.rsaId!), ed25519Id: h(fx.ed25519Id!) };
const tls = h(fx.tlsCertSha256!);

function code(r: ReturnType<typeof validateRelayCerts>): string {
  return r.ok ? 'OK' : r.error.code;
}

describe('Ed25519 certs and the RSA cross-cert (arti chutney vectors)', () => {
  it('parses and verifies type 4 with its embedded signer', () => {
    const c = parseEd25519Cert(h(fx.certType4!));
    if (!c.ok) throw new Error(c.error.message);
    expect(c.value.certType).toBe(4);
    expect(bytesToHex(c.value.signedWith!)).toBe(fx.ed25519Id);
    expect(verifyEd25519Cert(c.value, c.value.signedWith!)).toBe(true);
    expect(verifyEd25519Cert(c.value, new Uint8Array(32).fill(9))).toBe(false);
  });
  it('computes the RSA fingerprint and checks the cross-cert', () => {
    const rsa = parseRsaIdentityCert(h(fx.certType2!));
    if (!rsa.ok) throw new Error(rsa.error.message);
    expect(bytesToHex(rsa.value.rsaId)).toBe(fx.rsaId);
    expect(rsa.value.modulusBits).toBe(1024);
    expect(rsa.value.selfSigned).toBe(true);
    const cc = parseRsaCrosscert(h(fx.certType7!));
    if (!cc.ok) throw new Error(cc.error.message);
    expect(verifyRsaCrosscert(cc.value, rsa.value.publicKey)).toBe(true);
    const bad = { ...cc.value, signedBytes: cc.value.signedBytes.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    expect(verifyRsaCrosscert(bad, rsa.value.publicKey)).toBe(false);
  });
  it('rejects malformed certs with typed errors', () => {
    expect(parseEd25519Cert(h('02')).ok).toBe(false);
    const t = parseEd25519Cert(h(fx.certType4!).subarray(0, 100));
    expect(!t.ok && t.error.code).toBe('MALFORMED');
    expect(parseRsaIdentityCert(h('3000')).ok).toBe(false);
    expect(parseRsaCrosscert(h('00')).ok).toBe(false);
  });
  it('rejects an unknown extension that affects validation', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
    // VERSION 01 | TYPE 04 | EXPIRATION | KEYTYPE 01 | KEY | N_EXT 02 | ext04(signer) | ext 0x09 (1 byte)
    const build = (flags: number) => {
      const unsigned = Buffer.concat([
        Buffer.from('0104ffffffff01', 'hex'), Buffer.alloc(32, 1), Buffer.from('02', 'hex'),
        Buffer.from('00200400', 'hex'), pub,
        Buffer.from([0x00, 0x01, 0x09, flags, 0x0a]),
      ]);
      return Buffer.concat([unsigned, sign(null, unsigned, privateKey)]);
    };
    const critical = parseEd25519Cert(build(1));
    expect(!critical.ok && critical.error.code).toBe('UNKNOWN_CRITICAL_EXTENSION');
    const benign = parseEd25519Cert(build(0));
    expect(benign.ok && verifyEd25519Cert(benign.value, benign.value.signedWith!)).toBe(true);
  });
});

describe('CERTS validation (guide §1)', () => {
  it('accepts the real chain bound to the TLS certificate', () => {
    const r = validateRelayCerts({ certs: base(), tlsCertSha256: tls, nowMs: now, expected });
    if (!r.ok) throw new Error(r.error.message);
    expect(bytesToHex(r.value.rsaId)).toBe(fx.rsaId);
    expect(bytesToHex(r.value.ed25519Id)).toBe(fx.ed25519Id);
  });
  it('fails when any required cert is missing or duplicated', () => {
    for (const t of [2, 4, 5, 7]) {
      expect(code(validateRelayCerts({ certs: base().filter((c) => c.certType !== t), tlsCertSha256: tls, nowMs: now, expected }))).toBe('MISSING_CERT');
    }
    expect(code(validateRelayCerts({ certs: [...base(), base()[0]!], tlsCertSha256: tls, nowMs: now, expected }))).toBe('DUPLICATE_CERT');
  });
  it('binds to the TLS certificate and to the expected identities', () => {
    const other = tls.slice();
    other[0]! ^= 1;
    expect(code(validateRelayCerts({ certs: base(), tlsCertSha256: other, nowMs: now, expected }))).toBe('TLS_CERT_MISMATCH');
    expect(code(validateRelayCerts({ certs: base(), tlsCertSha256: tls, nowMs: now, expected: { rsaId: new Uint8Array(20) } }))).toBe('IDENTITY_MISMATCH');
    expect(code(validateRelayCerts({ certs: base(), tlsCertSha256: tls, nowMs: now, expected: { ed25519Id: new Uint8Array(32) } }))).toBe('IDENTITY_MISMATCH');
  });
  it('rejects expired certs and bad signatures', () => {
    expect(code(validateRelayCerts({ certs: base(), tlsCertSha256: tls, nowMs: Date.parse('2030-01-01T00:00:00Z'), expected }))).toBe('EXPIRED');
    expect(code(validateRelayCerts({ certs: base(), tlsCertSha256: tls, nowMs: Date.parse('2019-01-01T00:00:00Z'), expected }))).toBe('NOT_YET_VALID');
    const certs = base();
    const t4 = certs[3]!.body.slice();
    t4[t4.length - 1]! ^= 0x40;
    certs[3] = { certType: 4, body: t4 };
    expect(code(validateRelayCerts({ certs, tlsCertSha256: tls, nowMs: now, expected }))).toBe('BAD_SIGNATURE');
    const certs7 = base();
    const t7 = certs7[2]!.body.slice();
    t7[t7.length - 1]! ^= 1;
    certs7[2] = { certType: 7, body: t7 };
    expect(code(validateRelayCerts({ certs: certs7, tlsCertSha256: tls, nowMs: now, expected }))).toBe('BAD_SIGNATURE');
  });
  it('rejects a type-5 cert given in the type-4 slot', () => {
    const certs = base().map((c) => (c.certType === 4 ? { certType: 4, body: h(fx.certType5!) } : c.certType === 5 ? { certType: 5, body: h(fx.certType4!) } : c));
    expect(code(validateRelayCerts({ certs, tlsCertSha256: tls, nowMs: now, expected }))).toBe('WRONG_CERT_TYPE');
  });
});
