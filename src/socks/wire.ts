// SOCKS4/4a/5 message formats: incremental parsers (incomplete | ok | error) and reply encoders.
// Pure functions over byte arrays; no state, no I/O.
import { formatIpv4, formatIpv6, MAX_HOSTNAME_LEN, parseIpv4, parseIpv6, type SocksTarget } from './address.js';

export const SOCKS4_VERSION = 0x04;
export const SOCKS5_VERSION = 0x05;
export const USERPASS_VERSION = 0x01;

export const AuthMethod = { NO_AUTH: 0x00, GSSAPI: 0x01, USERPASS: 0x02, NO_ACCEPTABLE: 0xff } as const;
export const Command = { CONNECT: 0x01, BIND: 0x02, UDP_ASSOCIATE: 0x03, RESOLVE: 0xf0, RESOLVE_PTR: 0xf1 } as const;
export const AddrType = { IPV4: 0x01, DOMAIN: 0x03, IPV6: 0x04 } as const;

/** Longest SOCKS4 user id accepted (a NUL-terminated field; Tor bounds it similarly). */
export const MAX_SOCKS4_USERID = 255;

export type ParseResult<T> =
  | { readonly status: 'incomplete' }
  | { readonly status: 'ok'; readonly value: T; readonly consumed: number }
  | { readonly status: 'error'; readonly error: WireError };

export type WireError =
  | 'bad-version'
  | 'bad-auth-version'
  | 'bad-address-type'
  | 'field-too-long'
  | 'bad-socks4-address';

const INCOMPLETE = { status: 'incomplete' } as const;
const err = (error: WireError) => ({ status: 'error', error }) as const;

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

export interface Socks5Greeting {
  readonly methods: readonly number[];
}

export function parseSocks5Greeting(b: Uint8Array): ParseResult<Socks5Greeting> {
  if (b.length < 2) return INCOMPLETE;
  if (b[0] !== SOCKS5_VERSION) return err('bad-version');
  const n = b[1]!;
  if (b.length < 2 + n) return INCOMPLETE;
  return { status: 'ok', value: { methods: Array.from(b.subarray(2, 2 + n)) }, consumed: 2 + n };
}

export interface UserPass {
  readonly username: Uint8Array;
  readonly password: Uint8Array;
}

export function parseUserPass(b: Uint8Array): ParseResult<UserPass> {
  if (b.length < 2) return INCOMPLETE;
  if (b[0] !== USERPASS_VERSION) return err('bad-auth-version');
  const ulen = b[1]!;
  if (b.length < 2 + ulen + 1) return INCOMPLETE;
  const plen = b[2 + ulen]!;
  const end = 3 + ulen + plen;
  if (b.length < end) return INCOMPLETE;
  return {
    status: 'ok',
    value: { username: b.slice(2, 2 + ulen), password: b.slice(3 + ulen, end) },
    consumed: end,
  };
}

export interface Socks5Request {
  readonly command: number;
  readonly target: SocksTarget;
}

export function parseSocks5Request(b: Uint8Array): ParseResult<Socks5Request> {
  if (b.length < 4) return INCOMPLETE;
  if (b[0] !== SOCKS5_VERSION) return err('bad-version');
  const command = b[1]!;
  const atyp = b[3]!;
  let addrEnd: number;
  let target: (port: number) => SocksTarget;
  if (atyp === AddrType.IPV4) {
    addrEnd = 8;
    if (b.length < addrEnd + 2) return INCOMPLETE;
    const addr = formatIpv4(b, 4);
    target = (port) => ({ kind: 'ipv4', addr, port });
  } else if (atyp === AddrType.IPV6) {
    addrEnd = 20;
    if (b.length < addrEnd + 2) return INCOMPLETE;
    const addr = formatIpv6(b, 4);
    target = (port) => ({ kind: 'ipv6', addr, port });
  } else if (atyp === AddrType.DOMAIN) {
    if (b.length < 5) return INCOMPLETE;
    addrEnd = 5 + b[4]!;
    if (b.length < addrEnd + 2) return INCOMPLETE;
    const host = latin1(b, 5, addrEnd);
    target = (port) => ({ kind: 'host', host, port });
  } else {
    return err('bad-address-type');
  }
  const port = (b[addrEnd]! << 8) | b[addrEnd + 1]!;
  return { status: 'ok', value: { command, target: target(port) }, consumed: addrEnd + 2 };
}

export interface Socks4Request {
  readonly command: number;
  readonly target: SocksTarget;
  readonly userId: Uint8Array;
  /** True for SOCKS4a (address 0.0.0.x with x != 0 and a hostname after the user id). */
  readonly is4a: boolean;
}

export function parseSocks4Request(b: Uint8Array): ParseResult<Socks4Request> {
  if (b.length < 8) return INCOMPLETE;
  if (b[0] !== SOCKS4_VERSION) return err('bad-version');
  const command = b[1]!;
  const port = (b[2]! << 8) | b[3]!;
  const userEnd = b.indexOf(0, 8);
  if (userEnd < 0) return b.length - 8 > MAX_SOCKS4_USERID ? err('field-too-long') : INCOMPLETE;
  if (userEnd - 8 > MAX_SOCKS4_USERID) return err('field-too-long');
  const userId = b.slice(8, userEnd);
  const is4a = b[4] === 0 && b[5] === 0 && b[6] === 0 && b[7] !== 0;
  if (!is4a) {
    if (b[4] === 0 && b[5] === 0 && b[6] === 0 && b[7] === 0) return err('bad-socks4-address');
    return {
      status: 'ok',
      value: { command, userId, is4a, target: { kind: 'ipv4', addr: formatIpv4(b, 4), port } },
      consumed: userEnd + 1,
    };
  }
  const hostStart = userEnd + 1;
  const hostEnd = b.indexOf(0, hostStart);
  if (hostEnd < 0) return b.length - hostStart > MAX_HOSTNAME_LEN ? err('field-too-long') : INCOMPLETE;
  if (hostEnd - hostStart > MAX_HOSTNAME_LEN) return err('field-too-long');
  return {
    status: 'ok',
    value: { command, userId, is4a, target: { kind: 'host', host: latin1(b, hostStart, hostEnd), port } },
    consumed: hostEnd + 1,
  };
}

/** Longest message any of the parsers above can need before deciding (SOCKS4a with both fields full). */
export const MAX_HANDSHAKE_MESSAGE = 8 + MAX_SOCKS4_USERID + 1 + MAX_HOSTNAME_LEN + 1;

export function encodeMethodSelection(method: number): Uint8Array {
  return Uint8Array.of(SOCKS5_VERSION, method);
}

export function encodeUserPassStatus(ok: boolean): Uint8Array {
  return Uint8Array.of(USERPASS_VERSION, ok ? 0x00 : 0x01);
}

/** Encode an address + port as SOCKS5 ATYP/ADDR/PORT; undefined target means 0.0.0.0:0. */
export function encodeSocks5Address(t: SocksTarget | undefined): Uint8Array {
  if (!t) return Uint8Array.of(AddrType.IPV4, 0, 0, 0, 0, 0, 0);
  const port = [(t.port >> 8) & 0xff, t.port & 0xff];
  if (t.kind === 'ipv4') {
    const a = parseIpv4(t.addr) ?? new Uint8Array(4);
    return Uint8Array.of(AddrType.IPV4, ...a, ...port);
  }
  if (t.kind === 'ipv6') {
    const a = parseIpv6(t.addr) ?? new Uint8Array(16);
    return Uint8Array.of(AddrType.IPV6, ...a, ...port);
  }
  const name = Uint8Array.from(t.host.slice(0, MAX_HOSTNAME_LEN), (c) => c.charCodeAt(0) & 0xff);
  return Uint8Array.of(AddrType.DOMAIN, name.length, ...name, ...port);
}

export function encodeSocks5Reply(code: number, bound?: SocksTarget): Uint8Array {
  return Uint8Array.of(SOCKS5_VERSION, code, 0x00, ...encodeSocks5Address(bound));
}

/** SOCKS4 reply: VN=0, CD, DSTPORT, DSTIP (Tor puts a RESOLVE answer in DSTIP). */
export function encodeSocks4Reply(code: number, port = 0, ipv4: Uint8Array = new Uint8Array(4)): Uint8Array {
  return Uint8Array.of(0x00, code, (port >> 8) & 0xff, port & 0xff, ...ipv4.subarray(0, 4));
}
