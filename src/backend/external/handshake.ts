// The SOCKS5 client side of one stream to a Tor SOCKS port, as a pure state machine: username and
// password carry the isolation key (Tor's IsolateSOCKSAuth), then one CONNECT, RESOLVE or
// RESOLVE_PTR. Bytes in, bytes out; the reply code is mapped back to a Tor stream END reason.

import { decodeAuthReply, decodeMethodSelection, decodeReply, encodeGreeting, encodeRequest, encodeUserPassAuth, type ClientCommand, type Socks5ReplyMessage } from '../../socks/client.js';
import type { SocksTarget } from '../../socks/address.js';
import { isOnionErrorCode, Socks5Reply, StreamEndReason } from '../../socks/codes.js';
import { AuthMethod } from '../../socks/wire.js';

export type HandshakeStep =
  | { readonly status: 'continue'; readonly send?: Uint8Array }
  | { readonly status: 'done'; readonly reply: Socks5ReplyMessage; readonly rest: Uint8Array }
  | { readonly status: 'failed'; readonly reason: number; readonly onionCode?: number; readonly detail: string };

/** A SOCKS5 reply code as the Tor stream END reason it most likely came from. */
export function socks5ReplyToEndReason(code: number): number {
  switch (code) {
    case Socks5Reply.NOT_ALLOWED:
      return StreamEndReason.EXITPOLICY;
    case Socks5Reply.NETWORK_UNREACHABLE:
      return StreamEndReason.NOROUTE;
    case Socks5Reply.HOST_UNREACHABLE:
      return StreamEndReason.RESOLVEFAILED;
    case Socks5Reply.CONNECTION_REFUSED:
      return StreamEndReason.CONNECTREFUSED;
    case Socks5Reply.TTL_EXPIRED:
      return StreamEndReason.TIMEOUT;
    case Socks5Reply.COMMAND_NOT_SUPPORTED:
    case Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED:
      return StreamEndReason.TORPROTOCOL;
    default:
      return StreamEndReason.MISC;
  }
}

type State = 'method' | 'auth' | 'reply' | 'done';

/** Longest reply we wait for (a domain-name BND.ADDR is at most 262 bytes). */
const MAX_BUFFER = 600;

export class Socks5ClientHandshake {
  private state: State = 'method';
  private buf = new Uint8Array(0);

  constructor(
    private readonly command: ClientCommand,
    private readonly target: SocksTarget,
    private readonly username: string,
    private readonly password: string,
  ) {}

  /** The greeting: offer only USERNAME/PASSWORD, so every stream carries its isolation key. */
  start(): Uint8Array {
    return encodeGreeting([AuthMethod.USERPASS]);
  }

  receive(chunk: Uint8Array): HandshakeStep {
    const merged = new Uint8Array(this.buf.length + chunk.length);
    merged.set(this.buf);
    merged.set(chunk, this.buf.length);
    this.buf = merged;
    if (this.buf.length > MAX_BUFFER) return this.fail(StreamEndReason.TORPROTOCOL, 'SOCKS reply too long');
    for (;;) {
      if (this.state === 'method') {
        const r = decodeMethodSelection(this.buf);
        if (r.status === 'incomplete') return { status: 'continue' };
        if (r.status === 'error' || r.value !== AuthMethod.USERPASS) {
          return this.fail(StreamEndReason.TORPROTOCOL, 'SOCKS port refused username/password authentication');
        }
        this.buf = this.buf.subarray(r.consumed);
        this.state = 'auth';
        return { status: 'continue', send: encodeUserPassAuth(this.username, this.password) };
      }
      if (this.state === 'auth') {
        const r = decodeAuthReply(this.buf);
        if (r.status === 'incomplete') return { status: 'continue' };
        if (r.status === 'error' || !r.value) return this.fail(StreamEndReason.TORPROTOCOL, 'SOCKS authentication refused');
        this.buf = this.buf.subarray(r.consumed);
        this.state = 'reply';
        return { status: 'continue', send: encodeRequest(this.command, this.target) };
      }
      if (this.state === 'reply') {
        const r = decodeReply(this.buf);
        if (r.status === 'incomplete') return { status: 'continue' };
        if (r.status === 'error') return this.fail(StreamEndReason.TORPROTOCOL, `bad SOCKS reply: ${r.error}`);
        const rest = this.buf.subarray(r.consumed);
        this.state = 'done';
        if (r.value.code !== Socks5Reply.SUCCEEDED) {
          const code = r.value.code;
          return isOnionErrorCode(code)
            ? { status: 'failed', reason: StreamEndReason.MISC, onionCode: code, detail: `SOCKS reply 0x${code.toString(16)}` }
            : { status: 'failed', reason: socks5ReplyToEndReason(code), detail: `SOCKS reply 0x${code.toString(16)}` };
        }
        return { status: 'done', reply: r.value, rest };
      }
      return this.fail(StreamEndReason.INTERNAL, 'handshake already finished');
    }
  }

  private fail(reason: number, detail: string): HandshakeStep {
    this.state = 'done';
    return { status: 'failed', reason, detail };
  }
}
