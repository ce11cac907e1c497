import { NetDocError } from './errors.js';
import { atMostOne, exactlyOne, hexArg, malformed, needArgs, timeArgs } from './fields.js';
import { rsaModulusBits, rsaPublicKeyFromDer, sha1, verifyRawDigestSignature, type RsaPublicKey } from './rsa.js';
import { asDocText, docBytes, tokenize, type NetDocItem } from './tokenizer.js';

/** A directory authority key certificate (dir-spec §3.1), parsed but not yet checked. */
export interface AuthCert {
  /** Upper-case hex of the `fingerprint` line (the authority's v3ident as claimed). */
  readonly fingerprint: string;
  readonly dirAddress: string | undefined;
  readonly published: number;
  readonly expires: number;
  readonly identityKey: RsaPublicKey;
  readonly signingKey: RsaPublicKey;
  readonly crosscert: Buffer;
  readonly certification: Buffer;
  /** Bytes covered by `dir-key-certification`: from the first keyword through that keyword's newline. */
  readonly signedBytes: Buffer;
  /** The certificate's exact text (for caching). */
  readonly text: string;
}

/** A certificate whose signatures, identity and lifetime have been checked. */
export interface ValidatedAuthCert extends AuthCert {
  readonly validated: true;
}

export interface AuthCertCheck {
  /** Hex v3ident the certificate must belong to (a configured authority). */
  readonly expectedV3ident?: string;
  /** Current time, ms since the epoch. */
  readonly now: number;
}

const MIN_IDENTITY_BITS = 1024;

/** Parse one or more concatenated certificates (the body of /tor/keys/all or /tor/keys/fp/…). */
export function parseAuthCerts(doc: Uint8Array | string): AuthCert[] {
  const text = asDocText(doc);
  const items = tokenize(text);
  const groups: NetDocItem[][] = [];
  for (const item of items) {
    if (item.keyword === 'dir-key-certificate-version') groups.push([]);
    const g = groups[groups.length - 1];
    if (g === undefined) throw malformed(item, 'certificate must start with dir-key-certificate-version');
    g.push(item);
  }
  return groups.map((g) => certFromItems(text, g));
}

/** Parse exactly one certificate. */
export function parseAuthCert(doc: Uint8Array | string): AuthCert {
  const certs = parseAuthCerts(doc);
  if (certs.length !== 1) throw new NetDocError('malformed', `expected one certificate, found ${certs.length}`);
  return certs[0]!;
}

function certFromItems(text: string, items: NetDocItem[]): AuthCert {
  const first = items[0]!;
  const last = items[items.length - 1]!;
  needArgs(first, 1);
  if (first.args[0] !== '3') throw malformed(first, `unsupported certificate version ${first.args[0]}`);
  if (last.keyword !== 'dir-key-certification') throw malformed(last, 'certificate must end with dir-key-certification');
  const where = 'key certificate';
  const fp = exactlyOne(items, 'fingerprint', where);
  needArgs(fp, 1);
  const fingerprint = hexArg(fp, fp.args[0], 20).toString('hex').toUpperCase();
  const pub = exactlyOne(items, 'dir-key-published', where);
  const exp = exactlyOne(items, 'dir-key-expires', where);
  const addr = atMostOne(items, 'dir-address', where);
  const idItem = exactlyOne(items, 'dir-identity-key', where);
  const signItem = exactlyOne(items, 'dir-signing-key', where);
  const crossItem = exactlyOne(items, 'dir-key-crosscert', where);
  exactlyOne(items, 'dir-key-certification', where);
  return {
    fingerprint,
    dirAddress: addr?.args[0],
    published: timeArgs(pub, pub.args[0], pub.args[1]),
    expires: timeArgs(exp, exp.args[0], exp.args[1]),
    identityKey: rsaKeyObject(idItem),
    signingKey: rsaKeyObject(signItem),
    crosscert: signatureObject(crossItem, ['ID SIGNATURE', 'SIGNATURE']),
    certification: signatureObject(last, ['SIGNATURE']),
    signedBytes: docBytes(text, first.start, last.lineEnd),
    text: text.slice(first.start, last.end),
  };
}

export function rsaKeyObject(item: NetDocItem): RsaPublicKey {
  if (item.object?.label !== 'RSA PUBLIC KEY') throw malformed(item, `${item.keyword}: expected an RSA PUBLIC KEY object`);
  try {
    return rsaPublicKeyFromDer(item.object.body);
  } catch {
    throw malformed(item, `${item.keyword}: unparseable RSA key`);
  }
}

export function signatureObject(item: NetDocItem, labels: readonly string[]): Buffer {
  if (item.object === undefined || !labels.includes(item.object.label)) {
    throw malformed(item, `${item.keyword}: expected a ${labels.join(' or ')} object`);
  }
  return item.object.body;
}

/**
 * Check a certificate: fingerprint = SHA-1(DER(identity key)) and equals the configured v3ident,
 * identity key signs the certificate, signing key cross-certifies the identity, and it is unexpired.
 * Throws NetDocError ('wrong-identity' | 'bad-signature' | 'expired' | 'not-yet-valid' | 'malformed').
 */
export function validateAuthCert(cert: AuthCert, check: AuthCertCheck): ValidatedAuthCert {
  const realFp = cert.identityKey.sha1.toString('hex').toUpperCase();
  if (realFp !== cert.fingerprint) {
    throw new NetDocError('wrong-identity', `fingerprint ${cert.fingerprint} is not the identity key's digest ${realFp}`);
  }
  if (check.expectedV3ident !== undefined && check.expectedV3ident.toUpperCase() !== realFp) {
    throw new NetDocError('wrong-identity', `certificate for ${realFp}, expected ${check.expectedV3ident.toUpperCase()}`);
  }
  if (cert.expires <= cert.published) throw new NetDocError('malformed', 'certificate expires before it is published');
  if (rsaModulusBits(cert.identityKey) < MIN_IDENTITY_BITS) {
    throw new NetDocError('malformed', 'authority identity key too short');
  }
  if (!verifyRawDigestSignature(cert.identityKey, cert.certification, sha1(cert.signedBytes))) {
    throw new NetDocError('bad-signature', `dir-key-certification of ${realFp} does not verify`);
  }
  if (!verifyRawDigestSignature(cert.signingKey, cert.crosscert, cert.identityKey.sha1)) {
    throw new NetDocError('bad-signature', `dir-key-crosscert of ${realFp} does not verify`);
  }
  if (check.now >= cert.expires) throw new NetDocError('expired', `certificate of ${realFp} expired`);
  if (check.now < cert.published - CERT_CLOCK_SKEW_MS) {
    throw new NetDocError('not-yet-valid', `certificate of ${realFp} published in the future`);
  }
  return { ...cert, validated: true };
}

/** Tolerate authorities whose clocks run a little ahead of ours. */
const CERT_CLOCK_SKEW_MS = 24 * 3600 * 1000;
