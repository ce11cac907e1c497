import { err, ok, type Result } from '../bytes/result.js';
import { bytesEqual, bytesToHex } from '../bytes/util.js';
import { CertType, type CertsEntry } from '../cell/certs-cell.js';
import { certError, type CertError } from './errors.js';
import {
  EdCertKeyType, EdCertType, ed25519CertExpired, parseEd25519Cert, verifyEd25519Cert, type Ed25519Cert,
} from './ed25519-cert.js';
import { parseRsaCrosscert, verifyRsaCrosscert } from './rsa-crosscert.js';
import { parseRsaIdentityCert } from './rsa-identity.js';

/** The identities the client meant to reach (from the consensus, a DirAuthority line, or EXTEND2). */
export interface ExpectedRelayIdentity {
  readonly rsaId?: Uint8Array; // 20 bytes
  readonly ed25519Id?: Uint8Array; // 32 bytes
}

export interface RelayCertsInput {
  readonly certs: readonly CertsEntry[];
  /** SHA-256 of the peer's TLS leaf certificate DER, recorded by the transport. */
  readonly tlsCertSha256: Uint8Array;
  readonly nowMs: number;
  readonly expected: ExpectedRelayIdentity;
}

/** What a successful validation proves about the peer. */
export interface VerifiedRelayIdentity {
  readonly rsaId: Uint8Array;
  readonly ed25519Id: Uint8Array;
  readonly signingKey: Uint8Array;
  /** Earliest expiry among the certs (ms since epoch). */
  readonly expiresAtMs: number;
}

/**
 * Validate a relay's CERTS cell as an initiating client (tor-spec §4.2, C tor
 * or_handshake_certs_ed25519_ok): type 4 identity→signing, type 5 signing→TLS (bound to the
 * actual TLS certificate), type 2 RSA identity, type 7 RSA→Ed25519 cross-cert; nothing expired;
 * identities equal to the expected ones.
 */
export function validateRelayCerts(input: RelayCertsInput): Result<VerifiedRelayIdentity, CertError> {
  const byType = new Map<number, Uint8Array>();
  for (const c of input.certs) {
    if (byType.has(c.certType)) return err(certError('DUPLICATE_CERT', `duplicate cert type ${c.certType}`));
    byType.set(c.certType, c.body);
  }
  const need = (t: number, name: string): Result<Uint8Array, CertError> => {
    const b = byType.get(t);
    return b ? ok(b) : err(certError('MISSING_CERT', `missing ${name} (type ${t}) certificate`));
  };
  const t4b = need(CertType.ED_ID_SIGNING, 'identity->signing');
  if (!t4b.ok) return t4b;
  const t5b = need(CertType.ED_SIGNING_LINK, 'signing->TLS link');
  if (!t5b.ok) return t5b;
  const t2b = need(CertType.RSA_ID_X509, 'RSA identity');
  if (!t2b.ok) return t2b;
  const t7b = need(CertType.RSA_ED_CROSSCERT, 'RSA->Ed25519 cross-cert');
  if (!t7b.ok) return t7b;
  const now = input.nowMs;

  // 1. Identity key -> signing key.
  const t4 = parseEd25519Cert(t4b.value);
  if (!t4.ok) return t4;
  const idCert = t4.value;
  const check4 = checkEdCert(idCert, EdCertType.IDENTITY_V_SIGNING, EdCertKeyType.ED25519, now, 'identity->signing');
  if (check4) return err(check4);
  if (!idCert.signedWith) return err(certError('MISSING_SIGNER', 'identity->signing cert lacks the signed-with-ed25519-key extension'));
  const identity = idCert.signedWith;
  if (!verifyEd25519Cert(idCert, identity)) return err(certError('BAD_SIGNATURE', 'identity->signing signature invalid'));
  const signingKey = idCert.certifiedKey;

  // 2. Signing key -> TLS certificate digest.
  const t5 = parseEd25519Cert(t5b.value);
  if (!t5.ok) return t5;
  const linkCert = t5.value;
  const check5 = checkEdCert(linkCert, EdCertType.SIGNING_V_TLS_CERT, EdCertKeyType.SHA256_OF_X509, now, 'signing->TLS');
  if (check5) return err(check5);
  if (linkCert.signedWith && !bytesEqual(linkCert.signedWith, signingKey)) {
    return err(certError('KEY_MISMATCH', 'signing->TLS cert names a different signer'));
  }
  if (!verifyEd25519Cert(linkCert, signingKey)) return err(certError('BAD_SIGNATURE', 'signing->TLS signature invalid'));
  if (!bytesEqual(linkCert.certifiedKey, input.tlsCertSha256)) {
    return err(certError('TLS_CERT_MISMATCH', 'signing->TLS cert does not certify the TLS certificate we saw'));
  }

  // 3. RSA identity certificate.
  const t2 = parseRsaIdentityCert(t2b.value);
  if (!t2.ok) return t2;
  const rsa = t2.value;
  if (rsa.modulusBits !== 1024) return err(certError('BAD_RSA_KEY', `RSA identity key is ${rsa.modulusBits} bits, want 1024`));
  if (!rsa.selfSigned) return err(certError('BAD_SIGNATURE', 'RSA identity cert is not self-signed'));
  if (!(now >= rsa.validFromMs)) return err(certError('NOT_YET_VALID', 'RSA identity cert not yet valid'));
  if (!(now <= rsa.validToMs)) return err(certError('EXPIRED', 'RSA identity cert expired'));

  // 4. RSA -> Ed25519 cross-certificate.
  const t7 = parseRsaCrosscert(t7b.value);
  if (!t7.ok) return t7;
  const cross = t7.value;
  if (now >= cross.expirationHours * 3_600_000) return err(certError('EXPIRED', 'RSA->Ed25519 cross-cert expired'));
  if (!bytesEqual(cross.ed25519Key, identity)) return err(certError('KEY_MISMATCH', 'cross-cert names a different Ed25519 identity'));
  if (!verifyRsaCrosscert(cross, rsa.publicKey)) return err(certError('BAD_SIGNATURE', 'RSA->Ed25519 cross-cert signature invalid'));

  // 5. The identities we expected.
  const { expected } = input;
  if (expected.rsaId && !bytesEqual(expected.rsaId, rsa.rsaId)) {
    return err(certError('IDENTITY_MISMATCH', `RSA identity ${bytesToHex(rsa.rsaId)} is not the expected ${bytesToHex(expected.rsaId)}`));
  }
  if (expected.ed25519Id && !bytesEqual(expected.ed25519Id, identity)) {
    return err(certError('IDENTITY_MISMATCH', 'Ed25519 identity is not the expected one'));
  }
  const expiresAtMs = Math.min(idCert.expirationHours, linkCert.expirationHours, cross.expirationHours) * 3_600_000;
  return ok({ rsaId: rsa.rsaId, ed25519Id: identity, signingKey, expiresAtMs: Math.min(expiresAtMs, rsa.validToMs) });
}

function checkEdCert(cert: Ed25519Cert, type: number, keyType: number, now: number, name: string): CertError | null {
  if (cert.certType !== type) return certError('WRONG_CERT_TYPE', `${name}: cert type ${cert.certType}, want ${type}`);
  if (cert.keyType !== keyType) return certError('WRONG_KEY_TYPE', `${name}: key type ${cert.keyType}, want ${keyType}`);
  if (ed25519CertExpired(cert, now)) return certError('EXPIRED', `${name} cert expired`);
  return null;
}
