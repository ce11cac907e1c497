import { parseAuthCerts, validateAuthCert, type ValidatedAuthCert } from '../netdoc/authcert.js';
import { parseMdConsensus, type MdConsensus } from '../netdoc/consensus.js';
import { tallySignatures, validateMdConsensus, type SignatureTally } from '../netdoc/consensus-verify.js';
import type { DirAuthority } from '../netdoc/dirauthority.js';
import { NetDocError } from '../netdoc/errors.js';
import { matchMicrodescs, parseMicrodescs, type Microdesc } from '../netdoc/microdesc.js';
import type { DirCounters } from './counters.js';

/**
 * Validation gates between the network and the directory state: every refused document is counted
 * by reason, nothing unvalidated gets through.
 */

function asNetDocError(e: unknown): NetDocError {
  if (e instanceof NetDocError) return e;
  return new NetDocError('malformed', e instanceof Error ? e.message : String(e));
}

/** Certificates of configured authorities that validate at `now`; the rest are counted. */
export function acceptCerts(doc: Uint8Array | string, authorities: readonly DirAuthority[], now: number, counters: DirCounters): ValidatedAuthCert[] {
  let parsed;
  try {
    parsed = parseAuthCerts(doc);
  } catch (e) {
    counters.reject('cert', asNetDocError(e).reason);
    return [];
  }
  const out: ValidatedAuthCert[] = [];
  for (const cert of parsed) {
    const auth = authorities.find((a) => a.v3ident !== '' && a.v3ident === cert.fingerprint);
    if (auth === undefined) {
      counters.reject('cert', 'unknown-authority');
      continue;
    }
    try {
      out.push(validateAuthCert(cert, { expectedV3ident: auth.v3ident, now }));
      counters.accept('cert');
    } catch (e) {
      counters.reject('cert', asNetDocError(e).reason);
    }
  }
  return out;
}

export type ConsensusVerdict =
  | { readonly ok: true; readonly consensus: MdConsensus; readonly tally: SignatureTally }
  | {
      readonly ok: false;
      readonly error: NetDocError;
      /** Set when quorum may be reachable once these certificates are fetched; nothing was counted yet. */
      readonly missingCerts?: SignatureTally['missingCerts'];
      readonly consensus?: MdConsensus;
    };

/**
 * Parse and validate a consensus. When quorum fails only for lack of certificates, the verdict lists
 * them and counts nothing, so the caller can fetch them and call again.
 */
export function acceptConsensus(
  doc: Uint8Array | string,
  authorities: readonly DirAuthority[],
  certs: readonly ValidatedAuthCert[],
  now: number,
  counters: DirCounters,
  opts: { readonly requireLive?: boolean; readonly allowMissingCertRetry?: boolean } = {},
): ConsensusVerdict {
  const v3idents = authorities.map((a) => a.v3ident).filter((v) => v !== '');
  let consensus: MdConsensus;
  try {
    consensus = parseMdConsensus(doc);
  } catch (e) {
    const error = asNetDocError(e);
    counters.reject('consensus', error.reason);
    return { ok: false, error };
  }
  try {
    const tally = validateMdConsensus(consensus, { authorityV3idents: v3idents, certs, now, requireLive: opts.requireLive });
    counters.accept('consensus');
    return { ok: true, consensus, tally };
  } catch (e) {
    const error = asNetDocError(e);
    if (opts.allowMissingCertRetry === true && (error.reason === 'no-quorum' || error.reason === 'bad-signature')) {
      const tally = tallySignatures(consensus, v3idents, certs, now);
      if (tally.missingCerts.length > 0 && tally.good.length + tally.missingCerts.length >= tally.needed) {
        return { ok: false, error, missingCerts: tally.missingCerts, consensus };
      }
    }
    counters.reject('consensus', error.reason);
    return { ok: false, error };
  }
}

/** Microdescriptors whose digest was requested; substitutes are counted as digest mismatches. */
export function acceptMicrodescs(doc: Uint8Array | string, wanted: Iterable<Buffer>, counters: DirCounters): Microdesc[] {
  let mds: Microdesc[];
  try {
    mds = parseMicrodescs(doc);
  } catch (e) {
    counters.reject('microdesc', asNetDocError(e).reason);
    return [];
  }
  const { matched, unexpected } = matchMicrodescs(mds, wanted);
  if (unexpected > 0) counters.reject('microdesc', 'digest-mismatch', unexpected);
  counters.accept('microdesc', matched.length);
  return matched;
}
