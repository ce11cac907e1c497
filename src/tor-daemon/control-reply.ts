// Tor's control protocol (control-spec §2-4) as pure parsing: bytes of replies in, replies out.
// A reply is lines `CODE-text` (more follow), `CODE+text` then a data block ending with `.`, and
// `CODE text` (last line). Code 650 marks an asynchronous event.

export interface ControlReplyLine {
  readonly code: number;
  readonly text: string;
  /** The data block after a `+` line, with dot-unstuffing applied. */
  readonly data?: string;
}

export interface ControlReply {
  readonly code: number;
  readonly lines: readonly ControlReplyLine[];
  readonly isEvent: boolean;
}

/** Longest reply we buffer (a full circuit-status on a big client stays far below this). */
export const MAX_REPLY_BYTES = 4 * 1024 * 1024;

export class ControlProtocolError extends Error {
  override readonly name = 'ControlProtocolError';
}

export class ControlReplyParser {
  private buffer = '';
  private lines: ControlReplyLine[] = [];
  private data: { code: number; text: string; lines: string[] } | null = null;
  private pendingBytes = 0;

  /** Feeds bytes; returns every reply completed by them. Throws ControlProtocolError on malformed input. */
  push(chunk: string): ControlReply[] {
    this.buffer += chunk;
    this.pendingBytes += chunk.length;
    if (this.pendingBytes > MAX_REPLY_BYTES) throw new ControlProtocolError(`reply longer than ${MAX_REPLY_BYTES} bytes`);
    const out: ControlReply[] = [];
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      const reply = this.line(line);
      if (reply) {
        out.push(reply);
        this.pendingBytes = this.buffer.length;
      }
    }
    return out;
  }

  private line(line: string): ControlReply | undefined {
    if (this.data) {
      if (line === '.') {
        this.lines.push({ code: this.data.code, text: this.data.text, data: this.data.lines.join('\n') });
        this.data = null;
      } else this.data.lines.push(line.startsWith('.') ? line.slice(1) : line);
      return undefined;
    }
    const m = /^(\d{3})([ +-])(.*)$/.exec(line);
    if (!m) throw new ControlProtocolError(`malformed reply line \`${line.slice(0, 80)}'`);
    const code = Number(m[1]);
    const text = m[3]!;
    if (m[2] === '+') {
      this.data = { code, text, lines: [] };
      return undefined;
    }
    this.lines.push({ code, text });
    if (m[2] === '-') return undefined;
    const reply: ControlReply = { code, lines: this.lines, isEvent: code === 650 };
    this.lines = [];
    return reply;
  }
}

/** Parses `KEY=value KEY="quoted value"` arguments (control-spec QuotedString rules). */
export function parseKeywordArgs(text: string): { positional: string[]; keywords: Map<string, string> } {
  const positional: string[] = [];
  const keywords = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    if (i >= text.length) break;
    const eq = /^([A-Za-z0-9_]+)=/.exec(text.slice(i));
    if (eq) {
      i += eq[0].length;
      let value = '';
      if (text[i] === '"') {
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < text.length) i++;
          value += text[i];
          i++;
        }
        i++;
      } else {
        const end = text.indexOf(' ', i);
        value = text.slice(i, end < 0 ? undefined : end);
        i = end < 0 ? text.length : end;
      }
      keywords.set(eq[1]!, value);
    } else {
      const end = text.indexOf(' ', i);
      positional.push(text.slice(i, end < 0 ? undefined : end));
      i = end < 0 ? text.length : end;
    }
  }
  return { positional, keywords };
}

export interface BootstrapPhase {
  readonly progress: number;
  readonly tag: string;
  readonly summary: string;
  readonly warning?: string;
}

/** `NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"` → phase. */
export function parseBootstrapPhase(text: string): BootstrapPhase | undefined {
  const { keywords } = parseKeywordArgs(text);
  const progress = Number(keywords.get('PROGRESS'));
  if (!Number.isFinite(progress)) return undefined;
  const warning = keywords.get('WARNING');
  return { progress, tag: keywords.get('TAG') ?? '', summary: keywords.get('SUMMARY') ?? '', ...(warning ? { warning } : {}) };
}

export interface CircuitStatus {
  readonly id: string;
  readonly status: string;
  /** Relays as `$FINGERPRINT~nickname`, guard first. */
  readonly path: readonly { fingerprint: string; nickname?: string }[];
  readonly purpose?: string;
  readonly timeCreated?: string;
  readonly socksUsername?: string;
}

/** One line of `GETINFO circuit-status` or a `650 CIRC` event (without the `CIRC` word). */
export function parseCircuitStatus(line: string): CircuitStatus | undefined {
  const { positional, keywords } = parseKeywordArgs(line);
  const [id, status, path] = positional;
  if (!id || !status) return undefined;
  const hops = (path ?? '')
    .split(',')
    .filter((h) => h.startsWith('$'))
    .map((h) => {
      const [fp, nick] = h.slice(1).split(/[~=]/);
      return nick ? { fingerprint: fp!, nickname: nick } : { fingerprint: fp! };
    });
  const purpose = keywords.get('PURPOSE');
  const timeCreated = keywords.get('TIME_CREATED');
  const socksUsername = keywords.get('SOCKS_USERNAME');
  return {
    id,
    status,
    path: hops,
    ...(purpose ? { purpose } : {}),
    ...(timeCreated ? { timeCreated } : {}),
    ...(socksUsername ? { socksUsername } : {}),
  };
}

export interface StreamStatus {
  readonly id: string;
  readonly status: string;
  readonly circuitId: string;
  readonly target: string;
  readonly reason?: string;
  readonly sourceAddr?: string;
}

/** One line of `GETINFO stream-status` or a `650 STREAM` event (without the `STREAM` word). */
export function parseStreamStatus(line: string): StreamStatus | undefined {
  const { positional, keywords } = parseKeywordArgs(line);
  const [id, status, circuitId, target] = positional;
  if (!id || !status || circuitId === undefined || !target) return undefined;
  const reason = keywords.get('REASON');
  const sourceAddr = keywords.get('SOURCE_ADDR');
  return { id, status, circuitId, target, ...(reason ? { reason } : {}), ...(sourceAddr ? { sourceAddr } : {}) };
}

/** Values of a GETINFO reply: `key=value` lines and `key=` data blocks. */
export function getinfoValues(reply: ControlReply): Map<string, string> {
  const values = new Map<string, string>();
  for (const l of reply.lines) {
    const eq = l.text.indexOf('=');
    if (eq < 0) continue;
    values.set(l.text.slice(0, eq), l.data ?? l.text.slice(eq + 1));
  }
  return values;
}
