// Tokenizer for VPP's .api language, matching vppapigen's lexer rules (keywords, numbers, string
// literals, /* */ and // comments as COMMENT tokens, the single-character literals).

export type TokenKind = 'ID' | 'KEYWORD' | 'NUM' | 'STRING' | 'COMMENT' | 'PUNCT' | 'FALSE' | 'EOF';

export interface Token {
  kind: TokenKind;
  /** Keyword or identifier text, punctuation char, comment text, string literal without quotes. */
  text: string;
  /** Numeric value for NUM tokens. */
  num?: number;
  line: number;
}

export const KEYWORDS = new Set([
  'service', 'rpc', 'returns', 'null', 'stream', 'events', 'define', 'typedef', 'enum', 'enumflag',
  'typeonly', 'manual_print', 'manual_endian', 'dont_trace', 'autoreply', 'autoendian', 'option',
  'u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f64', 'bool', 'string', 'import', 'true',
  'false', 'union', 'counters', 'paths', 'units', 'severity', 'type', 'description',
]);

export class ApiSyntaxError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'ApiSyntaxError';
  }
}

const PUNCT = ':{}[];=.,';

export function tokenize(src: string, file: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '\n') { line++; i++; continue; }
    const rest = src.slice(i, i + 5);
    // vppapigen tries "false" before identifiers, so it wins even as a prefix.
    if (rest === 'false') { out.push({ kind: 'FALSE', text: 'false', line }); i += 5; continue; }
    const num = /^(0[xX][0-9a-fA-F]+|-?\d+\.?\d*)/.exec(src.slice(i, i + 64));
    if (num) {
      const t = num[1]!;
      const value = t.startsWith('0x') ? parseInt(t.slice(2), 16) : t.includes('.') ? parseFloat(t) : parseInt(t, 10);
      out.push({ kind: 'NUM', text: t, num: value, line });
      i += t.length;
      continue;
    }
    if (/[a-zA-Z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[a-zA-Z_0-9]/.test(src[j]!)) j++;
      const word = src.slice(i, j);
      out.push({ kind: KEYWORDS.has(word) ? 'KEYWORD' : 'ID', text: word, line });
      i = j;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < n && src[j] !== '"') {
        if (src[j] === '\n') throw new ApiSyntaxError(file, line, 'newline in string literal');
        j += src[j] === '\\' ? 2 : 1;
      }
      if (j >= n) throw new ApiSyntaxError(file, line, 'unterminated string literal');
      // vppapigen strips every double quote from the literal text.
      out.push({ kind: 'STRING', text: src.slice(i, j + 1).replace(/"/g, ''), line });
      i = j + 1;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new ApiSyntaxError(file, line, 'unterminated comment');
      const text = src.slice(i, end + 2);
      out.push({ kind: 'COMMENT', text, line });
      line += text.split('\n').length - 1;
      i = end + 2;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      let j = src.indexOf('\n', i);
      if (j < 0) j = n;
      out.push({ kind: 'COMMENT', text: src.slice(i, j), line });
      i = j;
      continue;
    }
    if (PUNCT.includes(c)) { out.push({ kind: 'PUNCT', text: c, line }); i++; continue; }
    throw new ApiSyntaxError(file, line, `illegal character '${c}'`);
  }
  out.push({ kind: 'EOF', text: '', line });
  return out;
}
