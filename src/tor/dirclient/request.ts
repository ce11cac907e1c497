/** Directory requests (dir-spec §4, §5) as pure encoders: a request is a path plus HTTP/1.0 framing. */

export type DirRequest =
  | { readonly kind: 'authcerts-all' }
  /** Current certificates of the given authorities (v3ident hex). */
  | { readonly kind: 'authcerts-fp'; readonly v3idents: readonly string[] }
  /** Certificates by (v3ident, signing-key digest) pairs. */
  | { readonly kind: 'authcerts-fp-sk'; readonly pairs: readonly { readonly v3ident: string; readonly signingKeyDigest: string }[] }
  | { readonly kind: 'consensus-microdesc' }
  /** Microdescriptors by SHA-256 digest; at most MAX_MICRODESCS_PER_REQUEST. */
  | { readonly kind: 'microdescs'; readonly digests: readonly Buffer[] };

/** C tor never asks for more than 92 microdescriptors at once (URL length limits on caches). */
export const MAX_MICRODESCS_PER_REQUEST = 92;

const HEX40_RE = /^[0-9A-Fa-f]{40}$/;

function hex40(s: string): string {
  if (!HEX40_RE.test(s)) throw new RangeError('expected a 40-digit hex fingerprint');
  return s.toUpperCase();
}

function b64NoPad(d: Buffer): string {
  if (d.length !== 32) throw new RangeError('microdescriptor digests are 32 bytes');
  return d.toString('base64').replace(/=+$/, '');
}

/** The URL path for a request; `compressed` appends `.z` (deflate). */
export function requestPath(req: DirRequest, compressed = false): string {
  let path: string;
  switch (req.kind) {
    case 'authcerts-all':
      path = '/tor/keys/all';
      break;
    case 'authcerts-fp':
      if (req.v3idents.length === 0) throw new RangeError('no fingerprints');
      path = `/tor/keys/fp/${req.v3idents.map(hex40).join('+')}`;
      break;
    case 'authcerts-fp-sk':
      if (req.pairs.length === 0) throw new RangeError('no fingerprints');
      path = `/tor/keys/fp-sk/${req.pairs.map((p) => `${hex40(p.v3ident)}-${hex40(p.signingKeyDigest)}`).join('+')}`;
      break;
    case 'consensus-microdesc':
      path = '/tor/status-vote/current/consensus-microdesc';
      break;
    case 'microdescs':
      if (req.digests.length === 0 || req.digests.length > MAX_MICRODESCS_PER_REQUEST) {
        throw new RangeError(`1..${MAX_MICRODESCS_PER_REQUEST} digests per request`);
      }
      path = `/tor/micro/d/${req.digests.map(b64NoPad).join('-')}`;
      break;
  }
  return compressed ? `${path}.z` : path;
}

/**
 * The request bytes. No Host or other identifying headers: the same bytes go to an authority DirPort
 * and through BEGIN_DIR.
 */
export function encodeRequest(req: DirRequest, compressed = false): Buffer {
  return Buffer.from(`GET ${requestPath(req, compressed)} HTTP/1.0\r\n\r\n`, 'latin1');
}

/** Split microdescriptor digests into requests of at most 92, sorted and de-duplicated. */
export function microdescRequests(digests: Iterable<Buffer>): DirRequest[] {
  const unique = new Map<string, Buffer>();
  for (const d of digests) unique.set(d.toString('base64'), d);
  const sorted = [...unique.values()].sort(Buffer.compare);
  const out: DirRequest[] = [];
  for (let i = 0; i < sorted.length; i += MAX_MICRODESCS_PER_REQUEST) {
    out.push({ kind: 'microdescs', digests: sorted.slice(i, i + MAX_MICRODESCS_PER_REQUEST) });
  }
  return out;
}

/** Response bounds per request kind: a live consensus is a few MB, 92 microdescriptors ~100 KB. */
export function maxResponseBytes(req: DirRequest): number {
  switch (req.kind) {
    case 'consensus-microdesc':
      return 16 * 1024 * 1024;
    case 'microdescs':
      return 2 * 1024 * 1024;
    default:
      return 1024 * 1024;
  }
}
