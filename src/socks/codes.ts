// SOCKS reply codes, Tor stream END reasons, the END-reason -> SOCKS5 mapping C tor uses, and the
// error-counter descriptor tables for all of them.
import { EndReason } from '../tor/cell/relay/end.js';

export type Severity = 'error' | 'warn' | 'info';

/** An error counter as the runtime registers it (VPP style). */
export interface CounterDescriptor {
  readonly name: string;
  readonly description: string;
  readonly severity: Severity;
}

/** SOCKS5 reply field values (RFC 1928 section 6, plus Tor's ExtendedErrors 0xF0-0xF7). */
export const Socks5Reply = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
  ONION_DESCRIPTOR_NOT_FOUND: 0xf0,
  ONION_DESCRIPTOR_INVALID: 0xf1,
  ONION_INTRODUCTION_FAILED: 0xf2,
  ONION_RENDEZVOUS_FAILED: 0xf3,
  ONION_MISSING_CLIENT_AUTH: 0xf4,
  ONION_WRONG_CLIENT_AUTH: 0xf5,
  ONION_BAD_ADDRESS: 0xf6,
  ONION_INTRODUCTION_TIMEOUT: 0xf7,
} as const;
export type Socks5ReplyCode = (typeof Socks5Reply)[keyof typeof Socks5Reply];

/** Tor's extended (onion-service) reply codes: sent only when the listener enables ExtendedErrors. */
export type OnionErrorCode = 0xf0 | 0xf1 | 0xf2 | 0xf3 | 0xf4 | 0xf5 | 0xf6 | 0xf7;
export function isOnionErrorCode(code: number): code is OnionErrorCode {
  return code >= 0xf0 && code <= 0xf7;
}

/** SOCKS4 reply field values. */
export const Socks4Reply = { GRANTED: 0x5a, REJECTED: 0x5b } as const;
export type Socks4ReplyCode = (typeof Socks4Reply)[keyof typeof Socks4Reply];

/**
 * Tor relay END cell reasons (tor-spec 6.3), numbered as on the wire: the cell layer's table, under the
 * name the backend contract uses for why a stream ended.
 */
export const StreamEndReason = EndReason;
export type StreamEndReasonCode = (typeof StreamEndReason)[keyof typeof StreamEndReason];
export type StreamEndReasonName = keyof typeof StreamEndReason;

const END_REASON_NAMES = new Map<number, StreamEndReasonName>(
  (Object.entries(StreamEndReason) as [StreamEndReasonName, number][]).map(([k, v]) => [v, k]),
);

export function streamEndReasonName(reason: number): StreamEndReasonName | undefined {
  return END_REASON_NAMES.get(reason);
}

/**
 * The SOCKS5 reply code C tor sends when a stream ends with `reason` before it was connected
 * (reasons.c stream_end_reason_to_socks5_response). DONE before CONNECTED means the far side closed
 * without accepting, hence "connection refused"; unknown reasons (and NOTDIRECTORY, which has no case
 * there) fall back to a general failure.
 */
export function endReasonToSocks5Reply(reason: number): Socks5ReplyCode {
  switch (reason) {
    case StreamEndReason.RESOLVEFAILED:
    case StreamEndReason.NOROUTE:
      return Socks5Reply.HOST_UNREACHABLE;
    case StreamEndReason.CONNECTREFUSED:
    case StreamEndReason.DONE:
    case StreamEndReason.CONNRESET:
      return Socks5Reply.CONNECTION_REFUSED;
    case StreamEndReason.EXITPOLICY:
      return Socks5Reply.NOT_ALLOWED;
    case StreamEndReason.TIMEOUT:
      return Socks5Reply.TTL_EXPIRED;
    default:
      return Socks5Reply.GENERAL_FAILURE;
  }
}

function table<K extends number>(rows: [K, string, string, Severity][]): ReadonlyMap<K, CounterDescriptor> {
  return new Map(rows.map(([k, name, description, severity]) => [k, Object.freeze({ name, description, severity })]));
}

/** One counter per SOCKS5 reply code the server can send. */
export const SOCKS5_REPLY_COUNTERS: ReadonlyMap<Socks5ReplyCode, CounterDescriptor> = table<Socks5ReplyCode>([
  [0x00, 'socks5-reply-succeeded', 'SOCKS5 requests answered with success', 'info'],
  [0x01, 'socks5-reply-general-failure', 'SOCKS5 requests answered with general failure', 'error'],
  [0x02, 'socks5-reply-not-allowed', 'SOCKS5 requests refused by ruleset (exit policy, safe-socks)', 'warn'],
  [0x03, 'socks5-reply-network-unreachable', 'SOCKS5 requests answered network unreachable', 'warn'],
  [0x04, 'socks5-reply-host-unreachable', 'SOCKS5 requests answered host unreachable (resolve failed, no route)', 'warn'],
  [0x05, 'socks5-reply-connection-refused', 'SOCKS5 requests answered connection refused', 'warn'],
  [0x06, 'socks5-reply-ttl-expired', 'SOCKS5 requests answered TTL expired (timeout)', 'warn'],
  [0x07, 'socks5-reply-command-not-supported', 'SOCKS5 requests with an unsupported command (BIND, UDP ASSOCIATE, unknown)', 'warn'],
  [0x08, 'socks5-reply-address-type-not-supported', 'SOCKS5 requests with an unknown address type', 'warn'],
  [0xf0, 'socks5-reply-onion-descriptor-not-found', 'onion service descriptor not found', 'warn'],
  [0xf1, 'socks5-reply-onion-descriptor-invalid', 'onion service descriptor invalid', 'warn'],
  [0xf2, 'socks5-reply-onion-introduction-failed', 'onion service introduction failed', 'warn'],
  [0xf3, 'socks5-reply-onion-rendezvous-failed', 'onion service rendezvous failed', 'warn'],
  [0xf4, 'socks5-reply-onion-missing-client-auth', 'onion service needs client authorization', 'warn'],
  [0xf5, 'socks5-reply-onion-wrong-client-auth', 'onion service client authorization wrong', 'warn'],
  [0xf6, 'socks5-reply-onion-bad-address', 'invalid .onion address', 'warn'],
  [0xf7, 'socks5-reply-onion-introduction-timeout', 'onion service introduction timed out', 'warn'],
]);

/** One counter per SOCKS4 reply code the server can send. */
export const SOCKS4_REPLY_COUNTERS: ReadonlyMap<Socks4ReplyCode, CounterDescriptor> = table<Socks4ReplyCode>([
  [0x5a, 'socks4-reply-granted', 'SOCKS4 requests granted', 'info'],
  [0x5b, 'socks4-reply-rejected', 'SOCKS4 requests rejected or failed', 'warn'],
]);

/** One counter per stream END reason. */
export const STREAM_END_COUNTERS: ReadonlyMap<StreamEndReasonCode, CounterDescriptor> = table<StreamEndReasonCode>([
  [1, 'stream-end-misc', 'streams ended: misc error', 'warn'],
  [2, 'stream-end-resolvefailed', 'streams ended: resolve failed', 'warn'],
  [3, 'stream-end-connectrefused', 'streams ended: connection refused', 'warn'],
  [4, 'stream-end-exitpolicy', 'streams ended: exit policy refused', 'warn'],
  [5, 'stream-end-destroy', 'streams ended: circuit destroyed', 'warn'],
  [6, 'stream-end-done', 'streams ended: closed normally', 'info'],
  [7, 'stream-end-timeout', 'streams ended: timed out', 'warn'],
  [8, 'stream-end-noroute', 'streams ended: no route to host', 'warn'],
  [9, 'stream-end-hibernating', 'streams ended: relay hibernating', 'warn'],
  [10, 'stream-end-internal', 'streams ended: internal error', 'error'],
  [11, 'stream-end-resourcelimit', 'streams ended: out of resources', 'warn'],
  [12, 'stream-end-connreset', 'streams ended: connection reset', 'warn'],
  [13, 'stream-end-torprotocol', 'streams ended: Tor protocol violation', 'error'],
  [14, 'stream-end-notdirectory', 'streams ended: relay is not a directory', 'warn'],
]);

/** Session-level events of the SOCKS server that are not reply codes. */
export const SocksEvent = {
  HANDSHAKE_TIMEOUT: 'socks-handshake-timeout',
  CONNECT_TIMEOUT: 'socks-connect-timeout',
  HTTP_REQUEST: 'socks-http-request',
  BAD_VERSION: 'socks-bad-version',
  NO_ACCEPTABLE_METHOD: 'socks-no-acceptable-method',
  AUTH_FAILED: 'socks-auth-failed',
  BAD_AUTH_VERSION: 'socks-bad-auth-version',
  BAD_REQUEST: 'socks-bad-request',
  INVALID_HOSTNAME: 'socks-invalid-hostname',
  SAFE_SOCKS_REJECTED: 'socks-safe-socks-rejected',
  INTERNAL_ADDRESS_REJECTED: 'socks-internal-address-rejected',
  CLIENT_NOT_ALLOWED: 'socks-client-not-allowed',
  CLIENT_CLOSED: 'socks-client-closed-in-handshake',
  TRAILING_DATA: 'socks-trailing-data-dropped',
  SOCKS4_DISABLED: 'socks-socks4-disabled',
  REQUEST_CONNECT: 'socks-request-connect',
  REQUEST_RESOLVE: 'socks-request-resolve',
  REQUEST_RESOLVE_PTR: 'socks-request-resolve-ptr',
  OPTIMISTIC_DATA: 'socks-optimistic-data',
} as const;
export type SocksEventName = (typeof SocksEvent)[keyof typeof SocksEvent];

export const SOCKS_EVENT_COUNTERS: readonly CounterDescriptor[] = Object.freeze([
  { name: SocksEvent.HANDSHAKE_TIMEOUT, description: 'SOCKS handshakes not completed in time', severity: 'warn' },
  { name: SocksEvent.CONNECT_TIMEOUT, description: 'SOCKS requests whose stream did not open in time', severity: 'warn' },
  { name: SocksEvent.HTTP_REQUEST, description: 'HTTP requests on the SOCKS port (answered 501)', severity: 'warn' },
  { name: SocksEvent.BAD_VERSION, description: 'connections with an unknown SOCKS version byte', severity: 'error' },
  { name: SocksEvent.NO_ACCEPTABLE_METHOD, description: 'SOCKS5 greetings offering no acceptable method', severity: 'warn' },
  { name: SocksEvent.AUTH_FAILED, description: 'SOCKS5 username/password rejected', severity: 'warn' },
  { name: SocksEvent.BAD_AUTH_VERSION, description: 'SOCKS5 username/password with a bad sub-negotiation version', severity: 'error' },
  { name: SocksEvent.BAD_REQUEST, description: 'malformed SOCKS requests', severity: 'error' },
  { name: SocksEvent.INVALID_HOSTNAME, description: 'SOCKS requests naming an invalid destination', severity: 'warn' },
  { name: SocksEvent.SAFE_SOCKS_REJECTED, description: 'IP-only requests refused by safe-socks', severity: 'warn' },
  { name: SocksEvent.INTERNAL_ADDRESS_REJECTED, description: 'CONNECTs to this host or private networks refused', severity: 'warn' },
  { name: SocksEvent.CLIENT_NOT_ALLOWED, description: 'clients outside the allowed prefixes', severity: 'warn' },
  { name: SocksEvent.CLIENT_CLOSED, description: 'clients that closed before the handshake finished', severity: 'info' },
  { name: SocksEvent.TRAILING_DATA, description: 'bytes after a RESOLVE request, dropped', severity: 'info' },
  { name: SocksEvent.SOCKS4_DISABLED, description: 'SOCKS4 requests on a listener that disables SOCKS4', severity: 'warn' },
  { name: SocksEvent.REQUEST_CONNECT, description: 'CONNECT requests accepted', severity: 'info' },
  { name: SocksEvent.REQUEST_RESOLVE, description: 'RESOLVE requests accepted', severity: 'info' },
  { name: SocksEvent.REQUEST_RESOLVE_PTR, description: 'RESOLVE_PTR requests accepted', severity: 'info' },
  { name: SocksEvent.OPTIMISTIC_DATA, description: 'streams whose client sent data before the reply', severity: 'info' },
] satisfies CounterDescriptor[]);

/** Every counter this module can name, for registration in one call. */
export function allSocksCounters(): CounterDescriptor[] {
  return [
    ...SOCKS5_REPLY_COUNTERS.values(),
    ...SOCKS4_REPLY_COUNTERS.values(),
    ...STREAM_END_COUNTERS.values(),
    ...SOCKS_EVENT_COUNTERS,
  ];
}
