// A token stream shared by startup.conf sections and CLI commands (VPP's unformat_input_t):
// handlers take the words they recognise and report the rest as `unknown input`.

export class InputError extends Error {
  override readonly name = 'InputError';
}

export type Token = string;
export const OPEN = '{';
export const CLOSE = '}';

/**
 * Splits text into words, `{`/`}` and double-quoted strings (quotes removed, `\"` and `\\` escaped).
 * `#` starts a comment to the end of the line when `comments` is set (startup.conf).
 */
export function tokenize(text: string, comments: boolean): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      i++;
    } else if (comments && c === '#') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '{' || c === '}') {
      tokens.push(c);
      i++;
    } else if (c === '"') {
      let s = '';
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < n) i++;
        s += text[i]!;
        i++;
      }
      if (i >= n) throw new InputError(`unterminated quoted string \`"${s}'`);
      i++;
      tokens.push(s);
    } else {
      const start = i;
      while (i < n && !' \t\r\n{}"'.includes(text[i]!) && !(comments && text[i] === '#')) i++;
      tokens.push(text.slice(start, i));
    }
  }
  return tokens;
}

function quoteIfNeeded(t: string): string {
  return t === '' || /[\s"]/.test(t) ? JSON.stringify(t) : t;
}

export class TokenInput {
  private pos = 0;
  constructor(
    private readonly tokens: readonly Token[],
    /** Section or command path, for error messages. */
    readonly context = '',
  ) {}

  static fromLine(line: string, context = ''): TokenInput {
    return new TokenInput(tokenize(line, false), context);
  }

  /** Position of the next token, to come back to with `rewind`. */
  mark(): number {
    return this.pos;
  }

  rewind(mark: number): void {
    this.pos = mark;
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  /** Takes the next token if it equals `word`. */
  accept(word: string): boolean {
    if (this.tokens[this.pos] === word) {
      this.pos++;
      return true;
    }
    return false;
  }

  /** Takes the next tokens if they equal `words` in order. */
  acceptAll(...words: string[]): boolean {
    for (let i = 0; i < words.length; i++) if (this.tokens[this.pos + i] !== words[i]) return false;
    this.pos += words.length;
    return true;
  }

  /** Takes the next word (never a brace), or undefined. */
  word(): string | undefined {
    const t = this.tokens[this.pos];
    if (t === undefined || t === OPEN || t === CLOSE) return undefined;
    this.pos++;
    return t;
  }

  /** Takes the next word or throws `<what> expected`. */
  expectWord(what: string): string {
    const w = this.word();
    if (w === undefined) throw this.error(`${what} expected`);
    return w;
  }

  /** Takes a non-negative integer (decimal or 0x hex) or throws. */
  expectInt(what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const w = this.peek();
    const v = w !== undefined && /^(0x[0-9a-f]+|\d+)$/i.test(w) ? Number(w) : NaN;
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw this.error(`${what} expected (an integer from ${min} to ${max}), got \`${w ?? ''}'`);
    }
    this.pos++;
    return v;
  }

  /** Takes a size with an optional k/m/g suffix (powers of 1024), as VPP's `%U unformat_memory_size`. */
  expectSize(what: string): number {
    const w = this.peek() ?? '';
    const m = /^(\d+)([kmg]?)$/i.exec(w);
    if (!m) throw this.error(`${what} expected (a size like 64k or 1m), got \`${w}'`);
    this.pos++;
    const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
    return Number(m[1]) * mult;
  }

  /** If the next token opens a block, takes the balanced block and returns its contents as an input. */
  block(context = this.context): TokenInput | undefined {
    if (this.tokens[this.pos] !== OPEN) return undefined;
    let depth = 0;
    const start = this.pos + 1;
    for (let i = this.pos; i < this.tokens.length; i++) {
      if (this.tokens[i] === OPEN) depth++;
      else if (this.tokens[i] === CLOSE && --depth === 0) {
        this.pos = i + 1;
        return new TokenInput(this.tokens.slice(start, i), context);
      }
    }
    throw this.error('unbalanced `{\'');
  }

  /** The value of a `key value` pair: a block or one word, as an input. */
  blockOrWord(context = this.context): TokenInput | undefined {
    const b = this.block(context);
    if (b) return b;
    const w = this.word();
    return w === undefined ? undefined : new TokenInput([w], context);
  }

  /** Everything not yet taken, as the user wrote it (for error messages and pass-through). */
  rest(): string {
    return this.tokens.slice(this.pos).map(quoteIfNeeded).join(' ');
  }

  restTokens(): Token[] {
    return this.tokens.slice(this.pos);
  }

  /** Takes everything left. */
  takeRest(): Token[] {
    const r = this.tokens.slice(this.pos);
    this.pos = this.tokens.length;
    return r;
  }

  /** An error naming the context, VPP-style: ``<context>: <message>``. */
  error(message: string): InputError {
    return new InputError(this.context ? `${this.context}: ${message}` : message);
  }

  /** ``<context>: unknown input `<rest>'`` */
  unknown(): InputError {
    return this.error(`unknown input \`${this.rest()}'`);
  }

  /** Throws `unknown input` unless everything was consumed. */
  expectEnd(): void {
    if (!this.atEnd()) throw this.unknown();
  }
}
