// Writes an ApiModel as vppapigen's *.api.json (the JSON back end's layout and key order, and the
// formatting of Python's json.dumps(indent=4, separators=(",", ": ")) with ASCII escapes).

import type { ArrayDecl, BlockItem, EnumStmt, FieldDecl } from './ast.js';
import { crcHex } from './crc.js';
import { enumValues, type ApiModel } from './model.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

/** The parsed shape of one *.api.json file (what vpp_papi and our codec read). */
export interface ApiJson {
  module?: string;
  types: JsonValue[][];
  messages: JsonValue[][];
  unions: JsonValue[][];
  enums: JsonValue[][];
  enumflags: JsonValue[][];
  services: Record<string, { reply: string; stream?: boolean; stream_msg?: string; events?: string[] }>;
  options: Record<string, JsonValue>;
  aliases: Record<string, { type: string; length?: number }>;
  vl_api_version: string;
  imports: string[];
  counters: JsonValue[];
  paths: JsonValue[];
}

function fieldJson(b: FieldDecl | ArrayDecl): unknown[] {
  if (b.kind === 'field') return b.options ? [b.type, b.name, b.options] : [b.type, b.name];
  return b.lengthField ? [b.type, b.name, b.length, b.lengthField] : [b.type, b.name, b.length];
}

function blockJson(name: string, block: BlockItem[]): unknown[] {
  const d: unknown[] = [name];
  for (const b of block) if (b.kind !== 'option') d.push(fieldJson(b));
  return d;
}

function enumJson(e: EnumStmt): unknown[] {
  return [e.name, ...enumValues(e).full, { enumtype: e.enumtype }];
}

/** The JSON document as plain values (float literals still wrapped; see pythonJsonDumps). */
export function modelToJson(m: ApiModel): Record<string, unknown> {
  const services: ApiJson['services'] = {};
  for (const [caller, s] of m.services) services[caller] = { ...s };
  const aliases: ApiJson['aliases'] = {};
  for (const a of m.aliases) {
    aliases[a.name] = a.target.kind === 'array' ? { type: a.target.type, length: a.target.length } : { type: a.target.type };
  }
  return {
    module: m.module,
    types: m.types.map((t) => {
      const d = blockJson(t.name, t.block);
      if (t.comment) d.push({ comment: t.comment });
      return d;
    }),
    messages: m.messages.map((msg) => {
      const d = blockJson(msg.name, msg.block);
      const extra: Record<string, unknown> = { crc: '0x' + crcHex(msg.crc), options: msg.options };
      if (msg.comment) extra.comment = msg.comment;
      d.push(extra);
      return d;
    }),
    unions: m.unions.map((u) => blockJson(u.name, u.block)),
    enums: m.enums.map(enumJson),
    enumflags: m.enumflags.map(enumJson),
    services,
    options: m.options,
    aliases,
    vl_api_version: '0x' + m.fileCrc.toString(16),
    imports: m.imports,
    counters: m.counters.map((c) => ({ name: c.name, elements: c.elements })),
    paths: m.paths.map((p) => p.paths),
  };
}

/** Python json.dumps(obj, indent=4, separators=(",", ": ")) for the values vppapigen emits. */
export function pythonJsonDumps(v: unknown): string {
  const s = JSON.stringify(v, null, 4).replace(/"\\u0000float:([^\\]*)\\u0000"/g, '$1');
  // json.dumps escapes every non-ASCII character; JSON.stringify leaves them raw.
  return s.replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
