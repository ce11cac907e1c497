// The telnet side of the vppctl protocol, as a pure decoder: bytes in, events out.
// vppctl (non-interactive) answers our TTYPE request with terminal type `vppctl`, then sends
// `<command>\n\0`; we answer each command with its output followed by one NUL.

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const SE = 240;
export const OPT_ECHO = 1;
export const OPT_SGA = 3;
export const OPT_TTYPE = 24;
export const OPT_NAWS = 31;
export const OPT_LINEMODE = 34;
const TTYPE_SEND = 1;
const TTYPE_IS = 0;

/** What the server sends on accept (VPP's unix_cli_file_add → telnet options). */
export const SERVER_GREETING = Uint8Array.from([
  IAC, WONT, OPT_LINEMODE,
  IAC, DONT, OPT_LINEMODE,
  IAC, WILL, OPT_SGA,
  IAC, DO, OPT_SGA,
  IAC, WILL, OPT_ECHO,
  IAC, DONT, OPT_ECHO,
  IAC, DO, OPT_TTYPE,
  IAC, SB, OPT_TTYPE, TTYPE_SEND, IAC, SE,
  IAC, DO, OPT_NAWS,
  IAC, SB, OPT_NAWS, TTYPE_SEND, IAC, SE,
]);

/** The client's answer to the TTYPE request. */
export function ttypeReply(term: string): Uint8Array {
  return Uint8Array.from([IAC, SB, OPT_TTYPE, TTYPE_IS, ...Buffer.from(term, 'latin1'), IAC, SE]);
}

export type TelnetEvent =
  | { kind: 'data'; bytes: Uint8Array }
  | { kind: 'ttype'; term: string }
  /** The server asks for our terminal type (client side). */
  | { kind: 'ttype-request' }
  | { kind: 'naws'; cols: number; rows: number }
  | { kind: 'option'; verb: number; option: number };

/** Longest subnegotiation we keep; longer ones are cut (a terminal type is a short word). */
const MAX_SB = 256;

type State = 'data' | 'iac' | 'verb' | 'sb' | 'sb-iac';

export class TelnetDecoder {
  private state: State = 'data';
  private verb = 0;
  private sb: number[] = [];

  /** Decodes a chunk; subnegotiations and commands split across chunks are carried over. */
  push(chunk: Uint8Array): TelnetEvent[] {
    const events: TelnetEvent[] = [];
    let data: number[] = [];
    const flush = (): void => {
      if (data.length) events.push({ kind: 'data', bytes: Uint8Array.from(data) });
      data = [];
    };
    for (const b of chunk) {
      switch (this.state) {
        case 'data':
          if (b === IAC) this.state = 'iac';
          else data.push(b);
          break;
        case 'iac':
          if (b === IAC) {
            data.push(IAC);
            this.state = 'data';
          } else if (b === SB) {
            this.sb = [];
            this.state = 'sb';
          } else if (b >= WILL && b <= DONT) {
            this.verb = b;
            this.state = 'verb';
          } else this.state = 'data'; // NOP, GA, etc.: nothing to do
          break;
        case 'verb':
          flush();
          events.push({ kind: 'option', verb: this.verb, option: b });
          this.state = 'data';
          break;
        case 'sb':
          if (b === IAC) this.state = 'sb-iac';
          else if (this.sb.length < MAX_SB) this.sb.push(b);
          break;
        case 'sb-iac':
          if (b === SE) {
            flush();
            const ev = this.subnegotiation();
            if (ev) events.push(ev);
            this.state = 'data';
          } else {
            if (b === IAC && this.sb.length < MAX_SB) this.sb.push(IAC);
            this.state = 'sb';
          }
          break;
      }
    }
    flush();
    return events;
  }

  private subnegotiation(): TelnetEvent | undefined {
    const [opt, ...rest] = this.sb;
    if (opt === OPT_TTYPE && rest[0] === TTYPE_SEND) return { kind: 'ttype-request' };
    if (opt === OPT_TTYPE && rest[0] === TTYPE_IS) {
      return { kind: 'ttype', term: Buffer.from(rest.slice(1)).toString('latin1') };
    }
    if (opt === OPT_NAWS && rest.length >= 4) {
      return { kind: 'naws', cols: (rest[0]! << 8) | rest[1]!, rows: (rest[2]! << 8) | rest[3]! };
    }
    return undefined;
  }
}
