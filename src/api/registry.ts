// The API's message table and handlers. memclnt takes ids 1..N in .api order (so sockclnt_create
// is 15, as VPP clients hard-code); every module registered after it gets the next contiguous
// block. Handlers are registered per module by message name; event subscriptions (want_*) are
// kept here so any part of the daemon can publish an event to its subscribers.

import type { ApiJson } from './generator/json.js';
import { ApiSchema, type MessageCodec, type ModuleInfo } from './codec/schema.js';
import { ApiError, ApiRetval } from './errors.js';
import { memclntApi } from './generated/memclnt.api.js';

export type ApiMessage = Record<string, unknown>;

/** One connected API client, as handlers see it. */
export interface ApiClientSession {
  /** The registration handle returned in sockclnt_create_reply.index. */
  readonly index: number;
  /** Name the client gave in sockclnt_create (empty before). */
  name: string;
  readonly closed: boolean;
  /**
   * Sends any message to this client; false when it is gone or too slow and was dropped.
   * `droppable` messages (events) are skipped rather than queued when the client lags.
   */
  send(name: string, msg: ApiMessage, opts?: { droppable?: boolean }): boolean;
  /** Closes the connection after what is queued has been written. */
  close(): void;
}

export interface ApiRequestContext {
  readonly client: ApiClientSession;
  readonly context: number;
  /** The request's message name. */
  readonly name: string;
  readonly registry: ApiRegistry;
  /** Sends the service's reply (context filled in, retval 0 unless given). Once per request. */
  reply(msg?: ApiMessage): void;
  /**
   * Sends one stream message (`_details`) with the request's context. Returns false when the
   * handler should not go on at once: the client is gone, or its output buffer is full — then
   * `await drained()` (false: client gone, stop). Handlers that ignore this are bounded by the
   * server's output cap, which drops the client.
   */
  details(msg: ApiMessage): boolean;
  /** Resolves true once the client's output has drained, false if the client went away. */
  drained(): Promise<boolean>;
  /** Sends an event message to this client only. */
  event(name: string, msg: ApiMessage): boolean;
  readonly replied: boolean;
}

export type ApiHandlerFn = (req: ApiMessage, ctx: ApiRequestContext) => void | Promise<void>;

export interface ApiMessageHandler {
  /** Request message name, e.g. 'show_version'. */
  name: string;
  handle: ApiHandlerFn;
}

export type ApiHandlers = ApiMessageHandler[] | Record<string, ApiHandlerFn>;

export interface ModuleRange {
  module: ModuleInfo;
  firstId: number;
  count: number;
}

interface Subscription {
  pid: number;
}

export interface ApiRegistryOptions {
  /** Reported as vpe_pid in control_ping_reply and as pid in events. */
  pid?: number;
}

export class ApiRegistry {
  readonly schema = new ApiSchema();
  readonly pid: number;
  private readonly byId: (MessageCodec | undefined)[] = [undefined];
  private readonly ids = new Map<string, number>();
  private readonly handlers = new Map<string, ApiHandlerFn>();
  private readonly ranges: ModuleRange[] = [];
  private readonly subscribers = new Map<string, Map<ApiClientSession, Subscription>>();
  private tableCache: { index: number; name: string }[] | null = null;

  constructor(opts: ApiRegistryOptions = {}) {
    this.pid = opts.pid ?? process.pid;
    this.registerModule(memclntApi, memclntHandlers());
  }

  /** Adds a module's messages (next id block) and its handlers. Returns its id range. */
  registerModule(api: ApiJson, handlers: ApiHandlers = []): ModuleRange {
    const info = this.schema.add(api);
    const firstId = this.byId.length;
    for (const name of info.messages) {
      const codec = this.schema.get(name);
      this.ids.set(name, this.byId.length);
      this.byId.push(codec);
    }
    const range: ModuleRange = { module: info, firstId, count: info.messages.length };
    this.ranges.push(range);
    this.tableCache = null;
    this.addHandlers(handlers, info.name);
    return range;
  }

  /** Adds (or replaces) handlers for messages already registered. */
  addHandlers(handlers: ApiHandlers, module?: string): void {
    const list = Array.isArray(handlers) ? handlers : Object.entries(handlers).map(([name, handle]) => ({ name, handle }));
    for (const h of list) {
      const codec = this.schema.messages.get(h.name);
      if (!codec) throw new Error(`handler for unknown message ${h.name}`);
      if (module && codec.module !== module) throw new Error(`handler ${h.name} is not a message of module ${module}`);
      if (!this.schema.services.has(h.name)) throw new Error(`${h.name} is not a request (no service)`);
      this.handlers.set(h.name, h.handle);
    }
  }

  handler(name: string): ApiHandlerFn | undefined {
    return this.handlers.get(name);
  }

  message(id: number): MessageCodec | undefined {
    return this.byId[id];
  }

  idOf(name: string): number {
    const id = this.ids.get(name);
    if (id === undefined) throw new Error(`unknown message ${name}`);
    return id;
  }

  service(name: string): ApiJson['services'][string] | undefined {
    return this.schema.services.get(name);
  }

  get moduleRanges(): readonly ModuleRange[] {
    return this.ranges;
  }

  /** The name_crc → id table sent in sockclnt_create_reply. */
  messageTable(): { index: number; name: string }[] {
    if (!this.tableCache) {
      this.tableCache = [];
      for (let id = 1; id < this.byId.length; id++) this.tableCache.push({ index: id, name: this.byId[id]!.nameCrc });
    }
    return this.tableCache;
  }

  // ---- events

  subscribe(event: string, client: ApiClientSession, pid: number): void {
    if (!this.schema.messages.has(event)) throw new ApiError(ApiRetval.INVALID_VALUE, `unknown event ${event}`);
    let m = this.subscribers.get(event);
    if (!m) this.subscribers.set(event, (m = new Map()));
    m.set(client, { pid });
  }

  unsubscribe(event: string, client: ApiClientSession): boolean {
    return this.subscribers.get(event)?.delete(client) ?? false;
  }

  isSubscribed(event: string, client: ApiClientSession): boolean {
    return this.subscribers.get(event)?.has(client) ?? false;
  }

  subscriberCount(event: string): number {
    return this.subscribers.get(event)?.size ?? 0;
  }

  /** Forgets a client's subscriptions (the server calls this when a connection ends). */
  detach(client: ApiClientSession): void {
    for (const m of this.subscribers.values()) m.delete(client);
  }

  /**
   * Sends event `name` to every subscriber, filling client_index and pid per subscriber.
   * Returns how many subscribers it was delivered to (slow or closed ones are skipped).
   */
  publish(name: string, msg: ApiMessage): number {
    const m = this.subscribers.get(name);
    if (!m || m.size === 0) return 0;
    let n = 0;
    for (const [client, sub] of m) {
      if (client.closed) {
        m.delete(client);
        continue;
      }
      try {
        if (client.send(name, { ...msg, client_index: client.index, pid: sub.pid }, { droppable: true })) n++;
      } catch {
        // Not encodable (counted by the server as an encode error); the others still get it.
      }
    }
    return n;
  }

  /**
   * A handler for `want_<x>` requests carrying `enable_disable` and `pid`: subscribes or
   * unsubscribes the client to the service's events and replies retval 0. Enabling twice or
   * disabling when not subscribed is an error, as in VPP.
   */
  wantHandler(wantName: string): ApiHandlerFn {
    return (req, ctx) => {
      const events = ctx.registry.service(wantName)?.events ?? [];
      if (events.length === 0) throw new ApiError(ApiRetval.INVALID_VALUE, `${wantName} has no events`);
      const enable = Number(req.enable_disable ?? 0) !== 0;
      for (const e of events) {
        const had = this.isSubscribed(e, ctx.client);
        if (enable === had) throw new ApiError(ApiRetval.INVALID_REGISTRATION);
        if (enable) this.subscribe(e, ctx.client, Number(req.pid ?? 0));
        else this.unsubscribe(e, ctx.client);
      }
      ctx.reply({});
    };
  }
}

/** Handlers for the transport messages the socket API serves. */
function memclntHandlers(): Record<string, ApiHandlerFn> {
  return {
    sockclnt_create: (req, ctx) => {
      ctx.client.name = String(req.name ?? '');
      const table = ctx.registry.messageTable();
      ctx.reply({ response: 0, index: ctx.client.index, client_index: 0, count: table.length, message_table: table });
    },
    sockclnt_delete: (_req, ctx) => {
      ctx.reply({ response: 1 });
      ctx.client.close();
    },
    control_ping: (req, ctx) => {
      ctx.reply({ client_index: Number(req.client_index ?? 0), vpe_pid: ctx.registry.pid });
    },
    memclnt_keepalive: (_req, ctx) => {
      ctx.reply({});
    },
    get_first_msg_id: (req, ctx) => {
      const want = String(req.name ?? '');
      const r = ctx.registry.moduleRanges.find(
        (x) => x.module.name === want || `${x.module.name}_${x.module.vlApiVersion.replace(/^0x/, '').padStart(8, '0')}` === want,
      );
      if (!r) ctx.reply({ retval: ApiRetval.INVALID_VALUE, first_msg_id: 0xffff });
      else ctx.reply({ first_msg_id: r.firstId });
    },
    api_versions: (_req, ctx) => {
      const list = ctx.registry.moduleRanges.map((r) => {
        const [major = 0, minor = 0, patch = 0] = r.module.version.split('.').map((x) => parseInt(x, 10) || 0);
        return { major, minor, patch, name: r.module.name };
      });
      ctx.reply({ count: list.length, api_versions: list });
    },
    get_api_json: (_req, ctx) => {
      ctx.reply({ json: JSON.stringify(ctx.registry.moduleRanges.map((r) => r.module.json)) });
    },
  };
}
