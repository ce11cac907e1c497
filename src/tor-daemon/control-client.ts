// A control-port client: cookie authentication, commands answered in order, events to listeners.

import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import {
  ControlProtocolError,
  ControlReplyParser,
  getinfoValues,
  parseKeywordArgs,
  type ControlReply,
} from './control-reply.js';

export class ControlCommandError extends Error {
  constructor(
    readonly command: string,
    readonly code: number,
    readonly text: string,
  ) {
    super(`${command.split(' ')[0]}: ${code} ${text}`);
  }
}

/** Commands we may have in flight at once; tor answers in order. */
const MAX_IN_FLIGHT = 64;

export class TorControlClient {
  private readonly parser = new ControlReplyParser();
  private readonly waiting: { command: string; resolve: (r: ControlReply) => void; reject: (e: Error) => void }[] = [];
  private readonly listeners = new Set<(event: ControlReply) => void>();
  private closedError?: Error;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      let replies: ControlReply[];
      try {
        replies = this.parser.push(chunk);
      } catch (e) {
        this.fail(e as Error);
        return;
      }
      for (const r of replies) {
        if (r.isEvent) for (const l of this.listeners) l(r);
        else this.waiting.shift()?.resolve(r);
      }
    });
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('control connection closed')));
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    for (const w of this.waiting.splice(0)) w.reject(e);
    this.socket.destroy();
  }

  static async connect(host: string, port: number): Promise<TorControlClient> {
    const socket = createConnection({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new TorControlClient(socket);
  }

  /** Sends a command line and resolves with the reply; rejects on a non-2xx code. */
  command(line: string): Promise<ControlReply> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (/[\r\n]/.test(line)) return Promise.reject(new ControlProtocolError('command contains a line break'));
    if (this.waiting.length >= MAX_IN_FLIGHT) return Promise.reject(new ControlProtocolError('too many commands in flight'));
    return new Promise<ControlReply>((resolve, reject) => {
      this.waiting.push({
        command: line,
        resolve: (r) => {
          if (r.code >= 200 && r.code < 300) resolve(r);
          else reject(new ControlCommandError(line, r.code, r.lines.map((l) => l.text).join(' ')));
        },
        reject,
      });
      this.socket.write(`${line}\r\n`);
    });
  }

  /** PROTOCOLINFO, then AUTHENTICATE with the cookie file tor names (or the one given). */
  async authenticateWithCookie(cookieFile?: string): Promise<{ torVersion?: string }> {
    const info = await this.command('PROTOCOLINFO 1');
    let file = cookieFile;
    let torVersion: string | undefined;
    for (const l of info.lines) {
      const { positional, keywords } = parseKeywordArgs(l.text);
      if (positional[0] === 'AUTH') {
        const methods = (keywords.get('METHODS') ?? '').split(',');
        if (!methods.includes('COOKIE') && !methods.includes('SAFECOOKIE') && !methods.includes('NULL')) {
          throw new ControlProtocolError(`tor offers no cookie authentication (methods ${methods.join(',')})`);
        }
        file ??= keywords.get('COOKIEFILE');
      } else if (positional[0] === 'VERSION') torVersion = keywords.get('Tor');
    }
    if (!file) throw new ControlProtocolError('tor named no cookie file');
    const cookie = readFileSync(file);
    await this.command(`AUTHENTICATE ${cookie.toString('hex')}`);
    return torVersion ? { torVersion } : {};
  }

  async getinfo(...keys: string[]): Promise<Map<string, string>> {
    return getinfoValues(await this.command(`GETINFO ${keys.join(' ')}`));
  }

  async setEvents(events: string[]): Promise<void> {
    await this.command(`SETEVENTS ${events.join(' ')}`);
  }

  onEvent(listener: (event: ControlReply) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.fail(new Error('control connection closed'));
  }
}
