import { NetDocError } from './errors.js';
import { base64Arg, malformed, needArgs } from './fields.js';
import { parsePortPolicy, REJECT_ALL, type PortPolicy } from './portpolicy.js';
import { sha256 } from './rsa.js';
import { asDocText, docBytes, tokenize, type NetDocItem } from './tokenizer.js';

/** A microdescriptor (dir-spec §3.3). The TAP `onion-key` is ignored. */
export interface Microdesc {
  /** SHA-256 of the exact bytes of this microdescriptor; matches the consensus `m` line. */
  readonly digest: Buffer;
  /** Base64 of the digest without padding, as used in /tor/micro/d/ URLs and `m` lines. */
  readonly digestB64: string;
  /** 32-byte curve25519 ntor onion key. */
  readonly ntorOnionKey: Buffer;
  /** `family` entries as written (`$HEX`, `$HEX=nick`, `$HEX~nick` or nicknames). */
  readonly family: readonly string[];
  /** `family-ids` entries (e.g. `ed25519:…`). */
  readonly familyIds: readonly string[];
  readonly ipv4Policy: PortPolicy;
  readonly ipv6Policy: PortPolicy;
  /** 32-byte Ed25519 identity from `id ed25519`, if present. */
  readonly ed25519Id: Buffer | undefined;
  readonly text: string;
}

/** Parse a concatenation of microdescriptors (the body of /tor/micro/d/…). */
export function parseMicrodescs(doc: Uint8Array | string): Microdesc[] {
  const text = asDocText(doc);
  const items = tokenize(text);
  const groups: NetDocItem[][] = [];
  let current: NetDocItem[] | undefined;
  for (const item of items) {
    // A microdesc starts at `onion-key`; descriptors without a TAP key start at their `ntor-onion-key`.
    const startsNew =
      item.keyword === 'onion-key' ||
      (item.keyword === 'ntor-onion-key' && (current === undefined || current.some((i) => i.keyword === 'ntor-onion-key')));
    if (startsNew) {
      current = [];
      groups.push(current);
    }
    if (current === undefined) throw malformed(item, 'microdescriptor must start with onion-key or ntor-onion-key');
    current.push(item);
  }
  return groups.map((g, i) => {
    const end = i + 1 < groups.length ? groups[i + 1]![0]!.start : text.length;
    return microdescFromItems(text, g, end);
  });
}

function microdescFromItems(text: string, items: NetDocItem[], end: number): Microdesc {
  const start = items[0]!.start;
  let ntor: Buffer | undefined;
  let family: string[] = [];
  let familyIds: string[] = [];
  let ipv4Policy: PortPolicy | undefined;
  let ipv6Policy: PortPolicy | undefined;
  let ed25519Id: Buffer | undefined;
  const once = (item: NetDocItem, seen: unknown): void => {
    if (seen !== undefined) throw malformed(item, `duplicate ${item.keyword}`);
  };
  for (const item of items) {
    switch (item.keyword) {
      case 'ntor-onion-key':
        once(item, ntor);
        needArgs(item, 1);
        ntor = base64Arg(item, item.args[0], 32);
        break;
      case 'family':
        if (family.length > 0) throw malformed(item, 'duplicate family');
        family = [...item.args];
        break;
      case 'family-ids':
        if (familyIds.length > 0) throw malformed(item, 'duplicate family-ids');
        familyIds = [...item.args];
        break;
      case 'p':
        once(item, ipv4Policy);
        needArgs(item, 2);
        ipv4Policy = parsePortPolicy(item.args[0]!, item.args[1]!, item.line);
        break;
      case 'p6':
        once(item, ipv6Policy);
        needArgs(item, 2);
        ipv6Policy = parsePortPolicy(item.args[0]!, item.args[1]!, item.line);
        break;
      case 'id':
        needArgs(item, 2);
        if (item.args[0] === 'ed25519') {
          once(item, ed25519Id);
          ed25519Id = base64Arg(item, item.args[1], 32);
        }
        break;
      default:
        break; // onion-key, a, unknown keywords: ignored
    }
  }
  if (ntor === undefined) throw new NetDocError('malformed', 'microdescriptor without ntor-onion-key', items[0]!.line);
  const digest = sha256(docBytes(text, start, end));
  return {
    digest,
    digestB64: digest.toString('base64').replace(/=+$/, ''),
    ntorOnionKey: ntor,
    family,
    familyIds,
    ipv4Policy: ipv4Policy ?? REJECT_ALL,
    ipv6Policy: ipv6Policy ?? REJECT_ALL,
    ed25519Id,
    text: text.slice(start, end),
  };
}

/**
 * Keep only microdescriptors whose digest was asked for; the rest are counted as digest mismatches
 * (a directory cache may not substitute documents).
 */
export function matchMicrodescs(
  mds: readonly Microdesc[],
  wanted: Iterable<Buffer>,
): { readonly matched: Microdesc[]; readonly unexpected: number } {
  const want = new Set<string>();
  for (const d of wanted) want.add(d.toString('base64'));
  const matched: Microdesc[] = [];
  let unexpected = 0;
  for (const md of mds) {
    if (want.has(md.digest.toString('base64'))) matched.push(md);
    else unexpected++;
  }
  return { matched, unexpected };
}
