// A typed client for the binary API over the socket transport, doing what vpp_papi does:
// sockclnt_create (id 15) → message table → messages bound by name_crc; requests matched to
// replies by context; dumps collected up to the control_ping_reply sent after them; events
// (messages without a context) delivered to listeners.

import * as net from 'node:net';
import { ALL_APIS, type CallName, type DetailsOf, type DumpName, type EventOf, type ReplyOf, type RequestArgs, type WantName } from './builtin.js';
import { ApiSchema, type MessageCodec } from './codec/schema.js';
import { retvalName } from './errors.js';
import { FrameDecoder, HEADER_BYTES, writeHeader } from './framing.js';
import type { ApiJson } from './generator/json.js';
import { DEFAULT_API_SOCKET } from './server.js';

export type ApiMessage = Record<string, unknown>;

/** Fixed by the protocol: a client cannot know any id before it has the table. */
const SOCKCLNT_CREATE_ID = 15;
const SOCKCLNT_CREATE_REPLY_ID = 16;

export class ApiCallError extends Error {
  override name = 'ApiCallError';
  constructor(readonly request: string, readonly retval: number, readonly reply: ApiMessage) {
    super(`${request}: retval ${retval} (${retvalName(retval)})`);
  }
}

export interface ApiClientOptions {
  socketPath?: string;
  /** Client name sent in sockclnt_create. */
  name?: string;
  /** Definitions to bind; defaults to every module onionplane ships. */
  apis?: readonly ApiJson[];
  /** Per-request timeout. */
  timeoutMs?: number;
  maxMessageBytes?: number;
}

interface Pending {
  request: string;
  replyName: string;
  streamName: string | null;
  details: ApiMessage[];
  resolve: (v: { reply: ApiMessage; details: ApiMessage[] }) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export type EventListener = (name: string, msg: ApiMessage) => void;

export class ApiClient {
  private readonly schema: ApiSchema;
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, Pending>();
  private readonly idByName = new Map<string, number>();
  private readonly nameById = new Map<number, MessageCodec>();
  private readonly listeners = new Set<EventListener>();
  private nextContext = 1;
  private closedError: Error | null = null;
  /** Registration handle from sockclnt_create_reply, sent as client_index. */
  clientIndex = 0;
  /** The server's whole table, name_crc → id (including messages this client does not know). */
  readonly serverTable = new Map<string, number>();

  private constructor(private readonly sock: net.Socket, private readonly opts: Required<ApiClientOptions>) {
    this.schema = new ApiSchema([...opts.apis]);
    this.decoder = new FrameDecoder(opts.maxMessageBytes);
  }

  static async connect(target: ApiClientOptions | string = {}): Promise<ApiClient> {
    const options: ApiClientOptions = typeof target === 'string' ? { socketPath: target } : target;
    const opts: Required<ApiClientOptions> = {
      socketPath: options.socketPath ?? DEFAULT_API_SOCKET,
      name: options.name ?? 'onionctl',
      apis: options.apis ?? ALL_APIS,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxMessageBytes: options.maxMessageBytes ?? 16 << 20,
    };
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(opts.socketPath);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    sock.setNoDelay?.(true);
    const client = new ApiClient(sock, opts);
    try {
      await client.handshake();
    } catch (e) {
      sock.destroy();
      throw e;
    }
    return client;
  }

  private handshake(): Promise<void> {
    const create = this.schema.get('sockclnt_create');
    const replyCodec = this.schema.get('sockclnt_create_reply');
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('sockclnt_create: timeout')), this.opts.timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        this.sock.off('data', onData);
        reject(e);
      };
      const onData = (chunk: Buffer) => {
        const { frames, error } = this.decoder.push(chunk);
        if (error) return fail(new Error(`sockclnt_create: ${error} frame`));
        if (frames.length === 0) return;
        clearTimeout(timer);
        this.sock.off('data', onData);
        this.sock.off('close', onClose);
        const first = frames[0]!;
        const id = (first[0]! << 8) | first[1]!;
        if (id !== SOCKCLNT_CREATE_REPLY_ID) return reject(new Error(`sockclnt_create: unexpected reply id ${id}`));
        const r = replyCodec.decode(first);
        if (Number(r.response) < 0) return reject(new Error(`sockclnt_create: response ${String(r.response)}`));
        this.clientIndex = Number(r.index);
        for (const e of r.message_table as { index: number; name: string }[]) this.serverTable.set(e.name, e.index);
        for (const codec of this.schema.messages.values()) {
          const sid = this.serverTable.get(codec.nameCrc);
          if (sid !== undefined) {
            this.idByName.set(codec.name, sid);
            this.nameById.set(sid, codec);
          }
        }
        this.sock.on('data', (c: Buffer) => this.onData(c));
        this.sock.on('close', () => this.onClose(new Error('connection closed')));
        this.sock.on('error', (e) => this.onClose(e));
        for (const f of frames.slice(1)) this.onMessage(f);
        resolve();
      };
      const onClose = () => fail(new Error('sockclnt_create: connection closed'));
      this.sock.on('data', onData);
      this.sock.once('close', onClose);
      this.writeBody(create.encode(SOCKCLNT_CREATE_ID, { context: this.takeContext(), name: this.opts.name }));
    });
  }

  /** True when the server has this message with the same CRC. */
  has(name: string): boolean {
    return this.idByName.has(name);
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Sends a request and resolves with its reply; rejects with ApiCallError on a negative retval. */
  async call<N extends CallName>(name: N, args?: RequestArgs<N>): Promise<ReplyOf<N>> {
    const { reply } = await this.request(name, (args ?? {}) as ApiMessage);
    return reply as ReplyOf<N>;
  }

  /** Sends a `_dump` followed by control_ping and resolves with the `_details` in between. */
  async dump<N extends DumpName>(name: N, args?: RequestArgs<N>): Promise<DetailsOf<N>[]> {
    const { details } = await this.request(name, (args ?? {}) as ApiMessage);
    return details as DetailsOf<N>[];
  }

  /**
   * Subscribes with a `want_*` request and calls `listener` for each of its events; the returned
   * function unsubscribes.
   */
  async subscribe<N extends WantName>(name: N, listener: (msg: EventOf<N>, eventName: string) => void): Promise<() => Promise<void>> {
    const events = new Set(this.schema.services.get(name)?.events ?? []);
    const l: EventListener = (ev, msg) => {
      if (events.has(ev)) listener(msg as EventOf<N>, ev);
    };
    this.listeners.add(l);
    try {
      await this.request(name, { enable_disable: 1, pid: process.pid });
    } catch (e) {
      this.listeners.delete(l);
      throw e;
    }
    return async () => {
      this.listeners.delete(l);
      if (!this.closed) await this.request(name, { enable_disable: 0, pid: process.pid });
    };
  }

  /** Every event message, whatever subscribed to it. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Untyped request by name: a reply, or for dumps the details and the terminating reply. */
  request(name: string, args: ApiMessage, opts: { throwOnError?: boolean } = {}): Promise<{ reply: ApiMessage; details: ApiMessage[] }> {
    if (this.closedError) return Promise.reject(this.closedError);
    const service = this.schema.services.get(name);
    if (!service || service.reply === 'null') return Promise.reject(new Error(`${name}: not a request with a reply`));
    const id = this.idByName.get(name);
    if (id === undefined) return Promise.reject(new Error(`${name}: not offered by the server (unknown name or CRC mismatch)`));
    const legacyStream = service.stream === true && !service.stream_msg;
    const context = this.takeContext();
    const codec = this.schema.get(name);
    const body = codec.encode(id, { ...args, client_index: this.clientIndex, context }, this.opts.maxMessageBytes);
    const throwOnError = opts.throwOnError ?? true;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(context);
        reject(new Error(`${name}: timeout after ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
      this.pending.set(context, {
        request: name,
        replyName: legacyStream ? 'control_ping_reply' : service.reply,
        streamName: legacyStream ? service.reply : service.stream_msg ?? null,
        details: [],
        resolve: (v) => {
          const rv = Number(v.reply.retval ?? 0);
          if (throwOnError && rv < 0) reject(new ApiCallError(name, rv, v.reply));
          else resolve(v);
        },
        reject,
        timer,
      });
      this.writeBody(body);
      if (legacyStream) {
        const ping = this.schema.get('control_ping');
        this.writeBody(ping.encode(this.idByName.get('control_ping')!, { client_index: this.clientIndex, context }));
      }
    });
  }

  /** Unregisters (sockclnt_delete) and closes. */
  async close(): Promise<void> {
    if (this.closedError) return;
    try {
      const context = this.takeContext();
      const del = this.schema.get('sockclnt_delete');
      const done = new Promise<void>((resolve) => {
        const timer = setTimeout(() => resolve(), 1000);
        this.pending.set(context, {
          request: 'sockclnt_delete', replyName: 'sockclnt_delete_reply', streamName: null, details: [],
          resolve: () => { clearTimeout(timer); resolve(); }, reject: () => { clearTimeout(timer); resolve(); }, timer,
        });
      });
      this.writeBody(del.encode(this.idByName.get('sockclnt_delete')!, { client_index: this.clientIndex, context, index: this.clientIndex }));
      await done;
    } finally {
      this.onClose(new Error('client closed'));
      this.sock.destroy();
    }
  }

  private takeContext(): number {
    const c = this.nextContext;
    this.nextContext = this.nextContext >= 0xffffffff ? 1 : this.nextContext + 1;
    return c;
  }

  private writeBody(body: Uint8Array): void {
    const frame = Buffer.allocUnsafe(HEADER_BYTES + body.length);
    writeHeader(frame, 0, body.length);
    frame.set(body, HEADER_BYTES);
    this.sock.write(frame);
  }

  private onData(chunk: Buffer): void {
    const { frames, error } = this.decoder.push(chunk);
    for (const f of frames) this.onMessage(f);
    if (error) {
      this.onClose(new Error(`server sent a ${error} frame`));
      this.sock.destroy();
    }
  }

  private onMessage(body: Uint8Array): void {
    if (body.length < 2) return;
    const codec = this.nameById.get((body[0]! << 8) | body[1]!);
    if (!codec) return;
    let msg: ApiMessage;
    try {
      msg = codec.decode(body);
    } catch {
      return;
    }
    if (codec.hasContext) {
      const p = this.pending.get(Number(msg.context));
      if (!p) return;
      if (codec.name === p.streamName) {
        p.details.push(msg);
        return;
      }
      if (codec.name === p.replyName) {
        this.pending.delete(Number(msg.context));
        clearTimeout(p.timer);
        p.resolve({ reply: msg, details: p.details });
      }
      return;
    }
    for (const l of this.listeners) l(codec.name, msg);
  }

  private onClose(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}
