import { NetDocError } from './errors.js';
import { atMostOne, base64Arg, exactlyOne, hexArg, intArg, intPairs, malformed, needArgs, timeArgs } from './fields.js';
import { sha1, sha256 } from './rsa.js';
import { asDocText, docBytes, tokenize, type NetDocItem } from './tokenizer.js';

/** A `dir-source` entry of the consensus authority section. */
export interface DirSource {
  readonly nickname: string;
  readonly v3ident: string;
  readonly address: string;
  readonly ip: string;
  readonly dirPort: number;
  readonly orPort: number;
  readonly contact: string | undefined;
  readonly voteDigest: string | undefined;
}

/** A router status entry of a microdesc consensus (dir-spec §3.4.1, microdesc flavor). */
export interface RouterStatus {
  readonly nickname: string;
  /** 20-byte RSA identity digest. */
  readonly rsaIdentity: Buffer;
  readonly ip: string;
  readonly orPort: number;
  readonly dirPort: number;
  /** `a` lines: extra OR addresses, e.g. `[::1]:9001`. */
  readonly orAddresses: readonly string[];
  /** SHA-256 digest of the relay's microdescriptor (the `m` line). */
  readonly microdescDigest: Buffer;
  readonly flags: ReadonlySet<string>;
  readonly version: string | undefined;
  readonly protocols: string | undefined;
  /** Consensus weight from `w Bandwidth=`. */
  readonly bandwidth: number;
  readonly unmeasured: boolean;
  readonly line: number;
}

export interface ConsensusSignature {
  /** `sha1` (no algorithm argument) or `sha256`; other algorithms are kept but never verify. */
  readonly algorithm: string;
  readonly identity: string;
  readonly signingKeyDigest: string;
  readonly signature: Buffer;
  readonly line: number;
}

export interface MdConsensus {
  readonly consensusMethod: number;
  readonly validAfter: number;
  readonly freshUntil: number;
  readonly validUntil: number;
  readonly votingDelay: readonly [number, number];
  readonly knownFlags: readonly string[];
  readonly requiredClientProtocols: string | undefined;
  readonly recommendedClientProtocols: string | undefined;
  readonly params: ReadonlyMap<string, number>;
  readonly dirSources: readonly DirSource[];
  readonly relays: readonly RouterStatus[];
  readonly bandwidthWeights: ReadonlyMap<string, number>;
  readonly signatures: readonly ConsensusSignature[];
  /** Digests of the signed portion: document start through the space after the first `directory-signature`. */
  readonly signedDigest: { readonly sha1: Buffer; readonly sha256: Buffer };
  readonly text: string;
}

type Section = 'preamble' | 'authorities' | 'routers' | 'footer' | 'signatures';

const INT32_MAX = 2 ** 31 - 1;
const PARAM_MIN = -(2 ** 31);

/** Parse a microdesc-flavored consensus. Throws NetDocError('malformed' | 'too-large'). */
export function parseMdConsensus(doc: Uint8Array | string): MdConsensus {
  const text = asDocText(doc);
  const items = tokenize(text);
  const first = items[0];
  if (first?.keyword !== 'network-status-version' || first.args[0] !== '3' || first.args[1] !== 'microdesc') {
    throw malformed(first, 'not a microdesc consensus (network-status-version 3 microdesc)');
  }
  const preamble: NetDocItem[] = [];
  const authorities: NetDocItem[][] = [];
  const routers: NetDocItem[][] = [];
  const footer: NetDocItem[] = [];
  const sigItems: NetDocItem[] = [];
  let section: Section = 'preamble';
  for (const item of items) {
    const kw = item.keyword;
    if (kw === 'directory-signature') section = 'signatures';
    else if (kw === 'directory-footer') {
      if (section === 'footer' || section === 'signatures') throw malformed(item, 'directory-footer out of place');
      section = 'footer';
    } else if (kw === 'dir-source') {
      if (section !== 'preamble' && section !== 'authorities') throw malformed(item, 'dir-source out of place');
      section = 'authorities';
      authorities.push([]);
    } else if (kw === 'r') {
      if (section === 'footer' || section === 'signatures') throw malformed(item, 'router entry out of place');
      section = 'routers';
      routers.push([]);
    } else if (section === 'signatures') {
      throw malformed(item, `${kw} after directory-signature`);
    }
    switch (section) {
      case 'preamble':
        preamble.push(item);
        break;
      case 'authorities':
        authorities[authorities.length - 1]!.push(item);
        break;
      case 'routers':
        routers[routers.length - 1]!.push(item);
        break;
      case 'footer':
        footer.push(item);
        break;
      case 'signatures':
        sigItems.push(item);
        break;
    }
  }
  if (sigItems.length === 0) throw new NetDocError('malformed', 'consensus has no directory-signature');
  if (!footer.some((i) => i.keyword === 'directory-footer')) throw new NetDocError('malformed', 'consensus has no directory-footer');

  const p = 'consensus preamble';
  const status = exactlyOne(preamble, 'vote-status', p);
  if (status.args[0] !== 'consensus') throw malformed(status, 'vote-status is not consensus');
  const method = exactlyOne(preamble, 'consensus-method', p);
  const va = exactlyOne(preamble, 'valid-after', p);
  const fu = exactlyOne(preamble, 'fresh-until', p);
  const vu = exactlyOne(preamble, 'valid-until', p);
  const vd = exactlyOne(preamble, 'voting-delay', p);
  needArgs(vd, 2);
  const flagsItem = exactlyOne(preamble, 'known-flags', p);
  const params = atMostOne(preamble, 'params', p);
  const validAfter = timeArgs(va, va.args[0], va.args[1]);
  const freshUntil = timeArgs(fu, fu.args[0], fu.args[1]);
  const validUntil = timeArgs(vu, vu.args[0], vu.args[1]);
  if (!(validAfter < freshUntil && freshUntil <= validUntil)) {
    throw malformed(vu, 'need valid-after < fresh-until <= valid-until');
  }

  const knownFlags = new Set(flagsItem.args);
  const bw = atMostOne(footer, 'bandwidth-weights', 'consensus footer');
  const firstSig = sigItems[0]!;
  const signedEnd = firstSig.start + 'directory-signature '.length;
  const signed = docBytes(text, 0, signedEnd);
  return {
    consensusMethod: intArg(method, method.args[0], 1, INT32_MAX),
    validAfter,
    freshUntil,
    validUntil,
    votingDelay: [intArg(vd, vd.args[0], 0, INT32_MAX), intArg(vd, vd.args[1], 0, INT32_MAX)],
    knownFlags: flagsItem.args,
    requiredClientProtocols: atMostOne(preamble, 'required-client-protocols', p)?.args.join(' '),
    recommendedClientProtocols: atMostOne(preamble, 'recommended-client-protocols', p)?.args.join(' '),
    params: params ? intPairs(params, params.args, PARAM_MIN, INT32_MAX) : new Map(),
    dirSources: authorities.map(parseDirSource),
    relays: routers.map((r) => parseRouterStatus(r, knownFlags)),
    bandwidthWeights: bw ? intPairs(bw, bw.args, PARAM_MIN, INT32_MAX) : new Map(),
    signatures: sigItems.map(parseSignature),
    signedDigest: { sha1: sha1(signed), sha256: sha256(signed) },
    text,
  };
}

function parseDirSource(items: NetDocItem[]): DirSource {
  const ds = items[0]!;
  needArgs(ds, 6);
  const where = 'dir-source entry';
  const contact = atMostOne(items, 'contact', where);
  const vote = atMostOne(items, 'vote-digest', where);
  return {
    nickname: ds.args[0]!,
    // Legacy-key entries (`nick-legacy`) carry the same kind of hex digest.
    v3ident: hexArg(ds, ds.args[1], 20).toString('hex').toUpperCase(),
    address: ds.args[2]!,
    ip: ipv4Arg(ds, ds.args[3]),
    dirPort: intArg(ds, ds.args[4], 0, 65535),
    orPort: intArg(ds, ds.args[5], 0, 65535),
    contact: contact?.args.join(' '),
    voteDigest: vote?.args[0],
  };
}

function parseRouterStatus(items: NetDocItem[], knownFlags: ReadonlySet<string>): RouterStatus {
  const r = items[0]!;
  needArgs(r, 7);
  const where = `router entry (line ${r.line})`;
  const m = exactlyOne(items, 'm', where);
  const s = exactlyOne(items, 's', where);
  const v = atMostOne(items, 'v', where);
  const pr = atMostOne(items, 'pr', where);
  const w = atMostOne(items, 'w', where);
  for (const f of s.args) if (!knownFlags.has(f)) throw malformed(s, `flag ${f} not in known-flags`);
  timeArgs(r, r.args[2], r.args[3]);
  let bandwidth = 0;
  let unmeasured = false;
  if (w) {
    // Unknown keys in `w` are allowed; only Bandwidth and Unmeasured matter to a client.
    const pairs = intPairs(w, w.args, 0, INT32_MAX);
    bandwidth = pairs.get('Bandwidth') ?? 0;
    unmeasured = pairs.get('Unmeasured') === 1;
  }
  return {
    nickname: r.args[0]!,
    rsaIdentity: base64Arg(r, r.args[1], 20),
    ip: ipv4Arg(r, r.args[4]),
    orPort: intArg(r, r.args[5], 1, 65535),
    dirPort: intArg(r, r.args[6], 0, 65535),
    orAddresses: items.filter((i) => i.keyword === 'a').map((a) => {
      needArgs(a, 1);
      return a.args[0]!;
    }),
    microdescDigest: base64Arg(m, m.args[0], 32),
    flags: new Set(s.args),
    version: v?.args.join(' '),
    protocols: pr?.args.join(' '),
    bandwidth,
    unmeasured,
    line: r.line,
  };
}

function parseSignature(item: NetDocItem): ConsensusSignature {
  if (item.keyword !== 'directory-signature') throw malformed(item, `${item.keyword} after directory-signature`);
  const twoArgs = item.args.length === 2;
  if (!twoArgs && item.args.length < 3) throw malformed(item, 'directory-signature needs 2 or 3 arguments');
  const [algorithm, id, skd] = twoArgs ? ['sha1', item.args[0], item.args[1]] : [item.args[0]!, item.args[1], item.args[2]];
  if (item.object?.label !== 'SIGNATURE') throw malformed(item, 'directory-signature without SIGNATURE object');
  return {
    algorithm,
    identity: hexArg(item, id, 20).toString('hex').toUpperCase(),
    signingKeyDigest: hexArg(item, skd, 20).toString('hex').toUpperCase(),
    signature: item.object.body,
    line: item.line,
  };
}

function ipv4Arg(item: NetDocItem, s: string | undefined): string {
  const parts = (s ?? '').split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw malformed(item, `${item.keyword}: bad IPv4 address`);
  }
  return s!;
}
