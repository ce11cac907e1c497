// The binary API server on a Unix stream socket (`socksvr { socket-name <path> }`), speaking
// VPP's socket transport: 16-byte framed messages, requests answered by context, dumps streamed
// as `_details` (the client's control_ping, processed after the dump, ends them), events pushed
// to subscribers. Each client's requests run one at a time in arrival order. Bad input is counted
// and answered with a negative retval, or the connection is closed when the stream cannot be
// trusted any more (oversized or unparseable frames, unknown message ids); other clients are
// never affected.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ApiCodecError, ByteReader } from './codec/buffer.js';
import type { MessageCodec } from './codec/schema.js';
import { ApiError, ApiRetval } from './errors.js';
import { FrameDecoder, HEADER_BYTES, writeHeader } from './framing.js';
import type { ApiClientSession, ApiMessage, ApiRegistry, ApiRequestContext } from './registry.js';

export const DEFAULT_API_SOCKET = '/run/onionplane/api.sock';

export interface ApiServerOptions {
  socketPath?: string;
  /** Largest accepted message body; a bigger header length closes the connection. */
  maxMessageBytes?: number;
  maxClients?: number;
  /** Requests queued per client before its socket stops being read. */
  maxPendingRequests?: number;
  /** Bytes waiting to be written to a client before it is dropped as too slow. */
  maxOutputBytes?: number;
  /** File mode of the socket. */
  socketMode?: number;
  /** Called for connection-level problems (never with message contents). */
  onWarning?: (msg: string) => void;
}

export interface ApiServerStats {
  connections_accepted: number;
  connections_active: number;
  connections_rejected: number;
  messages_received: number;
  messages_sent: number;
  bytes_received: number;
  bytes_sent: number;
  oversized_frames: number;
  truncated_frames: number;
  unknown_msg_id: number;
  decode_errors: number;
  unexpected_messages: number;
  unimplemented: number;
  handler_errors: number;
  handler_no_reply: number;
  encode_errors: number;
  details_dropped: number;
  streams_aborted: number;
  events_dropped: number;
  slow_clients_closed: number;
  read_pauses: number;
}

function zeroStats(): ApiServerStats {
  return {
    connections_accepted: 0, connections_active: 0, connections_rejected: 0, messages_received: 0,
    messages_sent: 0, bytes_received: 0, bytes_sent: 0, oversized_frames: 0, truncated_frames: 0,
    unknown_msg_id: 0, decode_errors: 0, unexpected_messages: 0, unimplemented: 0, handler_errors: 0,
    handler_no_reply: 0, encode_errors: 0, details_dropped: 0, streams_aborted: 0, events_dropped: 0, slow_clients_closed: 0,
    read_pauses: 0,
  };
}

// Registration handles carry VPP's socket-client bit.
const SOCKET_HANDLE_BIT = 0x80000000;

export class ApiServer {
  readonly stats: ApiServerStats = zeroStats();
  readonly socketPath: string;
  private readonly opts: Required<Omit<ApiServerOptions, 'onWarning'>> & Pick<ApiServerOptions, 'onWarning'>;
  private server: net.Server | null = null;
  private readonly conns = new Set<ApiConnection>();
  private nextIndex = 0;

  constructor(readonly registry: ApiRegistry, opts: ApiServerOptions = {}) {
    this.opts = {
      socketPath: opts.socketPath ?? DEFAULT_API_SOCKET,
      maxMessageBytes: opts.maxMessageBytes ?? 1 << 20,
      maxClients: opts.maxClients ?? 64,
      maxPendingRequests: opts.maxPendingRequests ?? 64,
      maxOutputBytes: opts.maxOutputBytes ?? 8 << 20,
      socketMode: opts.socketMode ?? 0o660,
      onWarning: opts.onWarning,
    };
    this.socketPath = this.opts.socketPath;
  }

  get clientCount(): number {
    return this.conns.size;
  }

  async start(): Promise<void> {
    if (this.server) throw new Error('API server already started');
    fs.mkdirSync(path.dirname(this.socketPath), { recursive: true });
    await removeStaleSocket(this.socketPath);
    const server = net.createServer((sock) => this.accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(this.socketPath, this.opts.socketMode);
    server.on('error', (e) => this.warn(`listen error: ${e.message}`));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const c of [...this.conns]) c.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      fs.unlinkSync(this.socketPath);
    } catch {
      // Already gone.
    }
  }

  warn(msg: string): void {
    this.opts.onWarning?.(msg);
  }

  private accept(sock: net.Socket): void {
    if (this.conns.size >= this.opts.maxClients) {
      this.stats.connections_rejected++;
      sock.destroy();
      return;
    }
    this.stats.connections_accepted++;
    this.stats.connections_active++;
    const index = ((this.nextIndex++ & 0x7fffffff) | SOCKET_HANDLE_BIT) >>> 0;
    const conn = new ApiConnection(this, sock, index, this.opts);
    this.conns.add(conn);
    sock.once('close', () => {
      this.conns.delete(conn);
      this.stats.connections_active--;
      conn.onClosed();
      this.registry.detach(conn);
    });
  }
}

async function removeStaleSocket(p: string): Promise<void> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${p} exists and is not a socket`);
  // Refuse to steal the socket of a running server.
  const live = await new Promise<boolean>((resolve) => {
    const s = net.connect(p);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new Error(`${p}: another server is listening`);
  fs.unlinkSync(p);
}

/** Where a request's context sits: after client_index (most requests) or first (sockclnt_create). */
function contextOffset(codec: MessageCodec): number | null {
  const f = codec.body.fieldNames;
  if (f[0] === 'context') return 2;
  if (f[0] === 'client_index' && f[1] === 'context') return 6;
  return null;
}

class ApiConnection implements ApiClientSession {
  name = '';
  private readonly decoder: FrameDecoder;
  private readonly queue: Uint8Array[] = [];
  private busy = false;
  private paused = false;
  private corked = false;
  private _closed = false;

  constructor(
    readonly server: ApiServer,
    private readonly sock: net.Socket,
    readonly index: number,
    private readonly opts: { maxMessageBytes: number; maxPendingRequests: number; maxOutputBytes: number },
  ) {
    this.decoder = new FrameDecoder(opts.maxMessageBytes);
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', () => {
      // 'close' follows; a reset by the peer is routine.
    });
  }

  get closed(): boolean {
    return this._closed;
  }

  private get stats() {
    return this.server.stats;
  }

  private get registry(): ApiRegistry {
    return this.server.registry;
  }

  onClosed(): void {
    this._closed = true;
    if (this.decoder.bufferedBytes > 0) this.stats.truncated_frames++;
    this.queue.length = 0;
  }

  destroy(): void {
    this._closed = true;
    this.sock.destroy();
  }

  /** Output above the socket's high-water mark: a streaming handler should wait for drain. */
  get needsDrain(): boolean {
    return this.sock.writableNeedDrain;
  }

  drained(): Promise<boolean> {
    if (this._closed || this.sock.destroyed) return Promise.resolve(false);
    if (!this.sock.writableNeedDrain) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.sock.off('drain', onDrain);
        this.sock.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(!this._closed);
      const onClose = () => done(false);
      this.sock.on('drain', onDrain);
      this.sock.on('close', onClose);
    });
  }

  close(): void {
    if (this._closed) return;
    this._closed = true;
    this.sock.end();
  }

  private onData(chunk: Buffer): void {
    if (this._closed) return;
    this.stats.bytes_received += chunk.length;
    const { frames, error } = this.decoder.push(chunk);
    for (const f of frames) this.queue.push(f);
    if (error === 'oversized') {
      this.stats.oversized_frames++;
      this.server.warn(`client ${this.index}: frame over ${this.opts.maxMessageBytes} bytes, closing`);
      // Whole frames before the bad one are still answered.
      this.pump();
      this.close();
      return;
    }
    if (this.queue.length >= this.opts.maxPendingRequests && !this.paused) {
      this.paused = true;
      this.stats.read_pauses++;
      this.sock.pause();
    }
    this.pump();
  }

  private pump(): void {
    while (!this.busy && this.queue.length > 0) {
      const frame = this.queue.shift()!;
      const pending = this.dispatch(frame);
      if (pending) {
        this.busy = true;
        void pending.finally(() => {
          this.busy = false;
          this.pump();
        });
      }
    }
    if (this.paused && this.queue.length < this.opts.maxPendingRequests / 2 && !this._closed) {
      this.paused = false;
      this.sock.resume();
    }
  }

  /** Handles one message body; returns a promise while an async handler is still running. */
  private dispatch(body: Uint8Array): Promise<void> | null {
    if (this._closed) return null;
    this.stats.messages_received++;
    if (body.length < 2) {
      this.stats.truncated_frames++;
      this.close();
      return null;
    }
    const id = (body[0]! << 8) | body[1]!;
    const codec = this.registry.message(id);
    if (!codec) {
      this.stats.unknown_msg_id++;
      this.server.warn(`client ${this.index}: unknown message id ${id}, closing`);
      this.close();
      return null;
    }
    const service = this.registry.service(codec.name);
    if (!service) {
      // A reply or event sent to us (e.g. memclnt_keepalive_reply): nothing to answer.
      this.stats.unexpected_messages++;
      return null;
    }
    let req: ApiMessage;
    try {
      const r = new ByteReader(body);
      r.u16();
      req = codec.body.decodeFrom(r);
      if (r.remaining !== 0) throw new ApiCodecError(`${r.remaining} bytes after the message`);
    } catch {
      // ApiCodecError, or anything else a malformed body could provoke: never fatal.
      this.stats.decode_errors++;
      this.rejectUndecodable(codec, service.reply, body);
      return null;
    }
    const handler = this.registry.handler(codec.name);
    const ctx = new RequestContext(this, codec.name, Number(req.context ?? 0), service);
    if (!handler) {
      this.stats.unimplemented++;
      ctx.fail(ApiRetval.UNIMPLEMENTED);
      return null;
    }
    let result: void | Promise<void>;
    try {
      result = handler(req, ctx);
    } catch (e) {
      this.handlerFailed(ctx, e);
      return null;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      // Settles, never rejects: nothing a handler does may become an unhandled rejection.
      return (result as Promise<void>)
        .then(
          () => this.handlerDone(ctx),
          (e) => this.handlerFailed(ctx, e),
        )
        .catch(() => {
          this.stats.handler_errors++;
        });
    }
    try {
      this.handlerDone(ctx);
    } catch {
      this.stats.handler_errors++;
    }
    return null;
  }

  /** A request whose body does not match its definition: answer by context when possible. */
  private rejectUndecodable(codec: MessageCodec, replyName: string, body: Uint8Array): void {
    const off = contextOffset(codec);
    const reply = replyName !== 'null' ? this.registry.schema.messages.get(replyName) : undefined;
    if (off !== null && body.length >= off + 4 && reply && (reply.hasRetval || reply.body.fieldNames.includes('response'))) {
      const context = new DataView(body.buffer, body.byteOffset + off, 4).getUint32(0);
      this.send(replyName, { context, retval: ApiRetval.INVALID_VALUE, response: ApiRetval.INVALID_VALUE });
      return;
    }
    this.close();
  }

  private handlerDone(ctx: RequestContext): void {
    if (ctx.replied || !ctx.needsReply) return;
    const reply = this.registry.schema.messages.get(ctx.service.reply);
    const onlyStatus = reply && reply.body.fieldNames.every((f) => f === 'context' || f === 'retval');
    if (onlyStatus) {
      ctx.reply({});
    } else {
      this.stats.handler_no_reply++;
      ctx.fail(ApiRetval.UNSPECIFIED);
    }
  }

  private handlerFailed(ctx: RequestContext, e: unknown): void {
    this.stats.handler_errors++;
    if (ctx.replied || !ctx.needsReply) return;
    ctx.fail(e instanceof ApiError ? e.retval : ApiRetval.UNSPECIFIED);
  }

  send(name: string, msg: ApiMessage, opts: { droppable?: boolean } = {}): boolean {
    if (this._closed) return false;
    // Events give way before a slow client is cut off: dropped (and counted) at half the cap.
    if (opts.droppable && this.sock.writableLength > this.opts.maxOutputBytes / 2) {
      this.stats.events_dropped++;
      return false;
    }
    let body: Uint8Array;
    try {
      const codec = this.registry.schema.get(name);
      body = codec.encode(this.registry.idOf(name), msg, this.opts.maxMessageBytes);
    } catch (e) {
      this.stats.encode_errors++;
      throw e;
    }
    const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
    writeHeader(frame, 0, body.length);
    frame.set(body, HEADER_BYTES);
    // Batch everything written in one turn of the event loop into one write.
    if (!this.corked) {
      this.corked = true;
      this.sock.cork();
      process.nextTick(() => {
        this.corked = false;
        this.sock.uncork();
      });
    }
    this.sock.write(frame);
    this.stats.messages_sent++;
    this.stats.bytes_sent += frame.length;
    if (this.sock.writableLength > this.opts.maxOutputBytes) {
      this.stats.slow_clients_closed++;
      this.server.warn(`client ${this.index}: more than ${this.opts.maxOutputBytes} bytes unread, closing`);
      this.destroy();
      return false;
    }
    return true;
  }
}

class RequestContext implements ApiRequestContext {
  replied = false;

  constructor(
    readonly conn: ApiConnection,
    readonly name: string,
    readonly context: number,
    readonly service: { reply: string; stream?: boolean; stream_msg?: string; events?: string[] },
  ) {}

  get client(): ApiClientSession {
    return this.conn;
  }

  get registry(): ApiRegistry {
    return this.conn.server.registry;
  }

  /** Legacy dumps end with the client's control_ping instead of a reply. */
  get needsReply(): boolean {
    if (this.service.reply === 'null') return false;
    return !(this.service.stream && !this.service.stream_msg);
  }

  reply(msg: ApiMessage = {}): void {
    if (this.replied) throw new Error(`${this.name}: replied twice`);
    if (this.service.reply === 'null') throw new Error(`${this.name} has no reply`);
    this.conn.send(this.service.reply, { retval: 0, ...msg, context: this.context });
    // Marked only once sent: a reply that fails to encode is answered with an error instead.
    this.replied = true;
  }

  fail(retval: number): void {
    if (!this.needsReply || this.replied) return;
    this.replied = true;
    try {
      this.conn.send(this.service.reply, { context: this.context, retval, response: retval });
    } catch {
      // Counted as an encode error; the client will time out rather than the server fail.
    }
  }

  details(msg: ApiMessage): boolean {
    const name = this.service.stream_msg ?? (this.service.stream ? this.service.reply : null);
    if (!name) throw new Error(`${this.name} is not a stream`);
    if (this.conn.closed) {
      this.conn.server.stats.details_dropped++;
      return false;
    }
    return this.conn.send(name, { ...msg, context: this.context }) && !this.conn.needsDrain;
  }

  async drained(): Promise<boolean> {
    const ok = await this.conn.drained();
    if (!ok) this.conn.server.stats.streams_aborted++;
    return ok;
  }

  event(name: string, msg: ApiMessage): boolean {
    return this.conn.send(name, msg);
  }
}
