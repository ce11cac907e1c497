// Encoders and decoders built from *.api.json definitions (the generated modules embed them), with
// vpp_papi's wire rules: big-endian packed fields; `string x[N]` is N bytes, NUL-padded, at most
// N-1 used; `string x[]` is a u32 length and the bytes; `T x[len]` takes its count from the
// earlier field `len` (filled in when encoding); `u8 x[0]` runs to the end of the message; enums
// have their declared width; a union is as wide as its widest member; missing fields encode as
// their `[default=...]` or zero.

import type { ApiJson, JsonValue } from '../generator/json.js';
import { crcHex } from '../generator/crc.js';
import { ApiCodecError, ByteReader, ByteWriter } from './buffer.js';

export { ApiCodecError };

type Obj = Record<string, unknown>;

interface Packer {
  /** Bytes this packer always occupies, or null when variable. */
  fixed: number | null;
  /** Smallest possible encoding, used to bound element counts read from the wire. */
  min: number;
  encode(w: ByteWriter, v: unknown): void;
  decode(r: ByteReader): unknown;
  zero(): unknown;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8');

function num(v: unknown, what: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  throw new ApiCodecError(`${what}: expected a number`);
}

function intIn(v: unknown, what: string, lo: number, hi: number): number {
  const n = num(v, what);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new ApiCodecError(`${what}: ${String(v)} out of range`);
  return n;
}

function big(v: unknown, what: string, signed: boolean): bigint {
  let b: bigint;
  if (v === undefined || v === null) b = 0n;
  else if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  else throw new ApiCodecError(`${what}: expected an integer`);
  const ok = signed ? b >= -(1n << 63n) && b < 1n << 63n : b >= 0n && b < 1n << 64n;
  if (!ok) throw new ApiCodecError(`${what}: ${b} out of range`);
  return b;
}

function scalarPacker(t: string, what: string): Packer | null {
  switch (t) {
    case 'u8': return { fixed: 1, min: 1, encode: (w, v) => w.u8(intIn(v, what, 0, 0xff)), decode: (r) => r.u8(), zero: () => 0 };
    case 'i8': return { fixed: 1, min: 1, encode: (w, v) => w.i8(intIn(v, what, -0x80, 0x7f)), decode: (r) => r.i8(), zero: () => 0 };
    case 'u16': return { fixed: 2, min: 2, encode: (w, v) => w.u16(intIn(v, what, 0, 0xffff)), decode: (r) => r.u16(), zero: () => 0 };
    case 'i16': return { fixed: 2, min: 2, encode: (w, v) => w.i16(intIn(v, what, -0x8000, 0x7fff)), decode: (r) => r.i16(), zero: () => 0 };
    case 'u32': return { fixed: 4, min: 4, encode: (w, v) => w.u32(intIn(v, what, 0, 0xffffffff)), decode: (r) => r.u32(), zero: () => 0 };
    case 'i32': return { fixed: 4, min: 4, encode: (w, v) => w.i32(intIn(v, what, -0x80000000, 0x7fffffff)), decode: (r) => r.i32(), zero: () => 0 };
    case 'u64': return { fixed: 8, min: 8, encode: (w, v) => w.u64(big(v, what, false)), decode: (r) => r.u64(), zero: () => 0n };
    case 'i64': return { fixed: 8, min: 8, encode: (w, v) => w.i64(big(v, what, true)), decode: (r) => r.i64(), zero: () => 0n };
    case 'f64': return { fixed: 8, min: 8, encode: (w, v) => w.f64(num(v, what)), decode: (r) => r.f64(), zero: () => 0 };
    case 'bool': return { fixed: 1, min: 1, encode: (w, v) => w.u8(v ? 1 : 0), decode: (r) => r.u8() !== 0, zero: () => false };
    default: return null;
  }
}

function toBytes(v: unknown, what: string): Uint8Array {
  if (v === undefined || v === null) return new Uint8Array(0);
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return Uint8Array.from(v.map((x) => intIn(x, what, 0, 255)));
  if (typeof v === 'string') return utf8.encode(v);
  throw new ApiCodecError(`${what}: expected bytes`);
}

/** `string x[N]`: C servers strncpy N-1 bytes, so longer text is cut at a UTF-8 boundary. */
function fixedStringPacker(n: number): Packer {
  return {
    fixed: n,
    min: n,
    encode(w, v) {
      let b = utf8.encode(v === undefined || v === null ? '' : String(v));
      if (b.length > n - 1) {
        let cut = Math.max(0, n - 1);
        while (cut > 0 && (b[cut]! & 0xc0) === 0x80) cut--;
        b = b.subarray(0, cut);
      }
      w.bytes(b, n);
    },
    decode(r) {
      const b = r.take(n, 'string');
      const end = b.indexOf(0);
      return utf8d.decode(end < 0 ? b : b.subarray(0, end));
    },
    zero: () => '',
  };
}

const vlaStringPacker: Packer = {
  fixed: null,
  min: 4,
  encode(w, v) {
    const b = utf8.encode(v === undefined || v === null ? '' : String(v));
    w.u32(b.length);
    w.bytes(b);
  },
  decode(r) {
    const n = r.u32();
    return utf8d.decode(r.take(n, 'string'));
  },
  zero: () => '',
};

function fixedBytesPacker(n: number, what: string): Packer {
  return {
    fixed: n,
    min: n,
    encode(w, v) {
      const b = toBytes(v, what);
      if (b.length > n) throw new ApiCodecError(`${what}: ${b.length} bytes, at most ${n}`);
      w.bytes(b, n);
    },
    decode: (r) => Uint8Array.from(r.take(n, what)),
    zero: () => new Uint8Array(n),
  };
}

function fixedListPacker(elem: Packer, n: number, what: string): Packer {
  return {
    fixed: elem.fixed === null ? null : elem.fixed * n,
    min: elem.min * n,
    encode(w, v) {
      const list = v === undefined || v === null ? [] : (v as unknown[]);
      if (!Array.isArray(list) || list.length > n) throw new ApiCodecError(`${what}: expected at most ${n} elements`);
      for (let i = 0; i < n; i++) elem.encode(w, i < list.length ? list[i] : undefined);
    },
    decode(r) {
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(elem.decode(r));
      return out;
    },
    zero: () => Array.from({ length: n }, () => elem.zero()),
  };
}

/** A field as a struct sees it: plain, or an array whose count comes from another field. */
interface FieldSpec {
  name: string;
  packer: Packer;
  /** For `T x[len]`: the element packer; count comes from field `lengthField`. */
  vla: { elem: Packer; lengthField: string; bytes: boolean } | null;
  /** For `u8 x[0]` and other legacy arrays without a count: read to the end. */
  rest: { elem: Packer; bytes: boolean } | null;
  defaultValue: unknown;
  /** This field holds the count of a later VLA field. */
  countOf: string | null;
}

export class StructCodec {
  readonly fixed: number | null;
  readonly min: number;
  readonly fieldNames: string[];

  constructor(readonly name: string, readonly fields: FieldSpec[]) {
    let fixed: number | null = 0;
    let min = 0;
    for (const f of fields) {
      if (f.vla || f.rest || f.packer.fixed === null) fixed = null;
      else if (fixed !== null) fixed += f.packer.fixed;
      min += f.vla || f.rest ? 0 : f.packer.min;
    }
    this.fixed = fixed;
    this.min = min;
    this.fieldNames = fields.map((f) => f.name);
  }

  encodeInto(w: ByteWriter, v: unknown): void {
    const o = (v ?? {}) as Obj;
    for (const f of this.fields) {
      let x = o[f.name];
      if (f.countOf !== null) {
        const arr = o[f.countOf];
        x = arr === undefined || arr === null ? 0 : (arr as { length: number }).length;
      } else if (x === undefined && f.defaultValue !== undefined) {
        x = f.defaultValue;
      }
      if (f.vla || f.rest) {
        const spec = (f.vla ?? f.rest)!;
        if (spec.bytes) w.bytes(toBytes(x, `${this.name}.${f.name}`));
        else for (const e of (x ?? []) as unknown[]) spec.elem.encode(w, e);
      } else {
        f.packer.encode(w, x);
      }
    }
  }

  decodeFrom(r: ByteReader): Obj {
    const o: Obj = {};
    for (const f of this.fields) {
      if (f.vla) {
        const count = Number(o[f.vla.lengthField] ?? 0);
        // Bound the count by what the rest of the message could hold before allocating.
        if (count * f.vla.elem.min > r.remaining) throw new ApiCodecError(`${this.name}.${f.name}: count ${count} exceeds message`);
        if (f.vla.bytes) o[f.name] = Uint8Array.from(r.take(count, f.name));
        else {
          const list: unknown[] = [];
          for (let i = 0; i < count; i++) list.push(f.vla.elem.decode(r));
          o[f.name] = list;
        }
      } else if (f.rest) {
        if (f.rest.bytes) o[f.name] = Uint8Array.from(r.take(r.remaining, f.name));
        else {
          const list: unknown[] = [];
          while (r.remaining > 0 && f.rest.elem.min > 0) list.push(f.rest.elem.decode(r));
          o[f.name] = list;
        }
      } else {
        o[f.name] = f.packer.decode(r);
      }
    }
    return o;
  }

  zero(): Obj {
    const o: Obj = {};
    for (const f of this.fields) o[f.name] = f.vla || f.rest ? (f.vla ?? f.rest)!.bytes ? new Uint8Array(0) : [] : f.packer.zero();
    return o;
  }

  asPacker(): Packer {
    return {
      fixed: this.fixed,
      min: this.min,
      encode: (w, v) => this.encodeInto(w, v),
      decode: (r) => this.decodeFrom(r),
      zero: () => this.zero(),
    };
  }
}

/** One message: its name, CRC, the `name_crc` clients look it up by, and its field codec. */
export class MessageCodec {
  readonly nameCrc: string;
  readonly hasContext: boolean;
  readonly hasRetval: boolean;
  readonly hasClientIndex: boolean;

  constructor(readonly name: string, readonly crc: string, readonly module: string, readonly body: StructCodec) {
    this.nameCrc = `${name}_${crc.replace(/^0x/, '')}`;
    const names = new Set(body.fieldNames);
    this.hasContext = names.has('context');
    this.hasRetval = names.has('retval');
    this.hasClientIndex = names.has('client_index');
  }

  /** Body bytes (u16 message id first) for `msg`, missing fields zero or their default. */
  encode(msgId: number, msg: Obj, maxBytes = 1 << 20): Uint8Array {
    const w = new ByteWriter(maxBytes, this.body.fixed !== null ? this.body.fixed + 2 : 256);
    w.u16(msgId);
    this.body.encodeInto(w, msg);
    return w.finish();
  }

  /** Decodes a body (with its u16 id). Throws ApiCodecError when truncated or inconsistent. */
  decode(body: Uint8Array): Obj {
    const r = new ByteReader(body);
    r.u16();
    return this.body.decodeFrom(r);
  }
}

export interface ModuleInfo {
  name: string;
  version: string;
  vlApiVersion: string;
  messages: string[];
  json: ApiJson;
}

/** All messages of a set of modules, by name. Types are shared by name across modules. */
export class ApiSchema {
  readonly messages = new Map<string, MessageCodec>();
  readonly modules: ModuleInfo[] = [];
  private readonly typeDefs = new Map<string, { kind: 'type' | 'union' | 'enum' | 'alias'; def: JsonValue[] | { type: string; length?: number } }>();
  private readonly packers = new Map<string, Packer>();
  readonly services = new Map<string, ApiJson['services'][string]>();

  constructor(apis: ApiJson[] = []) {
    for (const a of apis) this.add(a);
  }

  add(api: ApiJson, moduleName = api.module ?? 'unnamed'): ModuleInfo {
    if (this.modules.some((m) => m.name === moduleName)) throw new ApiCodecError(`module ${moduleName} already loaded`);
    for (const e of [...api.enums, ...api.enumflags]) this.typeDefs.set(e[0] as string, { kind: 'enum', def: e });
    for (const t of api.types) this.typeDefs.set(t[0] as string, { kind: 'type', def: t });
    for (const u of api.unions) this.typeDefs.set(u[0] as string, { kind: 'union', def: u });
    for (const [n, a] of Object.entries(api.aliases)) this.typeDefs.set(n, { kind: 'alias', def: a });
    const names: string[] = [];
    const built: MessageCodec[] = [];
    for (const m of api.messages) {
      const name = m[0] as string;
      if (this.messages.has(name)) throw new ApiCodecError(`message ${name} defined twice`);
      const meta = m[m.length - 1] as { crc: string };
      const fields = m.slice(1).filter((f) => Array.isArray(f) && (f as JsonValue[])[1] !== '_vl_msg_id') as JsonValue[][];
      built.push(new MessageCodec(name, meta.crc, moduleName, this.struct(name, fields)));
      names.push(name);
    }
    for (const c of built) this.messages.set(c.name, c);
    for (const [k, v] of Object.entries(api.services)) this.services.set(k, v);
    const info: ModuleInfo = {
      name: moduleName,
      version: String(api.options.version ?? '0.0.0'),
      vlApiVersion: api.vl_api_version,
      messages: names,
      json: api,
    };
    this.modules.push(info);
    return info;
  }

  get(name: string): MessageCodec {
    const m = this.messages.get(name);
    if (!m) throw new ApiCodecError(`unknown message ${name}`);
    return m;
  }

  private struct(owner: string, fields: JsonValue[][]): StructCodec {
    const specs: FieldSpec[] = [];
    for (const f of fields) {
      const type = f[0] as string;
      const name = f[1] as string;
      const what = `${owner}.${name}`;
      const third = f[2];
      const spec: FieldSpec = { name, packer: null as unknown as Packer, vla: null, rest: null, defaultValue: undefined, countOf: null };
      if (typeof third === 'number') {
        const lengthField = typeof f[3] === 'string' ? (f[3] as string) : null;
        if (type === 'string') {
          spec.packer = third > 0 ? fixedStringPacker(third) : vlaStringPacker;
        } else if (lengthField) {
          spec.vla = { elem: this.packer(type, what), lengthField, bytes: type === 'u8' };
          const lf = specs.find((s) => s.name === lengthField);
          if (!lf) throw new ApiCodecError(`${what}: unknown length field ${lengthField}`);
          lf.countOf = name;
        } else if (third === 0) {
          spec.rest = { elem: this.packer(type, what), bytes: type === 'u8' };
        } else {
          spec.packer = type === 'u8' ? fixedBytesPacker(third, what) : fixedListPacker(this.packer(type, what), third, what);
        }
      } else {
        spec.packer = this.packer(type, what);
        if (third && typeof third === 'object' && !Array.isArray(third) && 'default' in third) {
          const d = (third as Record<string, JsonValue>).default;
          spec.defaultValue = d === 'true' ? true : d;
        }
      }
      if (spec.packer === null) spec.packer = { fixed: null, min: 0, encode: () => {}, decode: () => undefined, zero: () => undefined };
      specs.push(spec);
    }
    return new StructCodec(owner, specs);
  }

  private packer(type: string, what: string): Packer {
    const s = scalarPacker(type, what);
    if (s) return s;
    const cached = this.packers.get(type);
    if (cached) return cached;
    const m = /^vl_api_(.+)_t$/.exec(type);
    const def = m ? this.typeDefs.get(m[1]!) : undefined;
    if (!m || !def) throw new ApiCodecError(`${what}: unknown type ${type}`);
    let p: Packer;
    if (def.kind === 'enum') {
      const d = def.def as JsonValue[];
      const enumtype = (d[d.length - 1] as { enumtype: string }).enumtype;
      p = scalarPacker(enumtype, what)!;
    } else if (def.kind === 'alias') {
      const a = def.def as { type: string; length?: number };
      if (a.length === undefined) p = this.packer(a.type, what);
      else if (a.type === 'u8') p = fixedBytesPacker(a.length, what);
      else if (a.type === 'string') p = fixedStringPacker(a.length);
      else p = fixedListPacker(this.packer(a.type, what), a.length, what);
    } else if (def.kind === 'type') {
      const d = def.def as JsonValue[];
      p = this.struct(m[1]!, d.slice(1).filter((f) => Array.isArray(f)) as JsonValue[][]).asPacker();
    } else {
      p = this.union(m[1]!, (def.def as JsonValue[]).slice(1).filter((f) => Array.isArray(f)) as JsonValue[][]);
    }
    this.packers.set(type, p);
    return p;
  }

  /** A union is as wide as its widest member; encoding writes the first member given. */
  private union(name: string, fields: JsonValue[][]): Packer {
    const members = fields.map((f) => ({ name: f[1] as string, codec: this.struct(`${name}.${f[1] as string}`, [f]) }));
    let size = 0;
    for (const mb of members) {
      if (mb.codec.fixed === null) throw new ApiCodecError(`union ${name}: variable-length member ${mb.name}`);
      size = Math.max(size, mb.codec.fixed);
    }
    return {
      fixed: size,
      min: size,
      encode(w, v) {
        const o = (v ?? {}) as Obj;
        const start = w.pos;
        const mb = members.find((x) => o[x.name] !== undefined);
        if (mb) mb.codec.encodeInto(w, o);
        w.bytes(new Uint8Array(0), size - (w.pos - start));
      },
      decode(r) {
        const raw = r.take(size, name);
        const o: Obj = {};
        for (const mb of members) Object.assign(o, mb.codec.decodeFrom(new ByteReader(raw)));
        return o;
      },
      zero() {
        const o: Obj = {};
        for (const mb of members) Object.assign(o, mb.codec.zero());
        return o;
      },
    };
  }
}

export function nameCrc(name: string, crc: number): string {
  return `${name}_${crcHex(crc)}`;
}
