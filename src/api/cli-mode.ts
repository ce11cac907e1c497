// `onionctl api ...`: scripting over the binary API with JSON output.
//
//   onionctl api [--socket PATH] [--pretty] [--timeout MS] list
//   onionctl api [...] <request> [field=value ...] [--json '{"field": value}']
//   onionctl api [...] <want_request> [--count N] [--duration MS]      (prints one event per line)
//
// A request answered by one reply prints the reply; a `_dump` prints the array of `_details`.
// Values: JSON literals (numbers, true, {"nested": ...}) or bare strings; byte fields also take
// hex ("0a0b0c"), MAC ("02:00:00:00:00:01") or IPv4 ("10.0.0.1") text. Output: u64 values that
// do not fit a double print as strings, byte arrays as hex. Exit status: 0 success, 1 negative
// retval (the reply is still printed), 2 usage error, 3 connection or protocol failure.

import { ALL_APIS } from './builtin.js';
import { ApiCallError, ApiClient } from './client.js';
import type { ApiJson, JsonValue } from './generator/json.js';
import { DEFAULT_API_SOCKET } from './server.js';

export interface ApiCommandOptions {
  socketPath?: string;
  out?: (line: string) => void;
  err?: (line: string) => void;
  apis?: readonly ApiJson[];
}

class UsageError extends Error {}

export function toJsonText(v: unknown, pretty = false): string {
  return JSON.stringify(
    v,
    (_k, x) => {
      if (typeof x === 'bigint') return x <= BigInt(Number.MAX_SAFE_INTEGER) && x >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString();
      if (x instanceof Uint8Array) return Buffer.from(x).toString('hex');
      return x;
    },
    pretty ? 2 : undefined,
  );
}

/** Fields whose wire form is bytes (u8 arrays, directly or through an alias). */
function byteFields(apis: readonly ApiJson[], msg: string): Set<string> {
  const aliases = new Map<string, { type: string; length?: number }>();
  for (const a of apis) for (const [n, v] of Object.entries(a.aliases)) aliases.set(`vl_api_${n}_t`, v);
  for (const a of apis) {
    const def = a.messages.find((m) => m[0] === msg);
    if (!def) continue;
    const out = new Set<string>();
    for (const f of def.slice(1)) {
      if (!Array.isArray(f)) continue;
      const [type, name] = [f[0] as string, f[1] as string];
      const alias = aliases.get(type);
      if ((type === 'u8' && typeof f[2] === 'number') || (alias && alias.type === 'u8' && alias.length !== undefined)) out.add(name);
    }
    return out;
  }
  return new Set();
}

function parseBytes(text: string): Uint8Array {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return Uint8Array.from(text.split('.').map((x) => Number(x)));
  const hex = text.replace(/[:\-]/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new UsageError(`not hex bytes: ${text}`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

export async function runApiCommand(argv: string[], opts: ApiCommandOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const err = opts.err ?? ((l: string) => process.stderr.write(l + '\n'));
  const apis = opts.apis ?? ALL_APIS;
  let socketPath = opts.socketPath ?? DEFAULT_API_SOCKET;
  let pretty = false;
  let timeoutMs = 10_000;
  let count = Infinity;
  let durationMs = Infinity;
  const rest: string[] = [];
  const args: Record<string, unknown> = {};
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      const val = () => {
        const v = argv[++i];
        if (v === undefined) throw new UsageError(`${a} needs a value`);
        return v;
      };
      if (a === '--socket' || a === '-s') socketPath = val();
      else if (a === '--pretty') pretty = true;
      else if (a === '--timeout') timeoutMs = Number(val());
      else if (a === '--count') count = Number(val());
      else if (a === '--duration') durationMs = Number(val());
      else if (a === '--json') {
        const o = parseValue(val());
        if (!o || typeof o !== 'object' || Array.isArray(o)) throw new UsageError('--json needs an object');
        Object.assign(args, o);
      } else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
      else rest.push(a);
    }
    if (rest.length === 0) throw new UsageError('missing request name (or "list")');
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`onionctl api: ${e.message}`);
    err('usage: onionctl api [--socket PATH] [--pretty] [--timeout MS] list | <request> [field=value ...] [--json OBJ] [--count N] [--duration MS]');
    return 2;
  }

  const name = rest[0]!;
  let client: ApiClient;
  try {
    client = await ApiClient.connect({ socketPath, apis, timeoutMs, name: 'onionctl' });
  } catch (e) {
    err(`onionctl api: cannot connect to ${socketPath}: ${(e as Error).message}`);
    return 3;
  }
  try {
    const services = new Map<string, ApiJson['services'][string]>();
    for (const a of apis) for (const [k, v] of Object.entries(a.services)) services.set(k, v);
    if (name === 'list') {
      const list = [...services.entries()]
        .filter(([k, s]) => s.reply !== 'null' && client.has(k))
        .map(([k, s]) => ({ request: k, kind: s.events ? 'events' : s.stream ? 'dump' : 'call', reply: s.stream_msg ?? s.reply, events: s.events }));
      out(toJsonText(list, pretty));
      return 0;
    }
    const svc = services.get(name);
    if (!svc || svc.reply === 'null') {
      err(`onionctl api: unknown request ${name}`);
      return 2;
    }
    const bytes = byteFields(apis, name);
    try {
      for (const kv of rest.slice(1)) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new UsageError(`expected field=value, got ${kv}`);
        const k = kv.slice(0, eq);
        const v = kv.slice(eq + 1);
        args[k] = bytes.has(k) && !v.startsWith('[') ? parseBytes(v) : parseValue(v);
      }
      for (const k of bytes) if (typeof args[k] === 'string') args[k] = parseBytes(args[k] as string);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      err(`onionctl api: ${e.message}`);
      return 2;
    }
    if (svc.events) return await streamEvents(client, name, svc.events, count, durationMs, out, pretty);
    const r = await client.request(name, args, { throwOnError: false });
    const isDump = svc.stream === true && !svc.stream_msg;
    out(toJsonText(isDump ? r.details : svc.stream_msg ? { reply: r.reply, details: r.details } : r.reply, pretty));
    return Number(r.reply.retval ?? 0) < 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof ApiCallError) {
      out(toJsonText(e.reply, pretty));
      return 1;
    }
    err(`onionctl api: ${(e as Error).message}`);
    return 3;
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function streamEvents(
  client: ApiClient,
  want: string,
  events: string[],
  count: number,
  durationMs: number,
  out: (l: string) => void,
  pretty: boolean,
): Promise<number> {
  let seen = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const names = new Set(events);
  const off = client.onEvent((ev, msg) => {
    if (!names.has(ev) || seen >= count) return;
    seen++;
    out(toJsonText({ event: ev, ...msg }, pretty));
    if (seen >= count) finish();
  });
  const r = await client.request(want, { enable_disable: 1, pid: process.pid }, { throwOnError: false });
  if (Number(r.reply.retval) < 0) {
    off();
    out(toJsonText(r.reply, pretty));
    return 1;
  }
  const timer = Number.isFinite(durationMs) ? setTimeout(finish, durationMs) : null;
  const onSignal = () => finish();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const closed = setInterval(() => client.closed && finish(), 200);
  if (count <= 0) finish();
  await done;
  clearInterval(closed);
  if (timer) clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  off();
  if (!client.closed) await client.request(want, { enable_disable: 0, pid: process.pid }, { throwOnError: false }).catch(() => undefined);
  return 0;
}
