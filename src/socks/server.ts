// The SOCKS server engine for one client connection: bytes in -> actions out, time passed in.
// It never touches sockets, clocks or the backend; the glue executes the actions it returns.
import { isInternalTarget, isIpLiteral, isValidDestination, parseIpv4, parseIpv6, type SocksTarget } from './address.js';
import {
  endReasonToSocks5Reply,
  SOCKS4_REPLY_COUNTERS,
  SOCKS5_REPLY_COUNTERS,
  Socks4Reply,
  Socks5Reply,
  SocksEvent,
  STREAM_END_COUNTERS,
  StreamEndReason,
  type OnionErrorCode,
  type Socks4ReplyCode,
  type Socks5ReplyCode,
  type StreamEndReasonCode,
} from './codes.js';
import { HTTP_NOT_A_PROXY_RESPONSE, looksLikeHttp } from './http-reply.js';
import {
  clientAllowed,
  DEFAULT_ISOLATION,
  isolationKey,
  safeSocksRefuses,
  type IsolationFlags,
  type Ipv4Prefix,
  type SocksCommand,
} from './policy.js';
import {
  AuthMethod,
  Command,
  encodeMethodSelection,
  encodeSocks4Reply,
  encodeSocks5Reply,
  encodeUserPassStatus,
  MAX_HANDSHAKE_MESSAGE,
  parseSocks4Request,
  parseSocks5Greeting,
  parseSocks5Request,
  parseUserPass,
  SOCKS4_VERSION,
  SOCKS5_VERSION,
  type ParseResult,
  type UserPass,
} from './wire.js';

export interface SocksListenerConfig {
  /** Distinguishes listeners in isolation keys: separate listeners never share circuits. */
  readonly listenerId: number;
  readonly sessionGroup?: number | undefined;
  /** When set, SOCKS5 clients must authenticate with exactly these; SOCKS4 is refused. */
  readonly requiredCredentials?: { readonly username: string; readonly password: string } | undefined;
  /** Send Tor's 0xF0-0xF7 onion-service reply codes. */
  readonly extendedErrors: boolean;
  /** Refuse requests that carry only an IP address. */
  readonly safeSocks: boolean;
  /** Client IPv4 prefixes admitted; empty or absent admits all. */
  readonly allowedClients?: readonly Ipv4Prefix[] | undefined;
  readonly isolation: IsolationFlags;
  /** Time from accept until the request must be complete. */
  readonly handshakeTimeoutMs: number;
  /** Time from request until the backend must answer; 0 or absent waits for the backend's own timeout. */
  readonly connectTimeoutMs?: number | undefined;
  /** Pick NO AUTH over USERNAME/PASSWORD when both are offered (gives up SOCKS-auth isolation). */
  readonly preferNoAuth?: boolean | undefined;
  /** Accept SOCKS4/4a (default true). */
  readonly allowSocks4?: boolean | undefined;
  /**
   * Refuse CONNECT to this host or private networks (C tor's ClientRejectInternalAddresses), replying
   * general failure. Default false here: the plugin decides (tor turns it off for test networks).
   */
  readonly rejectInternalAddresses?: boolean | undefined;
}

export const DEFAULT_LISTENER_CONFIG: SocksListenerConfig = Object.freeze({
  listenerId: 0,
  extendedErrors: false,
  safeSocks: false,
  isolation: DEFAULT_ISOLATION,
  handshakeTimeoutMs: 10_000,
});

export interface SocksClient {
  /** Client IPv4 address, u32 host order. */
  readonly addr: number;
  readonly port: number;
}

export type SocksProtocol = 'socks4' | 'socks4a' | 'socks5';

/** What the client asked for, handed to the backend glue. */
export interface SocksRequest {
  readonly command: SocksCommand;
  readonly target: SocksTarget;
  readonly protocol: SocksProtocol;
  readonly isolationKey: string;
}

export type SocksAction =
  /** Write these bytes to the client. */
  | { readonly type: 'send'; readonly bytes: Uint8Array }
  /** Open a stream (connect) or run a lookup (resolve, resolve_ptr) through the backend. */
  | { readonly type: 'open'; readonly request: SocksRequest }
  /** Client bytes for the stream (optimistic data before the reply, then the relayed stream). */
  | { readonly type: 'forward'; readonly bytes: Uint8Array }
  /** The client half-closed: end the client-to-target direction after forwarded bytes. */
  | { readonly type: 'forward-eof' }
  /** The pending open/resolve is no longer wanted (timeout). */
  | { readonly type: 'abort' }
  /** Close the client connection once queued sends are flushed. */
  | { readonly type: 'close' }
  /** Bump this counter by one. */
  | { readonly type: 'count'; readonly counter: string };

export type ResolveAnswer =
  | { readonly kind: 'ipv4'; readonly addr: string }
  | { readonly kind: 'ipv6'; readonly addr: string }
  | { readonly kind: 'host'; readonly host: string }
  | { readonly kind: 'error' };

export type SocksState =
  | 'start'
  | 'socks5-greeting'
  | 'socks5-auth'
  | 'socks5-request'
  | 'socks4-request'
  | 'awaiting-connect'
  | 'awaiting-resolve'
  | 'established'
  | 'closed';

const EMPTY = new Uint8Array(0);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}


export class SocksServerSession {
  private stateValue: SocksState = 'start';
  /** Unparsed bytes of the message in progress; never longer than MAX_HANDSHAKE_MESSAGE. */
  private pending: Uint8Array = EMPTY;
  private deadline: number | undefined;
  private version: 4 | 5 = 5;
  private auth: UserPass | undefined;
  private protocol: SocksProtocol = 'socks5';
  private sawOptimistic = false;
  private sawTrailing = false;
  private req: SocksRequest | undefined;

  private constructor(
    private readonly config: SocksListenerConfig,
    private readonly client: SocksClient,
    now: number,
  ) {
    this.deadline = now + config.handshakeTimeoutMs;
  }

  /** A new client connection; the actions may already close it (client prefix filter). */
  static accept(config: SocksListenerConfig, client: SocksClient, now: number): { session: SocksServerSession; actions: SocksAction[] } {
    const session = new SocksServerSession(config, client, now);
    const actions: SocksAction[] = [];
    if (!clientAllowed(config.allowedClients, client.addr)) {
      session.finish(actions, SocksEvent.CLIENT_NOT_ALLOWED);
    }
    return { session, actions };
  }

  get state(): SocksState {
    return this.stateValue;
  }

  /** The request once parsed (for stats and the glue's bookkeeping). */
  get request(): SocksRequest | undefined {
    return this.req;
  }

  /** Bytes held while a message is incomplete (bounded by MAX_HANDSHAKE_MESSAGE). */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** When `poll` must next be called, or undefined when no timer runs. */
  nextDeadline(): number | undefined {
    return this.deadline;
  }

  /** Time passes: fires the handshake or connect timeout. */
  poll(now: number): SocksAction[] {
    const actions: SocksAction[] = [];
    if (this.deadline === undefined || now < this.deadline) return actions;
    this.deadline = undefined;
    if (this.stateValue === 'awaiting-connect' || this.stateValue === 'awaiting-resolve') {
      actions.push({ type: 'abort' }, { type: 'count', counter: SocksEvent.CONNECT_TIMEOUT });
      this.replyFailure(actions, Socks5Reply.TTL_EXPIRED);
      this.finish(actions);
    } else if (this.stateValue !== 'established' && this.stateValue !== 'closed') {
      this.finish(actions, SocksEvent.HANDSHAKE_TIMEOUT);
    }
    return actions;
  }

  /** Bytes from the client. */
  receive(bytes: Uint8Array, now: number): SocksAction[] {
    const actions: SocksAction[] = [];
    if (bytes.length === 0) return actions;
    switch (this.stateValue) {
      case 'closed':
        return actions;
      case 'established':
        actions.push({ type: 'forward', bytes });
        return actions;
      case 'awaiting-connect':
        this.optimistic(actions, bytes);
        return actions;
      case 'awaiting-resolve':
        this.trailing(actions);
        return actions;
      default:
        break;
    }
    let buf = concat(this.pending, bytes);
    this.pending = EMPTY;
    while (buf.length > 0) {
      const used = this.step(actions, buf, now);
      if (used === 0) {
        // Incomplete message: keep it, bounded.
        if (buf.length > MAX_HANDSHAKE_MESSAGE) {
          this.finish(actions, SocksEvent.BAD_REQUEST);
          return actions;
        }
        this.pending = buf.slice();
        return actions;
      }
      buf = buf.subarray(used);
      // step() may have moved the state on; re-read it without the narrowing above.
      const s = this.state as SocksState;
      if (s === 'closed') return actions;
      if (s === 'awaiting-connect' || s === 'awaiting-resolve' || s === 'established') {
        if (buf.length > 0) {
          if (s === 'awaiting-resolve') this.trailing(actions);
          else this.optimistic(actions, buf.slice());
        }
        return actions;
      }
    }
    return actions;
  }

  /** The client sent FIN. */
  clientEof(): SocksAction[] {
    const actions: SocksAction[] = [];
    switch (this.stateValue) {
      case 'closed':
      case 'awaiting-resolve':
        // A resolve answer is still wanted by a half-closed client.
        break;
      case 'awaiting-connect':
      case 'established':
        actions.push({ type: 'forward-eof' });
        break;
      default:
        this.finish(actions, SocksEvent.CLIENT_CLOSED);
    }
    return actions;
  }

  /** The backend opened the stream; `bound` is the address reported to the client, if any. */
  connected(bound?: SocksTarget): SocksAction[] {
    const actions: SocksAction[] = [];
    if (this.stateValue !== 'awaiting-connect') return actions;
    this.deadline = undefined;
    if (this.version === 5) {
      this.send5(actions, Socks5Reply.SUCCEEDED, bound);
    } else {
      const ip = bound?.kind === 'ipv4' ? parseIpv4(bound.addr) : undefined;
      this.send4(actions, Socks4Reply.GRANTED, bound?.kind === 'ipv4' ? bound.port : 0, ip);
    }
    this.stateValue = 'established';
    return actions;
  }

  /**
   * The backend could not open the stream. `onionCode` is reported instead of the END reason's
   * mapping only when the listener enables extended errors.
   */
  failed(reason: number, onionCode?: OnionErrorCode): SocksAction[] {
    const actions: SocksAction[] = [];
    if (this.stateValue !== 'awaiting-connect' && this.stateValue !== 'awaiting-resolve') return actions;
    this.countEndReason(actions, reason);
    const code = onionCode !== undefined && this.config.extendedErrors ? onionCode : endReasonToSocks5Reply(reason);
    this.replyFailure(actions, code);
    this.finish(actions);
    return actions;
  }

  /** The answer to RESOLVE / RESOLVE_PTR; the connection closes after the reply, as in C tor. */
  resolved(answer: ResolveAnswer): SocksAction[] {
    const actions: SocksAction[] = [];
    if (this.stateValue !== 'awaiting-resolve') return actions;
    if (this.version === 4) {
      const ip = answer.kind === 'ipv4' ? parseIpv4(answer.addr) : undefined;
      if (ip) this.send4(actions, Socks4Reply.GRANTED, 0, ip);
      else {
        this.countEndReason(actions, StreamEndReason.RESOLVEFAILED);
        this.send4(actions, Socks4Reply.REJECTED);
      }
    } else if (answer.kind === 'ipv4' && parseIpv4(answer.addr)) {
      this.send5(actions, Socks5Reply.SUCCEEDED, { kind: 'ipv4', addr: answer.addr, port: 0 });
    } else if (answer.kind === 'ipv6' && parseIpv6(answer.addr)) {
      this.send5(actions, Socks5Reply.SUCCEEDED, { kind: 'ipv6', addr: answer.addr, port: 0 });
    } else if (answer.kind === 'host' && answer.host.length > 0 && answer.host.length <= 255) {
      this.send5(actions, Socks5Reply.SUCCEEDED, { kind: 'host', host: answer.host, port: 0 });
    } else {
      this.countEndReason(actions, StreamEndReason.RESOLVEFAILED);
      this.send5(actions, Socks5Reply.HOST_UNREACHABLE);
    }
    this.finish(actions);
    return actions;
  }

  // --- handshake steps: each consumes one message (returns bytes used) or 0 when incomplete ---

  private step(actions: SocksAction[], buf: Uint8Array, now: number): number {
    switch (this.stateValue) {
      case 'start':
        return this.start(actions, buf, now);
      case 'socks5-greeting':
        return this.greeting(actions, buf);
      case 'socks5-auth':
        return this.userPass(actions, buf);
      case 'socks5-request':
        return this.request5(actions, buf, now);
      case 'socks4-request':
        return this.request4(actions, buf, now);
      default:
        return buf.length;
    }
  }

  private start(actions: SocksAction[], buf: Uint8Array, now: number): number {
    const v = buf[0]!;
    if (v === SOCKS5_VERSION) {
      this.stateValue = 'socks5-greeting';
      return this.greeting(actions, buf);
    }
    if (v === SOCKS4_VERSION) {
      this.version = 4;
      this.stateValue = 'socks4-request';
      return this.request4(actions, buf, now);
    }
    if (looksLikeHttp(v)) {
      actions.push({ type: 'send', bytes: HTTP_NOT_A_PROXY_RESPONSE });
      this.finish(actions, SocksEvent.HTTP_REQUEST);
      return buf.length;
    }
    this.finish(actions, SocksEvent.BAD_VERSION);
    return buf.length;
  }

  /** Handle a parse error or incompleteness shared by all steps; returns bytes used or undefined for ok. */
  private settle<T>(actions: SocksAction[], r: ParseResult<T>, buf: Uint8Array): number | undefined {
    if (r.status === 'incomplete') return 0;
    if (r.status === 'error') {
      if (r.error === 'bad-address-type') {
        this.send5(actions, Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED);
        this.finish(actions, SocksEvent.BAD_REQUEST);
      } else if (r.error === 'bad-auth-version') {
        // C tor answers a bad sub-negotiation with a SOCKS5 failure reply; clients treat it as refusal.
        this.send5(actions, Socks5Reply.GENERAL_FAILURE);
        this.finish(actions, SocksEvent.BAD_AUTH_VERSION);
      } else if (this.version === 4) {
        this.send4(actions, Socks4Reply.REJECTED);
        this.finish(actions, SocksEvent.BAD_REQUEST);
      } else {
        this.finish(actions, r.error === 'bad-version' ? SocksEvent.BAD_VERSION : SocksEvent.BAD_REQUEST);
      }
      return buf.length;
    }
    return undefined;
  }

  private greeting(actions: SocksAction[], buf: Uint8Array): number {
    const r = parseSocks5Greeting(buf);
    const early = this.settle(actions, r, buf);
    if (early !== undefined || r.status !== 'ok') return early ?? buf.length;
    const offered = new Set(r.value.methods);
    const userPass = offered.has(AuthMethod.USERPASS);
    const noAuth = offered.has(AuthMethod.NO_AUTH);
    let method: number = AuthMethod.NO_ACCEPTABLE;
    if (this.config.requiredCredentials) {
      if (userPass) method = AuthMethod.USERPASS;
    } else if (userPass && !(noAuth && this.config.preferNoAuth)) {
      method = AuthMethod.USERPASS;
    } else if (noAuth) {
      method = AuthMethod.NO_AUTH;
    }
    actions.push({ type: 'send', bytes: encodeMethodSelection(method) });
    if (method === AuthMethod.NO_ACCEPTABLE) {
      this.finish(actions, SocksEvent.NO_ACCEPTABLE_METHOD);
      return buf.length;
    }
    this.stateValue = method === AuthMethod.USERPASS ? 'socks5-auth' : 'socks5-request';
    return r.consumed;
  }

  private userPass(actions: SocksAction[], buf: Uint8Array): number {
    const r = parseUserPass(buf);
    const early = this.settle(actions, r, buf);
    if (early !== undefined || r.status !== 'ok') return early ?? buf.length;
    const need = this.config.requiredCredentials;
    if (need && !(bytesEqual(r.value.username, need.username) && bytesEqual(r.value.password, need.password))) {
      actions.push({ type: 'send', bytes: encodeUserPassStatus(false) });
      this.finish(actions, SocksEvent.AUTH_FAILED);
      return buf.length;
    }
    this.auth = r.value;
    actions.push({ type: 'send', bytes: encodeUserPassStatus(true) });
    this.stateValue = 'socks5-request';
    return r.consumed;
  }

  private request5(actions: SocksAction[], buf: Uint8Array, now: number): number {
    const r = parseSocks5Request(buf);
    const early = this.settle(actions, r, buf);
    if (early !== undefined || r.status !== 'ok') return early ?? buf.length;
    const { command, target } = r.value;
    const cmd = command === Command.CONNECT ? 'connect' : command === Command.RESOLVE ? 'resolve' : command === Command.RESOLVE_PTR ? 'resolve_ptr' : undefined;
    if (!cmd) {
      // BIND and UDP ASSOCIATE are real SOCKS5 commands we do not offer; anything else is a malformed
      // request, answered with a general failure as C tor does.
      if (command === Command.BIND || command === Command.UDP_ASSOCIATE) {
        this.send5(actions, Socks5Reply.COMMAND_NOT_SUPPORTED);
        this.finish(actions);
      } else {
        this.send5(actions, Socks5Reply.GENERAL_FAILURE);
        this.finish(actions, SocksEvent.BAD_REQUEST);
      }
      return buf.length;
    }
    if (!this.admit(actions, cmd, target)) return buf.length;
    this.protocol = 'socks5';
    this.begin(actions, cmd, target, now);
    return r.consumed;
  }

  private request4(actions: SocksAction[], buf: Uint8Array, now: number): number {
    const r = parseSocks4Request(buf);
    const early = this.settle(actions, r, buf);
    if (early !== undefined || r.status !== 'ok') return early ?? buf.length;
    const { command, target, userId, is4a } = r.value;
    const reject = (event: string) => {
      this.send4(actions, Socks4Reply.REJECTED);
      this.finish(actions, event);
      return buf.length;
    };
    if (this.config.allowSocks4 === false) return reject(SocksEvent.SOCKS4_DISABLED);
    if (this.config.requiredCredentials) return reject(SocksEvent.AUTH_FAILED);
    const cmd = command === Command.CONNECT ? 'connect' : command === Command.RESOLVE ? 'resolve' : undefined;
    if (!cmd) return reject(SocksEvent.BAD_REQUEST);
    if (!this.admit(actions, cmd, target)) return buf.length;
    this.protocol = is4a ? 'socks4a' : 'socks4';
    if (userId.length > 0) this.auth = { username: userId, password: EMPTY };
    this.begin(actions, cmd, target, now);
    return r.consumed;
  }

  /** Destination validity and safe-socks; replies and closes when refused. */
  private admit(actions: SocksAction[], cmd: SocksCommand, target: SocksTarget): boolean {
    if (target.kind === 'host' && !isValidDestination(target.host)) {
      this.replyFailure(actions, Socks5Reply.GENERAL_FAILURE);
      this.finish(actions, SocksEvent.INVALID_HOSTNAME);
      return false;
    }
    if (cmd === 'resolve_ptr' && target.kind === 'host' && !isIpLiteral(target.host)) {
      // A reverse lookup needs an address; C tor answers 0x08 to any name, in-addr.arpa names included.
      this.replyFailure(actions, Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED);
      this.finish(actions, SocksEvent.INVALID_HOSTNAME);
      return false;
    }
    if (cmd === 'connect' && this.config.rejectInternalAddresses && isInternalTarget(target)) {
      this.replyFailure(actions, Socks5Reply.GENERAL_FAILURE);
      this.finish(actions, SocksEvent.INTERNAL_ADDRESS_REJECTED);
      return false;
    }
    if (safeSocksRefuses(this.config.safeSocks, cmd, target)) {
      this.replyFailure(actions, Socks5Reply.NOT_ALLOWED);
      this.finish(actions, SocksEvent.SAFE_SOCKS_REJECTED);
      return false;
    }
    return true;
  }

  private begin(actions: SocksAction[], command: SocksCommand, target: SocksTarget, now: number): void {
    const key = isolationKey(this.config.isolation, {
      listenerId: this.config.listenerId,
      sessionGroup: this.config.sessionGroup,
      clientAddr: this.client.addr,
      protocol: this.protocol,
      auth: this.auth,
      target,
    });
    this.req = { command, target, protocol: this.protocol, isolationKey: key };
    actions.push({ type: 'open', request: this.req });
    actions.push({
      type: 'count',
      counter: command === 'connect' ? SocksEvent.REQUEST_CONNECT : command === 'resolve' ? SocksEvent.REQUEST_RESOLVE : SocksEvent.REQUEST_RESOLVE_PTR,
    });
    this.stateValue = command === 'connect' ? 'awaiting-connect' : 'awaiting-resolve';
    const t = this.config.connectTimeoutMs;
    // The handshake deadline stops here; the connect deadline (if any) starts, measured from the request.
    this.deadline = t && t > 0 ? now + t : undefined;
  }

  // --- helpers ---

  private optimistic(actions: SocksAction[], bytes: Uint8Array): void {
    if (!this.sawOptimistic) {
      this.sawOptimistic = true;
      actions.push({ type: 'count', counter: SocksEvent.OPTIMISTIC_DATA });
    }
    actions.push({ type: 'forward', bytes });
  }

  private trailing(actions: SocksAction[]): void {
    if (this.sawTrailing) return;
    this.sawTrailing = true;
    actions.push({ type: 'count', counter: SocksEvent.TRAILING_DATA });
  }

  private countEndReason(actions: SocksAction[], reason: number): void {
    const d = STREAM_END_COUNTERS.get(reason as StreamEndReasonCode);
    if (d) actions.push({ type: 'count', counter: d.name });
  }

  /** A failure reply in the client's protocol version. */
  private replyFailure(actions: SocksAction[], code5: Socks5ReplyCode): void {
    if (this.version === 4) this.send4(actions, Socks4Reply.REJECTED);
    else this.send5(actions, code5);
  }

  private send5(actions: SocksAction[], code: Socks5ReplyCode, bound?: SocksTarget): void {
    actions.push({ type: 'send', bytes: encodeSocks5Reply(code, bound) });
    actions.push({ type: 'count', counter: SOCKS5_REPLY_COUNTERS.get(code)!.name });
  }

  private send4(actions: SocksAction[], code: Socks4ReplyCode, port = 0, ip?: Uint8Array): void {
    actions.push({ type: 'send', bytes: encodeSocks4Reply(code, port, ip) });
    actions.push({ type: 'count', counter: SOCKS4_REPLY_COUNTERS.get(code)!.name });
  }

  private finish(actions: SocksAction[], event?: string): void {
    if (event) actions.push({ type: 'count', counter: event });
    actions.push({ type: 'close' });
    this.stateValue = 'closed';
    this.deadline = undefined;
    this.pending = EMPTY;
  }
}

function bytesEqual(a: Uint8Array, want: string): boolean {
  const b = Buffer.from(want, 'utf8');
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
