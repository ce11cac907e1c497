// Listener policy that needs no I/O: client prefix filter, safe-socks, isolation key derivation.
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { formatTarget, targetIsIpOnly, type SocksTarget } from './address.js';

/** An IPv4 prefix: address as u32 (host order) and prefix length 0..32. */
export interface Ipv4Prefix {
  readonly addr: number;
  readonly len: number;
}

export function prefixMask(len: number): number {
  return len <= 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
}

export function prefixContains(p: Ipv4Prefix, ipv4: number): boolean {
  const m = prefixMask(p.len);
  return ((ipv4 & m) >>> 0) === ((p.addr & m) >>> 0);
}

/** No prefix list (or an empty one) admits every client. */
export function clientAllowed(prefixes: readonly Ipv4Prefix[] | undefined, ipv4: number): boolean {
  if (!prefixes || prefixes.length === 0) return true;
  return prefixes.some((p) => prefixContains(p, ipv4));
}

/** "10.0.0.0/8" -> prefix; undefined when malformed. */
export function parseIpv4Prefix(s: string): Ipv4Prefix | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(s);
  if (!m) return undefined;
  const o = m.slice(1, 5).map(Number);
  const len = m[5] === undefined ? 32 : Number(m[5]);
  if (o.some((x) => x > 255) || len > 32) return undefined;
  return { addr: ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0, len };
}

/** Safe-socks refuses requests that give only an IP (the client resolved the name itself: a DNS leak). */
export function safeSocksRefuses(safeSocks: boolean, command: SocksCommand, target: SocksTarget): boolean {
  return safeSocks && command !== 'resolve_ptr' && targetIsIpOnly(target);
}

export type SocksCommand = 'connect' | 'resolve' | 'resolve_ptr';

/** node:crypto's one-shot `hash` (Node >= 20.12), cheaper than a Hash object per call. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'hex') => string }).hash;

/** Which request properties separate streams onto different circuits (C tor's Isolate* flags). */
export interface IsolationFlags {
  readonly clientAddr: boolean;
  readonly socksAuth: boolean;
  readonly destPort: boolean;
  readonly destAddr: boolean;
  readonly clientProtocol: boolean;
}

export const DEFAULT_ISOLATION: IsolationFlags = Object.freeze({
  clientAddr: true,
  socksAuth: true,
  destPort: false,
  destAddr: false,
  clientProtocol: false,
});

export interface IsolationInput {
  readonly listenerId: number;
  readonly sessionGroup?: number | undefined;
  readonly clientAddr: number;
  readonly protocol: 'socks4' | 'socks4a' | 'socks5';
  /** SOCKS5 username/password, or SOCKS4 user id as username; undefined when none was given. */
  readonly auth?: { readonly username: Uint8Array; readonly password: Uint8Array } | undefined;
  readonly target: SocksTarget;
}

/**
 * Streams with equal keys may share a circuit. The key is a digest so that credentials and
 * destinations folded into it never appear in memory dumps of circuit tables or in logs.
 * Fields are length-prefixed so no two different inputs encode alike.
 */
export function isolationKey(flags: IsolationFlags, input: IsolationInput): string {
  // This runs for every CONNECT. Without credentials or destinations in the key (the common case), its
  // inputs are only the listener and the client: remember those digests.
  const cacheable = !flags.destAddr && !flags.destPort && !(flags.socksAuth && input.auth);
  const memo = cacheable
    ? `${input.listenerId}|${input.sessionGroup ?? ''}|${flags.clientAddr ? input.clientAddr >>> 0 : ''}|${flags.clientProtocol ? input.protocol : ''}|${flags.socksAuth ? 'N' : ''}`
    : undefined;
  if (memo !== undefined) {
    const known = recentKeys.get(memo);
    if (known !== undefined) return known;
  }
  const key = digestKey(flags, input);
  if (memo !== undefined) {
    if (recentKeys.size >= RECENT_KEYS_MAX) recentKeys.clear();
    recentKeys.set(memo, key);
  }
  return key;
}

/** Digests of credential-free, destination-free inputs (listener and client), bounded. */
const recentKeys = new Map<string, string>();
const RECENT_KEYS_MAX = 4096;

function digestKey(flags: IsolationFlags, input: IsolationInput): string {
  // One buffer and one digest call.
  const fields: [string, Uint8Array | string][] = [['L', String(input.listenerId)]];
  if (input.sessionGroup !== undefined) fields.push(['G', String(input.sessionGroup)]);
  if (flags.clientAddr) fields.push(['C', String(input.clientAddr >>> 0)]);
  if (flags.clientProtocol) fields.push(['P', input.protocol]);
  if (flags.socksAuth) {
    if (input.auth) fields.push(['U', input.auth.username], ['W', input.auth.password]);
    else fields.push(['N', '']);
  }
  if (flags.destAddr) {
    const t = formatTarget(input.target);
    fields.push(['A', t.slice(0, t.lastIndexOf(':'))]);
  }
  if (flags.destPort) fields.push(['O', String(input.target.port)]);
  let size = 0;
  for (const [, v] of fields) size += 5 + (typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length);
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (const [tag, v] of fields) {
    at = buf.write(tag, at, 'latin1') + at;
    const len = typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
    at = buf.writeUInt32BE(len, at);
    if (typeof v === 'string') at += buf.write(v, at, 'utf8');
    else {
      buf.set(v, at);
      at += v.length;
    }
  }
  const key = oneShotHash ? oneShotHash('sha256', buf, 'hex') : createHash('sha256').update(buf).digest('hex');
  buf.fill(0); // credentials folded into the key do not linger in the heap
  return key;
}
