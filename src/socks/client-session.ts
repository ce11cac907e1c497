// A pure SOCKS5 client session (for talking to a SOCKS port such as C tor's): it produces the bytes to
// send and turns the server's bytes into one outcome. By default each message waits for the previous
// reply: C tor (0.4.9) answers only the last message of a pipelined handshake, so a pipelined client
// would wait forever for the method-selection reply. `pipeline: true` suits servers that answer each.
import type { SocksTarget } from './address.js';
import { decodeAuthReply, decodeMethodSelection, decodeReply, encodeGreeting, encodeRequest, encodeUserPassAuth, type ClientCommand } from './client.js';
import { AuthMethod } from './wire.js';

export interface Socks5ClientOptions {
  readonly command: ClientCommand;
  readonly target: SocksTarget;
  /** Username/password (C tor isolates streams by them: IsolateSOCKSAuth). */
  readonly auth?: { readonly username: string | Uint8Array; readonly password: string | Uint8Array } | undefined;
  /** Send greeting, auth and request at once (default false; see above). */
  readonly pipeline?: boolean | undefined;
}

export type Socks5ClientOutcome =
  /** Reply 0x00. For connect `bound` is BND.ADDR; for resolve/resolve_ptr it is the answer. */
  | { readonly status: 'succeeded'; readonly bound: SocksTarget; readonly data: Uint8Array }
  /** The server refused: a SOCKS5 reply code (0x01..0x08, 0xF0..0xF7). */
  | { readonly status: 'failed'; readonly code: number }
  /** The server did not speak SOCKS5 as expected. */
  | { readonly status: 'protocol-error'; readonly error: string };

type Phase = 'method' | 'auth' | 'reply' | 'done';

export class Socks5ClientSession {
  private phase: Phase = 'method';
  private buf: Uint8Array = new Uint8Array(0);
  private readonly method: number;
  private readonly pipeline: boolean;

  constructor(private readonly options: Socks5ClientOptions) {
    this.method = options.auth ? AuthMethod.USERPASS : AuthMethod.NO_AUTH;
    this.pipeline = options.pipeline ?? false;
  }

  /** Bytes to send first. Throws RangeError on an unencodable target or credentials (caller's input). */
  start(): Uint8Array {
    const greeting = encodeGreeting([this.method]);
    if (!this.pipeline) return greeting;
    return concat(greeting, ...this.afterMethod());
  }

  /**
   * Server bytes. Returns bytes to send next (non-pipelined mode) and, once decided, the outcome; bytes
   * after a successful reply are stream data and come back in `outcome.data`.
   */
  receive(bytes: Uint8Array): { send?: Uint8Array; outcome?: Socks5ClientOutcome } {
    if (this.phase === 'done') return {};
    this.buf = concat(this.buf, bytes);
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.phase === 'method') {
        const r = decodeMethodSelection(this.buf);
        if (r.status === 'incomplete') break;
        if (r.status === 'error') return this.end({ status: 'protocol-error', error: r.error });
        if (r.value !== this.method) return this.end({ status: 'protocol-error', error: r.value === AuthMethod.NO_ACCEPTABLE ? 'no-acceptable-method' : 'unexpected-method' });
        this.buf = this.buf.subarray(r.consumed);
        if (!this.pipeline) out.push(this.options.auth ? this.authBytes(this.options.auth) : this.requestBytes());
        this.phase = this.options.auth ? 'auth' : 'reply';
      } else if (this.phase === 'auth') {
        const r = decodeAuthReply(this.buf);
        if (r.status === 'incomplete') break;
        // C tor answers a broken sub-negotiation with a SOCKS5 reply; either way the stream is refused.
        if (r.status === 'error') return this.end({ status: 'protocol-error', error: r.error });
        if (!r.value) return this.end({ status: 'protocol-error', error: 'auth-rejected' });
        this.buf = this.buf.subarray(r.consumed);
        if (!this.pipeline) out.push(this.requestBytes());
        this.phase = 'reply';
      } else {
        const r = decodeReply(this.buf);
        if (r.status === 'incomplete') break;
        if (r.status === 'error') return this.end({ status: 'protocol-error', error: r.error });
        const data = this.buf.slice(r.consumed);
        return this.end(r.value.code === 0 ? { status: 'succeeded', bound: r.value.bound, data } : { status: 'failed', code: r.value.code });
      }
    }
    if (this.buf.length > 600) return this.end({ status: 'protocol-error', error: 'reply-too-long' });
    return out.length ? { send: concat(...out) } : {};
  }

  private afterMethod(): Uint8Array[] {
    return this.options.auth ? [this.authBytes(this.options.auth), this.requestBytes()] : [this.requestBytes()];
  }

  private authBytes(auth: NonNullable<Socks5ClientOptions['auth']>): Uint8Array {
    return encodeUserPassAuth(auth.username, auth.password);
  }

  private requestBytes(): Uint8Array {
    return encodeRequest(this.options.command, this.options.target);
  }

  private end(outcome: Socks5ClientOutcome) {
    this.phase = 'done';
    this.buf = new Uint8Array(0);
    return { outcome };
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
