import { describe, expect, it } from 'vitest';
import { ALL_APIS } from '../../../src/api/builtin.js';
import { ApiCodecError, ApiSchema } from '../../../src/api/codec/schema.js';
import type { ApiJson, JsonValue } from '../../../src/api/generator/json.js';

const schema = new ApiSchema([...ALL_APIS]);

// Index of every type by name, over all modules.
const enums = new Map<string, number[]>();
const structs = new Map<string, JsonValue[][]>();
const unions = new Set<string>();
const aliases = new Map<string, { type: string; length?: number }>();
for (const a of ALL_APIS as ApiJson[]) {
  for (const e of [...a.enums, ...a.enumflags]) enums.set(e[0] as string, e.slice(1, -1).map((m) => (m as [string, number])[1]));
  for (const t of a.types) structs.set(t[0] as string, t.slice(1).filter(Array.isArray) as JsonValue[][]);
  for (const u of a.unions) {
    structs.set(u[0] as string, u.slice(1).filter(Array.isArray) as JsonValue[][]);
    unions.add(u[0] as string);
  }
  for (const [n, v] of Object.entries(a.aliases)) aliases.set(n, v);
}

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return (n: number) => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s % n;
  };
}
type Rng = ReturnType<typeof rng>;

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_. ';
const str = (r: Rng, max: number) => Array.from({ length: r(max + 1) }, () => ASCII[r(ASCII.length)]).join('');
const bytes = (r: Rng, n: number) => Uint8Array.from({ length: n }, () => r(256));

let containsUnion = false;

function scalar(type: string, r: Rng): unknown {
  switch (type) {
    case 'u8': return r(256);
    case 'i8': return r(256) - 128;
    case 'u16': return r(65536);
    case 'i16': return r(65536) - 32768;
    case 'u32': return r(0x10000) * 0x10000 + r(0x10000);
    case 'i32': return (r(0x10000) * 0x10000 + r(0x10000)) | 0;
    case 'u64': return (BigInt(r(0x10000)) << 48n) | (BigInt(r(0x1000000)) << 24n) | BigInt(r(0x1000000));
    case 'i64': return BigInt.asIntN(64, (BigInt(r(0x10000)) << 48n) | BigInt(r(0x1000000)));
    case 'f64': return (r(2000000) - 1000000) / 7;
    case 'bool': return r(2) === 1;
  }
  const name = /^vl_api_(.+)_t$/.exec(type)![1]!;
  if (enums.has(name)) {
    const vals = enums.get(name)!;
    return vals[r(vals.length)];
  }
  const alias = aliases.get(name);
  if (alias) return alias.length === undefined ? scalar(alias.type, r) : alias.type === 'u8' ? bytes(r, alias.length) : Array.from({ length: alias.length }, () => scalar(alias.type, r));
  if (unions.has(name)) containsUnion = true;
  return struct(structs.get(name)!, r);
}

function struct(fields: JsonValue[][], r: Rng): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) {
    const [type, name, len, lenField] = f as [string, string, unknown, unknown];
    if (name === '_vl_msg_id') continue;
    if (typeof len !== 'number') o[name] = scalar(type, r);
    else if (type === 'string') o[name] = str(r, len > 0 ? len - 1 : 40);
    else if (typeof lenField === 'string') {
      const n = r(5);
      o[name] = type === 'u8' ? bytes(r, n) : Array.from({ length: n }, () => scalar(type, r));
      o[lenField] = n;
    } else o[name] = type === 'u8' ? bytes(r, len) : Array.from({ length: len }, () => scalar(type, r));
  }
  return o;
}

const messages = (ALL_APIS as ApiJson[]).flatMap((a) => a.messages.map((m) => [m[0] as string, m] as const));

describe('codec round trips', () => {
  it.each(messages)('%s', (name, def) => {
    const codec = schema.get(name);
    const fields = def.slice(1).filter(Array.isArray) as JsonValue[][];
    for (let seed = 1; seed <= 25; seed++) {
      containsUnion = false;
      const v = struct(fields, rng(seed * 7919 + name.length));
      const wire = codec.encode(1234, v);
      expect(wire[0]! << 8 | wire[1]!).toBe(1234);
      const back = codec.decode(wire);
      // Decoded unions show every member over the same bytes; compare those at byte level only.
      if (!containsUnion) expect(back).toEqual(v);
      expect(Buffer.from(codec.encode(1234, back)).equals(Buffer.from(wire))).toBe(true);
      for (const cut of [wire.length - 1, 2 + Math.floor((wire.length - 2) / 2)]) {
        if (cut < 2 || cut >= wire.length) continue;
        expect(() => codec.decode(wire.subarray(0, cut)), `${name} cut at ${cut}`).toThrow(ApiCodecError);
      }
    }
  });
});

describe('wire details', () => {
  it('packs sockclnt_create exactly as vpp_papi does', () => {
    const wire = schema.get('sockclnt_create').encode(15, { context: 124, name: 'papi' });
    const expected = Buffer.alloc(2 + 4 + 64);
    expected.writeUInt16BE(15, 0);
    expected.writeUInt32BE(124, 2);
    expected.write('papi', 6, 'ascii');
    expect(Buffer.from(wire).equals(expected)).toBe(true);
  });

  it('sets VLA counts from the array and bounds counts read from the wire', () => {
    const c = schema.get('sockclnt_create_reply');
    const wire = c.encode(16, { message_table: [{ index: 1, name: 'a' }, { index: 2, name: 'b' }] });
    expect(c.decode(wire).count).toBe(2);
    const lying = Uint8Array.from(wire);
    lying[2 + 4 + 4 + 4 + 4] = 0xff; // count high byte: 65282 entries claimed
    expect(() => c.decode(lying)).toThrow(/exceeds message/);
  });

  it('truncates fixed strings to N-1 bytes and encodes string[] with a u32 length', () => {
    const v = schema.get('show_version_reply');
    const long = 'x'.repeat(100);
    expect(v.decode(v.encode(2, { program: long })).program).toBe('x'.repeat(31));
    const j = schema.get('get_api_json_reply');
    const wire = j.encode(28, { json: 'héllo' });
    expect(Buffer.from(wire.subarray(10, 14)).readUInt32BE(0)).toBe(6);
    expect(j.decode(wire).json).toBe('héllo');
  });

  it('applies [default=...] to missing fields', () => {
    const d = schema.get('sw_interface_dump');
    expect(d.decode(d.encode(1, {})).sw_if_index).toBe(0xffffffff);
  });

  it('encodes the union member given and decodes all members over the same bytes', () => {
    const a = schema.get('sw_interface_add_del_address');
    const msg = { sw_if_index: 1, is_add: true, prefix: { address: { af: 0, un: { ip4: Uint8Array.of(10, 0, 0, 1) } }, len: 24 } };
    const back = a.decode(a.encode(1, msg)) as { prefix: { address: { af: number; un: { ip4: Uint8Array; ip6: Uint8Array } }; len: number } };
    expect([...back.prefix.address.un.ip4]).toEqual([10, 0, 0, 1]);
    expect(back.prefix.address.un.ip6.length).toBe(16);
    expect(back.prefix.len).toBe(24);
  });

  it('rejects out-of-range values', () => {
    const s = schema.get('sw_interface_set_flags');
    expect(() => s.encode(1, { sw_if_index: -1 })).toThrow(ApiCodecError);
    expect(() => s.encode(1, { sw_if_index: 2 ** 32 })).toThrow(ApiCodecError);
  });
});
