import { NetDocError } from './errors.js';

/** An object block following a keyword line: `-----BEGIN LABEL-----` base64 `-----END LABEL-----`. */
export interface NetDocObject {
  readonly label: string;
  readonly body: Buffer;
}

/** One item of a directory document (dir-spec §1.2): a keyword line and an optional object. */
export interface NetDocItem {
  readonly keyword: string;
  readonly args: readonly string[];
  readonly object: NetDocObject | undefined;
  /** 1-based line number of the keyword line. */
  readonly line: number;
  /** Byte offset of the keyword line's first byte. */
  readonly start: number;
  /** Byte offset just past the item (past the keyword line's or the END line's newline). */
  readonly end: number;
  /** Byte offset just past the keyword line's newline. */
  readonly lineEnd: number;
}

export interface TokenizeLimits {
  readonly maxBytes: number;
  readonly maxLineLength: number;
  readonly maxItems: number;
  readonly maxArgs: number;
  readonly maxObjectBytes: number;
}

/** Generous for a live-network consensus (a few MB, ~50k items), tight enough to bound memory on garbage. */
export const DEFAULT_LIMITS: TokenizeLimits = {
  maxBytes: 16 * 1024 * 1024,
  maxLineLength: 64 * 1024,
  maxItems: 1_000_000,
  maxArgs: 4096,
  maxObjectBytes: 64 * 1024,
};

const KEYWORD_RE = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const OBJECT_LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9-]*( [A-Za-z0-9][A-Za-z0-9-]*)*$/;
const BASE64_LINE_RE = /^[A-Za-z0-9+/]*={0,2}$/;
// Printable ASCII and TAB; anything else (NUL, CR, other controls) is refused on keyword lines.
const BAD_CHAR_RE = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Documents are handled as latin1 strings so that a character offset equals a byte offset; signed
 * ranges and digests are then computed over the exact bytes received.
 */
export function asDocText(doc: Uint8Array | string): string {
  return typeof doc === 'string' ? doc : Buffer.from(doc.buffer, doc.byteOffset, doc.byteLength).toString('latin1');
}

/** The exact bytes of `text[start, end)`. */
export function docBytes(text: string, start: number, end: number): Buffer {
  return Buffer.from(text.slice(start, end), 'latin1');
}

/** Split a document into items. Throws NetDocError('malformed' | 'too-large') with the offending line. */
export function tokenize(doc: Uint8Array | string, limits: TokenizeLimits = DEFAULT_LIMITS): NetDocItem[] {
  const text = asDocText(doc);
  if (text.length > limits.maxBytes) {
    throw new NetDocError('too-large', `document of ${text.length} bytes exceeds ${limits.maxBytes}`);
  }
  if (text.length > 0 && !text.endsWith('\n')) {
    throw new NetDocError('malformed', 'document does not end with a newline', countLines(text));
  }
  const items: NetDocItem[] = [];
  let pos = 0;
  let lineNo = 0;
  const nextLine = (): { s: string; start: number; end: number } | undefined => {
    if (pos >= text.length) return undefined;
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    const s = text.slice(pos, nl < 0 ? text.length : nl);
    lineNo++;
    if (s.length > limits.maxLineLength) {
      throw new NetDocError('too-large', `line longer than ${limits.maxLineLength} bytes`, lineNo);
    }
    const start = pos;
    pos = end;
    return { s, start, end };
  };

  for (;;) {
    const kl = nextLine();
    if (kl === undefined) break;
    const line = lineNo;
    if (BAD_CHAR_RE.test(kl.s)) throw new NetDocError('malformed', 'control character in keyword line', line);
    const parts = kl.s.split(/[ \t]+/);
    // Leading whitespace would make an empty keyword; trailing whitespace an empty last argument.
    if (parts.length > 0 && parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
    let keyword = parts[0] ?? '';
    let args = parts.slice(1);
    if (keyword === 'opt' && args.length > 0) {
      keyword = args[0]!;
      args = args.slice(1);
    }
    if (!KEYWORD_RE.test(keyword)) throw new NetDocError('malformed', `bad keyword ${JSON.stringify(keyword.slice(0, 40))}`, line);
    if (args.length > limits.maxArgs) throw new NetDocError('too-large', `more than ${limits.maxArgs} arguments`, line);

    let object: NetDocObject | undefined;
    let end = kl.end;
    if (text.startsWith('-----BEGIN ', pos)) {
      const begin = nextLine()!;
      const m = /^-----BEGIN (.*)-----$/.exec(begin.s);
      if (!m || !OBJECT_LABEL_RE.test(m[1]!)) throw new NetDocError('malformed', 'bad object BEGIN line', lineNo);
      const label = m[1]!;
      const endMarker = `-----END ${label}-----`;
      const chunks: string[] = [];
      let size = 0;
      for (;;) {
        const bl = nextLine();
        if (bl === undefined) throw new NetDocError('malformed', `object ${label} not terminated`, lineNo);
        if (bl.s === endMarker) {
          end = bl.end;
          break;
        }
        if (bl.s.startsWith('-----')) throw new NetDocError('malformed', `object ${label} ends with a mismatched line`, lineNo);
        if (!BASE64_LINE_RE.test(bl.s)) throw new NetDocError('malformed', 'bad base64 in object', lineNo);
        size += bl.s.length;
        if (size > (limits.maxObjectBytes * 4) / 3 + 4) {
          throw new NetDocError('too-large', `object larger than ${limits.maxObjectBytes} bytes`, lineNo);
        }
        chunks.push(bl.s);
      }
      object = { label, body: Buffer.from(chunks.join(''), 'base64') };
    } else if (text.startsWith('-----', pos)) {
      throw new NetDocError('malformed', 'object line without BEGIN', lineNo + 1);
    }
    items.push({ keyword, args, object, line, start: kl.start, end, lineEnd: kl.end });
    if (items.length > limits.maxItems) throw new NetDocError('too-large', `more than ${limits.maxItems} items`, line);
  }
  return items;
}

function countLines(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
