// Semantic pass over parsed .api files, the way vppapigen's JSON back end sees them: imports are
// inlined (only their types), autoreply replies are added, services are completed implicitly, a
// `u16 _vl_msg_id` is prepended to every message, and CRCs are computed and folded through the
// referenced types (vppapigen's foldup_crcs).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type {
  AliasStmt, ArrayDecl, BlockItem, CountersStmt, DefineStmt, EnumStmt, FieldDecl, OptionValue,
  PathsStmt, RpcDecl, Statement, TypedefStmt, UnionStmt,
} from './ast.js';
import { crc32, pyRepr, PyRaw, type PyValue } from './crc.js';
import { parseApi } from './parser.js';

export class ApiSemanticError extends Error {
  override name = 'ApiSemanticError';
}

const BASE_TYPES = new Set(['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f64', 'bool', 'string']);

export interface MessageDef {
  name: string;
  /** Fields including the leading `_vl_msg_id`. */
  block: (FieldDecl | ArrayDecl)[];
  options: Record<string, OptionValue>;
  comment: string | null;
  crc: number;
}

export interface ServiceDef {
  reply: string;
  stream?: true;
  stream_msg?: string;
  events?: string[];
}

export interface ApiModel {
  module: string;
  types: TypedefStmt[];
  messages: MessageDef[];
  unions: UnionStmt[];
  enums: EnumStmt[];
  enumflags: EnumStmt[];
  services: Map<string, ServiceDef>;
  options: Record<string, OptionValue>;
  aliases: AliasStmt[];
  fileCrc: number;
  imports: string[];
  counters: CountersStmt[];
  paths: PathsStmt[];
}

/** A type known to the run: what vppapigen keeps in global_types. */
interface GlobalType {
  crcText: string;
  /** Items folded into dependent CRCs; `null` entries stand for enum members (not fields). */
  block: (BlockItem | null)[];
  vla: boolean;
}

type Loaded = { stmts: Statement[] };

export interface LoadOptions {
  /** Directories searched for `import "x.api"`, before the importing file's own directory. */
  includeDirs?: string[];
  readFile?: (file: string) => string;
}

function typeKey(name: string): string {
  return `vl_api_${name}_t`;
}

function itemRepr(item: BlockItem): PyValue {
  if (item.kind === 'field') return [item.type, item.name];
  if (item.kind === 'array') return [item.type, item.name, item.length, item.lengthField];
  return new PyRaw(item.name);
}

function blockRepr(block: BlockItem[]): string {
  return pyRepr(block.map(itemRepr));
}

class FoldStop extends Error {}

/** One compile run: the set of types and parsed imports is shared, as vppapigen's globals are. */
export class ApiCompiler {
  private readonly globalTypes = new Map<string, GlobalType>();
  private readonly imports = new Map<string, Loaded>();
  private readonly readFile: (file: string) => string;

  constructor(private readonly opts: LoadOptions = {}) {
    this.readFile = opts.readFile ?? ((f) => fs.readFileSync(f, 'utf8'));
  }

  /** Compiles one top-level .api file into the model its JSON is written from. */
  compileFile(file: string): ApiModel {
    const stmts = this.load(file);
    const base = path.basename(file);
    const module = base.replace(/\.[^.]*$/, '').replace(/\./g, '_');
    return this.process(module, this.flattenImports(stmts, false, []));
  }

  private load(file: string): Statement[] {
    const stmts = parseApi(this.readFile(file), file);
    for (const s of stmts) this.register(s, file);
    return stmts;
  }

  private resolveImport(name: string, fromFile: string): string {
    const dirs = [...(this.opts.includeDirs ?? []), path.dirname(fromFile)];
    for (const d of dirs) {
      const f = path.join(d, name);
      if (fs.existsSync(f)) return f;
    }
    throw new ApiSemanticError(`${fromFile}: import not found: ${name}`);
  }

  private register(s: Statement, file: string): void {
    switch (s.kind) {
      case 'import': {
        if (!this.imports.has(s.filename)) {
          const loaded: Loaded = { stmts: [] };
          this.imports.set(s.filename, loaded);
          loaded.stmts = this.load(this.resolveImport(s.filename, file));
        }
        return;
      }
      case 'typedef':
        this.checkBlock(s.name, s.block, file);
        this.addType(s.name, { crcText: blockRepr(s.block), block: s.block, vla: this.vlaCheck(s.name, s.block) });
        return;
      case 'union':
        this.checkBlock(s.name, s.block, file);
        this.addType(s.name, { crcText: blockRepr(s.block), block: s.block, vla: this.vlaCheck(s.name, s.block) });
        return;
      case 'alias':
        this.checkBlock(s.name, [s.target], file);
        // vppapigen hashes an alias as its empty block "[]" for backwards compatibility.
        this.addType(s.name, { crcText: '[]', block: [], vla: false });
        return;
      case 'enum':
      case 'enumflag': {
        const { full, crcList } = enumValues(s);
        if (s.kind === 'enumflag') {
          for (const [id, v] of full) {
            if (v.toString(2).split('1').length - 1 > 1) throw new ApiSemanticError(`${s.name} is not a flag enum (${id})`);
          }
        }
        this.addType(s.name, { crcText: pyRepr(crcList), block: full.map(() => null), vla: false });
        return;
      }
      case 'define':
        this.checkBlock(s.name, s.block, file);
        this.vlaCheck(s.name, s.block.filter((b) => b.kind !== 'option'));
        return;
      default:
        return;
    }
  }

  private addType(name: string, t: GlobalType): void {
    const key = typeKey(name);
    if (this.globalTypes.has(key)) throw new ApiSemanticError(`attempted redefinition of ${name}`);
    this.globalTypes.set(key, t);
  }

  private checkBlock(owner: string, block: BlockItem[], file: string): void {
    for (const b of block) {
      if (b.kind === 'option') continue;
      if (!BASE_TYPES.has(b.type) && !this.globalTypes.has(b.type)) {
        throw new ApiSemanticError(`${file}: ${owner}: undefined type: ${b.type}`);
      }
    }
  }

  private vlaCheck(name: string, block: BlockItem[]): boolean {
    let vla = false;
    block.forEach((b, i) => {
      if (b.kind === 'option') return;
      const isVla =
        (b.kind === 'array' && b.lengthField !== null) ||
        (b.kind === 'array' && b.type === 'string' && b.length === 0) ||
        (b.type.startsWith('vl_api_') && this.globalTypes.get(b.type)?.vla === true);
      if (isVla) {
        vla = true;
        if (i + 1 < block.length) throw new ApiSemanticError(`VLA field "${b.name}" must be the last field in message "${name}"`);
      }
    });
    return vla;
  }

  /** vppapigen's process_imports: imported files contribute only their types (and imports). */
  private flattenImports(stmts: Statement[], inImport: boolean, out: Statement[]): Statement[] {
    for (const s of stmts) {
      if (inImport && !['enum', 'enumflag', 'import', 'typedef', 'union', 'alias'].includes(s.kind)) continue;
      out.push(s);
      if (s.kind === 'import') this.flattenImports(this.imports.get(s.filename)!.stmts, true, out);
    }
    return out;
  }

  private process(module: string, stmts: Statement[]): ApiModel {
    const m: ApiModel = {
      module, types: [], messages: [], unions: [], enums: [], enumflags: [], services: new Map(),
      options: {}, aliases: [], fileCrc: 0, imports: [], counters: [], paths: [],
    };
    const rawCrc = new Map<MessageDef, string>();
    const explicit: RpcDecl[] = [];
    let fileCrc = 0;
    for (const s of stmts) {
      switch (s.kind) {
        case 'define': {
          const block = s.block.filter((b): b is FieldDecl | ArrayDecl => b.kind !== 'option');
          const options: Record<string, OptionValue> = {};
          for (const b of s.block) if (b.kind === 'option') options[b.name] = b.value;
          const text = blockRepr(block);
          fileCrc = crc32(text, fileCrc);
          const def: MessageDef = { name: s.name, block, options, comment: s.comment, crc: 0 };
          m.messages.push(def);
          rawCrc.set(def, text);
          if (s.flags.includes('autoreply')) {
            const rblock: FieldDecl[] = [
              { kind: 'field', type: 'u32', name: 'context', options: null },
              { kind: 'field', type: 'i32', name: 'retval', options: null },
            ];
            const reply: MessageDef = { name: `${s.name}_reply`, block: rblock, options: { ...options }, comment: null, crc: 0 };
            m.messages.push(reply);
            rawCrc.set(reply, blockRepr(rblock));
          }
          break;
        }
        case 'typedef':
          fileCrc = crc32(blockRepr(s.block), fileCrc);
          m.types.push(s);
          break;
        case 'union':
          fileCrc = crc32(blockRepr(s.block), fileCrc);
          m.unions.push(s);
          break;
        case 'alias':
          fileCrc = crc32('[]', fileCrc);
          m.aliases.push(s);
          break;
        case 'enum':
        case 'enumflag':
          fileCrc = crc32(pyRepr(enumValues(s).crcList), fileCrc);
          (s.kind === 'enum' ? m.enums : m.enumflags).push(s);
          break;
        case 'option':
          fileCrc = crc32(s.name, fileCrc);
          m.options[s.name] = s.value;
          break;
        case 'import':
          m.imports.push(s.filename);
          break;
        case 'service':
          explicit.push(...s.rpcs);
          break;
        case 'counters':
          m.counters.push(s);
          break;
        case 'paths':
          m.paths.push(s);
          break;
      }
    }
    m.fileCrc = fileCrc;
    this.completeServices(m, explicit);
    for (const def of m.messages) {
      def.block.unshift({ kind: 'field', type: 'u16', name: '_vl_msg_id', options: null });
      def.crc = this.foldup(def.block, crc32(rawCrc.get(def)!));
    }
    return m;
  }

  private completeServices(m: ApiModel, explicit: RpcDecl[]): void {
    const msgs = new Map(m.messages.map((d) => [d.name, d]));
    const svcs = new Map<string, RpcDecl>();
    for (const r of explicit) svcs.set(r.caller, r);
    const replies = new Set(explicit.map((r) => r.reply));
    const seenEvents = new Set<string>();
    for (const [caller, svc] of svcs) {
      if (!msgs.has(caller)) throw new ApiSemanticError(`service definition refers to unknown message definition: ${caller}`);
      if (svc.reply !== 'null' && !msgs.has(svc.reply)) throw new ApiSemanticError(`service definition refers to unknown message definition in reply: ${svc.reply}`);
      if (replies.has(caller)) throw new ApiSemanticError(`service definition refers to message marked as reply: ${caller}`);
      for (const e of svc.events) {
        if (!msgs.has(e)) throw new ApiSemanticError(`service definition refers to unknown event: ${e} in message: ${caller}`);
        seenEvents.add(e);
      }
    }
    const all: RpcDecl[] = [...explicit];
    const implicit = (caller: string, reply: string, stream: boolean) => all.push({ caller, reply, stream, streamMessage: null, events: [] });
    for (const d of msgs.keys()) {
      if (seenEvents.has(d)) continue;
      if (d.endsWith('_reply')) {
        if (svcs.has(d.slice(0, -6))) continue;
        if (!msgs.has(d.slice(0, -6))) throw new ApiSemanticError(`${d} missing calling message`);
        continue;
      }
      if (d.endsWith('_dump')) {
        if (svcs.has(d)) continue;
        const details = d.slice(0, -5) + '_details';
        if (!msgs.has(details)) throw new ApiSemanticError(`${d} missing details message`);
        implicit(d, details, true);
        continue;
      }
      if (d.endsWith('_details')) {
        const base = d.slice(0, -8);
        if (msgs.has(base + '_get')) {
          if (svcs.has(base + '_get')) continue;
          throw new ApiSemanticError(`${base}_get should be in a stream service`);
        }
        if (msgs.has(base + '_dump')) continue;
        throw new ApiSemanticError(`${d} missing dump or get message`);
      }
      if (svcs.has(d)) continue;
      if (msgs.has(d + '_reply')) implicit(d, d + '_reply', false);
      else throw new ApiSemanticError(`${d} missing reply message (${d}_reply) or service definition`);
    }
    for (const r of all) {
      const s: ServiceDef = { reply: r.reply };
      if (r.stream) s.stream = true;
      if (r.streamMessage) s.stream_msg = r.streamMessage;
      if (r.events.length) s.events = r.events;
      m.services.set(r.caller, s);
    }
  }

  /** vppapigen's foldup_blocks, including where its AttributeError stops a nested fold. */
  private foldup(block: (BlockItem | null)[], crc: number): number {
    for (const b of block) {
      if (b === null || b.kind === 'option') throw new FoldStop();
      if (!b.type.startsWith('vl_api_')) continue;
      const t = this.globalTypes.get(b.type)!;
      crc = crc32(t.crcText, crc);
      try {
        crc = this.foldup(t.block, crc);
      } catch (e) {
        if (!(e instanceof FoldStop)) throw e;
      }
    }
    return crc;
  }
}

/** Enum members with values; crcList omits members marked backwards_compatible. */
export function enumValues(s: EnumStmt): { full: [string, number][]; crcList: [string, number][] } {
  let count = -1;
  const full: [string, number][] = [];
  const crcList: [string, number][] = [];
  let bcSet = false;
  for (const mbr of s.members) {
    count = mbr.value !== undefined ? mbr.value : count + 1;
    full.push([mbr.id, count]);
    if (mbr.options && 'backwards_compatible' in mbr.options) {
      bcSet = true;
    } else {
      crcList.push([mbr.id, count]);
      if (bcSet) throw new ApiSemanticError(`backward compatible enum must be last ${s.name} ${mbr.id}`);
    }
  }
  return { full, crcList };
}

export type { DefineStmt };
