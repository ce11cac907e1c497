import type { ValidatedAuthCert } from './authcert.js';
import type { MdConsensus } from './consensus.js';
import { NetDocError } from './errors.js';
import { verifyRawDigestSignature } from './rsa.js';

/** C tor keeps using a consensus up to a day past valid-until ("reasonably live"). */
export const REASONABLY_LIVE_MS = 24 * 3600 * 1000;

export type Liveness = 'not-yet-valid' | 'live' | 'reasonably-live' | 'expired';

/** Live = valid-after ≤ now < valid-until; reasonably live = up to 24 h either side of that window. */
export function consensusLiveness(c: Pick<MdConsensus, 'validAfter' | 'validUntil'>, now: number): Liveness {
  if (now < c.validAfter - REASONABLY_LIVE_MS) return 'not-yet-valid';
  if (now >= c.validAfter && now < c.validUntil) return 'live';
  if (now < c.validUntil + REASONABLY_LIVE_MS) return 'reasonably-live';
  return 'expired';
}

export interface SignatureTally {
  /** v3idents of configured authorities with a verifying signature. */
  readonly good: readonly string[];
  /** v3idents of configured authorities whose signature failed against a known certificate. */
  readonly bad: readonly string[];
  /** Signatures from configured authorities for which no certificate with that signing key is known. */
  readonly missingCerts: readonly { readonly v3ident: string; readonly signingKeyDigest: string }[];
  /** Good signatures needed: more than half of the configured authorities. */
  readonly needed: number;
}

/**
 * Check every signature from a configured authority against the validated certificates. A signature
 * counts when the certificate's identity and signing-key digest match and it decrypts to the digest
 * of the signed portion (sha1 or sha256 by its algorithm).
 */
export function tallySignatures(
  c: MdConsensus,
  authorityV3idents: readonly string[],
  certs: readonly ValidatedAuthCert[],
  now: number,
): SignatureTally {
  const configured = new Set(authorityV3idents.map((s) => s.toUpperCase()));
  const good = new Set<string>();
  const bad = new Set<string>();
  const missing: { v3ident: string; signingKeyDigest: string }[] = [];
  for (const sig of c.signatures) {
    if (!configured.has(sig.identity) || good.has(sig.identity)) continue;
    const cert = certs.find(
      (k) =>
        k.fingerprint === sig.identity &&
        k.signingKey.sha1.toString('hex').toUpperCase() === sig.signingKeyDigest &&
        now < k.expires,
    );
    if (cert === undefined) {
      missing.push({ v3ident: sig.identity, signingKeyDigest: sig.signingKeyDigest });
      continue;
    }
    const digest = sig.algorithm === 'sha256' ? c.signedDigest.sha256 : sig.algorithm === 'sha1' ? c.signedDigest.sha1 : undefined;
    if (digest !== undefined && verifyRawDigestSignature(cert.signingKey, sig.signature, digest)) {
      good.add(sig.identity);
      bad.delete(sig.identity);
    } else {
      bad.add(sig.identity);
    }
  }
  return { good: [...good], bad: [...bad], missingCerts: missing, needed: Math.floor(configured.size / 2) + 1 };
}

export interface ConsensusCheck {
  readonly authorityV3idents: readonly string[];
  readonly certs: readonly ValidatedAuthCert[];
  readonly now: number;
  /** Refuse a consensus that is only reasonably live (default: accept it). */
  readonly requireLive?: boolean;
}

/**
 * Accept a consensus only if it is (reasonably) live at `now` and signed by more than half of the
 * configured authorities. Throws NetDocError: 'expired', 'not-yet-valid', 'bad-signature' (a known
 * authority's signature failed and quorum was missed) or 'no-quorum'.
 */
export function validateMdConsensus(c: MdConsensus, check: ConsensusCheck): SignatureTally {
  const live = consensusLiveness(c, check.now);
  if (live === 'expired' || (check.requireLive === true && live === 'reasonably-live' && check.now >= c.validUntil)) {
    throw new NetDocError('expired', 'consensus is no longer valid');
  }
  if (live === 'not-yet-valid' || (check.requireLive === true && check.now < c.validAfter)) {
    throw new NetDocError('not-yet-valid', 'consensus is not yet valid');
  }
  const tally = tallySignatures(c, check.authorityV3idents, check.certs, check.now);
  if (tally.good.length >= tally.needed) return tally;
  if (tally.bad.length > 0) {
    throw new NetDocError('bad-signature', `signatures from ${tally.bad.join(', ')} do not verify (${tally.good.length}/${tally.needed} good)`);
  }
  throw new NetDocError('no-quorum', `${tally.good.length} good signatures, ${tally.needed} needed`);
}
