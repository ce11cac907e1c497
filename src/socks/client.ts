// A pure SOCKS5 client codec (RFC 1928/1929 + Tor's RESOLVE/RESOLVE_PTR), for talking to a SOCKS
// port such as C tor's: encoders for what the client sends, incremental decoders for what it gets back.
import { formatIpv4, formatIpv6, type SocksTarget } from './address.js';
import { AddrType, AuthMethod, Command, encodeSocks5Address, SOCKS5_VERSION, USERPASS_VERSION } from './wire.js';

export type DecodeResult<T> =
  | { readonly status: 'incomplete' }
  | { readonly status: 'ok'; readonly value: T; readonly consumed: number }
  | { readonly status: 'error'; readonly error: string };

const INCOMPLETE = { status: 'incomplete' } as const;

/** Greeting offering `methods` (default: no-auth only). */
export function encodeGreeting(methods: readonly number[] = [AuthMethod.NO_AUTH]): Uint8Array {
  if (methods.length < 1 || methods.length > 255) throw new RangeError('1..255 methods');
  return Uint8Array.of(SOCKS5_VERSION, methods.length, ...methods);
}

/** RFC 1929 request; each field 0..255 bytes (UTF-8). */
export function encodeUserPassAuth(username: string | Uint8Array, password: string | Uint8Array): Uint8Array {
  const u = typeof username === 'string' ? Buffer.from(username, 'utf8') : username;
  const p = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  if (u.length > 255 || p.length > 255) throw new RangeError('username/password longer than 255 bytes');
  return Uint8Array.of(USERPASS_VERSION, u.length, ...u, p.length, ...p);
}

export type ClientCommand = 'connect' | 'resolve' | 'resolve_ptr';

const COMMAND_BYTE: Record<ClientCommand, number> = {
  connect: Command.CONNECT,
  resolve: Command.RESOLVE,
  resolve_ptr: Command.RESOLVE_PTR,
};

export function encodeRequest(command: ClientCommand, target: SocksTarget): Uint8Array {
  if (target.port < 0 || target.port > 0xffff || !Number.isInteger(target.port)) throw new RangeError('port');
  if (target.kind === 'host' && (target.host.length === 0 || Buffer.byteLength(target.host, 'latin1') > 255)) {
    throw new RangeError('hostname must be 1..255 bytes');
  }
  return Uint8Array.of(SOCKS5_VERSION, COMMAND_BYTE[command], 0x00, ...encodeSocks5Address(target));
}

export function encodeConnect(target: SocksTarget): Uint8Array {
  return encodeRequest('connect', target);
}

/** The server's method choice (0xFF = none acceptable). */
export function decodeMethodSelection(b: Uint8Array): DecodeResult<number> {
  if (b.length < 2) return INCOMPLETE;
  if (b[0] !== SOCKS5_VERSION) return { status: 'error', error: 'bad-version' };
  return { status: 'ok', value: b[1]!, consumed: 2 };
}

/** True when the server accepted the username/password. */
export function decodeAuthReply(b: Uint8Array): DecodeResult<boolean> {
  if (b.length < 2) return INCOMPLETE;
  if (b[0] !== USERPASS_VERSION) return { status: 'error', error: 'bad-auth-version' };
  return { status: 'ok', value: b[1] === 0x00, consumed: 2 };
}

export interface Socks5ReplyMessage {
  /** Reply code: 0 success, 1..8 RFC 1928 failures, 0xF0..0xF7 Tor extended errors. */
  readonly code: number;
  /** BND.ADDR/BND.PORT; for RESOLVE the answer (port 0), for RESOLVE_PTR a hostname. */
  readonly bound: SocksTarget;
}

export function decodeReply(b: Uint8Array): DecodeResult<Socks5ReplyMessage> {
  if (b.length < 4) return INCOMPLETE;
  if (b[0] !== SOCKS5_VERSION) return { status: 'error', error: 'bad-version' };
  const code = b[1]!;
  const atyp = b[3]!;
  let end: number;
  let bound: (port: number) => SocksTarget;
  if (atyp === AddrType.IPV4) {
    end = 8;
    if (b.length < end + 2) return INCOMPLETE;
    const addr = formatIpv4(b, 4);
    bound = (port) => ({ kind: 'ipv4', addr, port });
  } else if (atyp === AddrType.IPV6) {
    end = 20;
    if (b.length < end + 2) return INCOMPLETE;
    const addr = formatIpv6(b, 4);
    bound = (port) => ({ kind: 'ipv6', addr, port });
  } else if (atyp === AddrType.DOMAIN) {
    if (b.length < 5) return INCOMPLETE;
    end = 5 + b[4]!;
    if (b.length < end + 2) return INCOMPLETE;
    const host = Buffer.from(b.subarray(5, end)).toString('latin1');
    bound = (port) => ({ kind: 'host', host, port });
  } else if (atyp === 0 && code !== 0 && b.length >= 10) {
    // C tor's failed-RESOLVE reply leaves ATYP zero: ten bytes, no usable address.
    return { status: 'ok', value: { code, bound: { kind: 'ipv4', addr: '0.0.0.0', port: 0 } }, consumed: 10 };
  } else if (atyp === 0 && code !== 0) {
    return INCOMPLETE;
  } else {
    return { status: 'error', error: 'bad-address-type' };
  }
  const port = (b[end]! << 8) | b[end + 1]!;
  return { status: 'ok', value: { code, bound: bound(port) }, consumed: end + 2 };
}
