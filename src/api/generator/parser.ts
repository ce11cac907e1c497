// Recursive-descent parser for VPP's .api language. It accepts the grammar vppapigen accepts and
// reproduces the two quirks that are visible in its output: a /* */ or // comment ending on the line
// before a define or typedef becomes that definition's "comment", and comments anywhere other than
// between statements are dropped.

import { FloatLiteral } from './ast.js';
import { pyFloatText } from './crc.js';
import type {
  ArrayDecl, BlockItem, CountersStmt, EnumMember, EnumStmt, FieldDecl, OptionDecl, OptionValue,
  PathsStmt, RpcDecl, ServiceStmt, Statement,
} from './ast.js';
import { ApiSyntaxError, tokenize, type Token } from './lexer.js';

const FLAGS = new Set(['manual_print', 'manual_endian', 'dont_trace', 'typeonly', 'autoendian', 'autoreply']);
const BASE_TYPES = new Set(['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f64', 'bool', 'string']);
const VARIABLE_NAME_KEYWORDS = new Set(['type', 'severity', 'description', 'counters', 'paths']);
const ENUM_SIZES = new Set(['u8', 'u16', 'u32', 'i8', 'i16', 'i32']);
const ENUMFLAG_SIZES = new Set(['u8', 'u16', 'u32']);
// Field names vpp_papi could not expose as attributes; vppapigen refuses them.
const PYTHON_KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def',
  'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is',
  'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);

export function parseApi(src: string, file: string): Statement[] {
  return new Parser(tokenize(src, file), file).parseFile();
}

class Parser {
  private pos = 0;
  private lastComment: string | null = null;
  private lastCommentEndLine = 0;

  constructor(private readonly toks: Token[], private readonly file: string) {}

  parseFile(): Statement[] {
    const out: Statement[] = [];
    for (;;) {
      const t = this.toks[this.pos]!;
      if (t.kind === 'EOF') break;
      if (t.kind === 'COMMENT') {
        this.pos++;
        this.lastComment = t.text;
        this.lastCommentEndLine = t.line + (t.text.split('\n').length - 1);
        continue;
      }
      out.push(this.statement());
    }
    if (out.length === 0) this.fail(this.toks[this.pos]!, 'at end of input');
    return out;
  }

  // ---- token helpers (comments inside a statement are skipped, as vppapigen's error recovery does)

  private peek(offset = 0): Token {
    let p = this.pos;
    let seen = 0;
    for (;;) {
      const t = this.toks[p]!;
      if (t.kind === 'COMMENT') { p++; continue; }
      if (seen === offset || t.kind === 'EOF') return t;
      seen++;
      p++;
    }
  }

  private next(): Token {
    while (this.toks[this.pos]!.kind === 'COMMENT') this.pos++;
    const t = this.toks[this.pos]!;
    if (t.kind !== 'EOF') this.pos++;
    return t;
  }

  private fail(t: Token, msg: string): never {
    throw new ApiSyntaxError(this.file, t.line, t.kind === 'EOF' ? `${msg} (at end of input)` : `${msg} (before: ${t.text})`);
  }

  private isKw(t: Token, word: string): boolean {
    return t.kind === 'KEYWORD' && t.text === word;
  }

  private isPunct(t: Token, c: string): boolean {
    return t.kind === 'PUNCT' && t.text === c;
  }

  private expectPunct(c: string): Token {
    const t = this.next();
    if (!this.isPunct(t, c)) this.fail(t, `expected '${c}'`);
    return t;
  }

  private expectKw(word: string): Token {
    const t = this.next();
    if (!this.isKw(t, word)) this.fail(t, `expected '${word}'`);
    return t;
  }

  private expectId(): Token {
    const t = this.next();
    if (t.kind !== 'ID') this.fail(t, 'expected identifier');
    return t;
  }

  private expectString(): string {
    const t = this.next();
    if (t.kind !== 'STRING') this.fail(t, 'expected string literal');
    return t.text;
  }

  /** The comment attached to a definition whose keyword is on `line`; consumes it either way. */
  private takeComment(line: number): string | null {
    const c = line <= this.lastCommentEndLine + 1 ? this.lastComment : null;
    this.lastComment = null;
    return c;
  }

  // ---- statements

  private statement(): Statement {
    const t = this.peek();
    if (this.isKw(t, 'option')) return this.option();
    if (this.isKw(t, 'import')) {
      this.next();
      const filename = this.expectString();
      this.expectPunct(';');
      return { kind: 'import', filename };
    }
    if (this.isKw(t, 'enum') || this.isKw(t, 'enumflag')) return this.enumStmt();
    if (this.isKw(t, 'service')) return this.service();
    if (this.isKw(t, 'counters')) return this.counters();
    if (this.isKw(t, 'paths')) return this.paths();
    const flags: string[] = [];
    while (this.peek().kind === 'KEYWORD' && FLAGS.has(this.peek().text)) flags.push(this.next().text);
    const kw = this.next();
    if (this.isKw(kw, 'define')) {
      if (flags.includes('typeonly')) this.fail(kw, 'legacy typedef, use typedef');
      const name = this.expectId().text;
      const block = this.block();
      this.expectPunct(';');
      return { kind: 'define', name, flags, block, comment: this.takeComment(kw.line) };
    }
    if (this.isKw(kw, 'typedef')) {
      if (this.isPunct(this.peek(1), '{')) {
        const nameTok = this.expectId();
        const block = this.block();
        this.expectPunct(';');
        // vppapigen takes the line of the name when flags precede the keyword.
        const comment = this.takeComment(flags.length ? nameTok.line : kw.line);
        return { kind: 'typedef', name: nameTok.text, flags, block, comment };
      }
      const target = this.declaration(new Set());
      return { kind: 'alias', name: target.name, flags, target };
    }
    if (this.isKw(kw, 'union')) {
      const name = this.expectId().text;
      const block = this.block();
      this.expectPunct(';');
      return { kind: 'union', name, flags, block };
    }
    return this.fail(kw, 'syntax error');
  }

  private assignee(): OptionValue {
    const t = this.next();
    if (t.kind === 'NUM') return t.text.includes('.') ? new FloatLiteral(t.num!, pyFloatText(t.num!)) : t.num!;
    if (t.kind === 'FALSE') return false;
    if (t.kind === 'STRING' || t.kind === 'ID') return t.text;
    // vppapigen's TRUE token keeps its text, so `true` is the string "true".
    if (this.isKw(t, 'true') || this.isKw(t, 'type')) return t.text;
    return this.fail(t, 'expected value');
  }

  private option(): OptionDecl {
    this.expectKw('option');
    const name = this.expectId().text;
    let value: OptionValue = null;
    if (this.isPunct(this.peek(), '=')) {
      this.next();
      value = this.assignee();
    }
    this.expectPunct(';');
    return { kind: 'option', name, value };
  }

  private block(): BlockItem[] {
    this.expectPunct('{');
    const items: BlockItem[] = [];
    const fieldNames = new Set<string>();
    while (!this.isPunct(this.peek(), '}')) {
      if (this.isKw(this.peek(), 'option')) {
        items.push(this.option());
        continue;
      }
      const d = this.declaration(fieldNames);
      items.push(d);
    }
    const close = this.next();
    if (items.length === 0) this.fail(close, 'empty block');
    return items;
  }

  private typeSpecifier(): string {
    const t = this.next();
    if (t.kind === 'KEYWORD' && BASE_TYPES.has(t.text)) return t.text;
    if (t.kind === 'ID') return t.text;
    return this.fail(t, 'expected type');
  }

  private variableName(): Token {
    const t = this.next();
    if (t.kind === 'ID' || (t.kind === 'KEYWORD' && VARIABLE_NAME_KEYWORDS.has(t.text))) return t;
    return this.fail(t, 'expected field name');
  }

  private declaration(fieldNames: Set<string>): FieldDecl | ArrayDecl {
    const type = this.typeSpecifier();
    const nameTok = this.variableName();
    const name = nameTok.text;
    const t = this.next();
    if (this.isPunct(t, ';')) {
      fieldNames.add(name);
      return this.field(type, name, null, nameTok);
    }
    if (!this.isPunct(t, '[')) this.fail(t, 'expected ; or [');
    const a = this.peek();
    const b = this.peek(1);
    let decl: FieldDecl | ArrayDecl;
    if (this.isPunct(a, ']')) {
      this.next();
      if (type !== 'string') this.fail(nameTok, `field '${name}' has no length, which is only allowed for string types`);
      decl = { kind: 'array', type, name, length: 0, lengthField: null };
    } else if (a.kind === 'NUM' && this.isPunct(b, ']')) {
      this.next();
      this.next();
      if (!Number.isInteger(a.num) || a.num! < 0) this.fail(a, 'bad array length');
      decl = { kind: 'array', type, name, length: a.num!, lengthField: null };
    } else if (a.kind === 'ID' && this.isPunct(b, ']')) {
      this.next();
      this.next();
      if (!fieldNames.has(a.text)) this.fail(a, `missing length field: ${type} ${name}[${a.text}]`);
      decl = { kind: 'array', type, name, length: 0, lengthField: a.text };
    } else {
      const options = this.fieldOptions();
      this.expectPunct(']');
      fieldNames.add(name);
      decl = this.field(type, name, options, nameTok);
    }
    this.expectPunct(';');
    return decl;
  }

  private field(type: string, name: string, options: Record<string, OptionValue> | null, at: Token): FieldDecl {
    if (type === 'string') this.fail(at, `the string type '${name}' is an array type`);
    if (PYTHON_KEYWORDS.has(name)) this.fail(at, `field name '${name}' is a python keyword`);
    return { kind: 'field', type, name, options };
  }

  private fieldOptions(): Record<string, OptionValue> {
    const opts: Record<string, OptionValue> = {};
    do {
      const id = this.expectId().text;
      if (this.isPunct(this.peek(), '=')) {
        this.next();
        opts[id] = this.assignee();
        if (this.isPunct(this.peek(), ',')) this.next();
      } else {
        opts[id] = null;
      }
    } while (this.peek().kind === 'ID');
    return opts;
  }

  private enumStmt(): EnumStmt {
    const kw = this.next();
    const kind = kw.text as 'enum' | 'enumflag';
    const name = this.expectId().text;
    let enumtype = 'u32';
    if (this.isPunct(this.peek(), ':')) {
      this.next();
      const sz = this.next();
      const allowed = kind === 'enum' ? ENUM_SIZES : ENUMFLAG_SIZES;
      if (sz.kind !== 'KEYWORD' || !allowed.has(sz.text)) this.fail(sz, 'bad enum size');
      enumtype = sz.text;
    }
    this.expectPunct('{');
    const members: EnumMember[] = [];
    while (!this.isPunct(this.peek(), '}')) {
      const m: EnumMember = { id: this.expectId().text };
      if (this.isPunct(this.peek(), '=')) {
        this.next();
        const v = this.next();
        if (v.kind !== 'NUM') this.fail(v, 'expected number');
        m.value = v.num!;
      }
      if (this.isPunct(this.peek(), '[')) {
        this.next();
        m.options = this.fieldOptions();
        this.expectPunct(']');
      }
      this.expectPunct(',');
      members.push(m);
    }
    const close = this.next();
    if (members.length === 0) this.fail(close, 'empty enum');
    this.expectPunct(';');
    return { kind, name, enumtype, members };
  }

  private service(): ServiceStmt {
    this.expectKw('service');
    this.expectPunct('{');
    const rpcs: RpcDecl[] = [];
    while (!this.isPunct(this.peek(), '}')) {
      const rpcTok = this.expectKw('rpc');
      const caller = this.expectId().text;
      this.expectKw('returns');
      const rpc: RpcDecl = { caller, reply: '', stream: false, streamMessage: null, events: [] };
      const r = this.next();
      if (this.isKw(r, 'null')) rpc.reply = 'null';
      else if (this.isKw(r, 'stream')) {
        rpc.reply = this.expectId().text;
        rpc.stream = true;
      } else if (r.kind === 'ID') {
        rpc.reply = r.text;
        if (this.isKw(this.peek(), 'events')) {
          this.next();
          do {
            rpc.events.push(this.expectId().text);
            if (this.isPunct(this.peek(), ',')) this.next();
          } while (this.peek().kind === 'ID');
        } else if (this.isKw(this.peek(), 'stream')) {
          this.next();
          rpc.stream = true;
          rpc.streamMessage = this.expectId().text;
        }
      } else this.fail(r, 'expected reply message');
      if (rpc.reply === caller) this.fail(rpcTok, `reply ID (${caller}) should not be equal to caller ID`);
      this.expectPunct(';');
      rpcs.push(rpc);
    }
    const close = this.next();
    if (rpcs.length === 0) this.fail(close, 'empty service');
    this.expectPunct(';');
    return { kind: 'service', rpcs };
  }

  private counters(): CountersStmt {
    this.expectKw('counters');
    const name = this.expectId().text;
    this.expectPunct('{');
    const elements: Record<string, string>[] = [];
    while (!this.isPunct(this.peek(), '}')) {
      const el: Record<string, string> = { name: this.expectId().text };
      this.expectPunct('{');
      while (!this.isPunct(this.peek(), '}')) {
        const k = this.next();
        if (this.isKw(k, 'severity') || this.isKw(k, 'type')) el[k.text] = this.expectId().text;
        else if (this.isKw(k, 'units') || this.isKw(k, 'description')) el[k.text] = this.expectString();
        else this.fail(k, 'expected severity, units, description or type');
        this.expectPunct(';');
      }
      this.next();
      this.expectPunct(';');
      elements.push(el);
    }
    const close = this.next();
    if (elements.length === 0) this.fail(close, 'empty counters');
    this.expectPunct(';');
    return { kind: 'counters', name, elements };
  }

  private paths(): PathsStmt {
    this.expectKw('paths');
    this.expectPunct('{');
    const list: Record<string, string>[] = [];
    while (!this.isPunct(this.peek(), '}')) {
      const path = this.expectString();
      const counter = this.expectString();
      this.expectPunct(';');
      list.push({ path, counter });
    }
    const close = this.next();
    if (list.length === 0) this.fail(close, 'empty paths');
    this.expectPunct(';');
    return { kind: 'paths', paths: list.length === 1 ? list[0]! : list };
  }
}
