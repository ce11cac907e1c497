// `unix { cli-listen <path> }`: the debug CLI over a unix socket speaking vppctl's protocol.
// Terminal type `vppctl` (or `onionctl`) selects line mode: no banner, prompt or echo; each
// command's output is followed by one NUL. Any other terminal gets an interactive session with
// echo, line editing and the prompt. A session that never negotiates becomes interactive after 10 s.

import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Main } from '../core/main.js';
import type { SubsystemLogger } from '../core/log.js';
import { CliError } from './command.js';
import { SERVER_GREETING, TelnetDecoder } from './telnet.js';

/** Longest command line accepted; a longer one is answered with an error and discarded. */
export const MAX_LINE_BYTES = 8192;
/** Commands a session may have waiting; beyond that the session is closed (a flood, not a user). */
export const MAX_PENDING_LINES = 256;
const NEGOTIATION_TIMEOUT_MS = 10_000;
/** Marks a failed command's output for onionctl, just before the NUL (vppctl never sees it). */
export const ERROR_MARK = 0x15;

export interface CliSocketOptions {
  path: string;
  prompt: string;
  banner: boolean;
  gid?: string;
}

export interface CliSocketStats {
  sessions: number;
  active: number;
  commands: number;
  errors: number;
  linesTooLong: number;
  floods: number;
}

function resolveGid(group: string): number {
  if (/^\d+$/.test(group)) return Number(group);
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[0] === group);
  if (!line) throw new Error(`unix: unknown group \`${group}'`);
  return Number(line.split(':')[2]);
}

/** Throws if a live server already listens on `path`; removes a stale socket file. */
async function claimSocketPath(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const live = await new Promise<boolean>((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new Error(`cli-listen: ${path} is in use by another process`);
  unlinkSync(path);
}

type Mode = 'negotiating' | 'line' | 'interactive';

class CliSession {
  private mode: Mode = 'negotiating';
  private readonly telnet = new TelnetDecoder();
  private line: number[] = [];
  private tooLong = false;
  private readonly pending: { text: string; tooLong: boolean }[] = [];
  private running = false;
  private closed = false;
  private markErrors = false;
  private readonly failsafe: NodeJS.Timeout;

  constructor(
    private readonly socket: Socket,
    private readonly main: Main,
    private readonly opts: CliSocketOptions,
    private readonly stats: CliSocketStats,
    private readonly log: SubsystemLogger,
  ) {
    socket.write(SERVER_GREETING);
    this.failsafe = setTimeout(() => this.enterInteractive(), NEGOTIATION_TIMEOUT_MS);
    this.failsafe.unref();
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stats.active--;
    clearTimeout(this.failsafe);
    this.pending.length = 0;
    this.socket.destroy();
  }

  private write(text: string): void {
    if (!this.closed) this.socket.write(text.replace(/\r?\n/g, '\r\n'));
  }

  private enterInteractive(): void {
    if (this.mode !== 'negotiating' || this.closed) return;
    this.mode = 'interactive';
    if (this.opts.banner) this.write('\n  onionplane: a Tor gateway dataplane\n\n');
    this.write(this.opts.prompt);
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.telnet.push(chunk)) {
      if (ev.kind === 'ttype') {
        clearTimeout(this.failsafe);
        if (this.mode !== 'negotiating') continue;
        if (ev.term === 'vppctl' || ev.term === 'onionctl') {
          this.mode = 'line';
          this.markErrors = ev.term === 'onionctl';
        } else this.enterInteractive();
      } else if (ev.kind === 'data') {
        for (const b of ev.bytes) this.onByte(b);
      }
    }
  }

  private onByte(b: number): void {
    if (this.closed) return;
    const interactive = this.mode === 'interactive';
    if (b === 0 || b === 0x0d) return; // vppctl ends its command with NUL; CR precedes LF
    if (b === 0x0a) {
      if (interactive) this.write('\n');
      this.submit();
      return;
    }
    if (interactive) {
      if (b === 0x7f || b === 0x08) {
        if (this.line.length) {
          this.line.pop();
          this.write('\b \b');
        }
        return;
      }
      if (b === 0x04 && this.line.length === 0) {
        this.close();
        return;
      }
      if (b === 0x03) {
        this.line = [];
        this.write(`^C\n${this.opts.prompt}`);
        return;
      }
      if (b < 0x20) return;
      this.socket.write(Uint8Array.of(b));
    }
    if (this.line.length >= MAX_LINE_BYTES) this.tooLong = true;
    else this.line.push(b);
  }

  private submit(): void {
    const text = Buffer.from(this.line).toString('utf8');
    const tooLong = this.tooLong;
    this.line = [];
    this.tooLong = false;
    if (this.pending.length >= MAX_PENDING_LINES) {
      this.stats.floods++;
      this.log.warn('cli session closed: too many commands pending');
      this.close();
      return;
    }
    this.pending.push({ text, tooLong });
    void this.runPending();
  }

  private async runPending(): Promise<void> {
    if (this.running) return;
    this.running = true;
    while (this.pending.length && !this.closed) {
      const { text, tooLong } = this.pending.shift()!;
      await this.runOne(text, tooLong);
    }
    this.running = false;
  }

  private async runOne(text: string, tooLong: boolean): Promise<void> {
    let out = '';
    let failed = false;
    let quit = false;
    if (tooLong) {
      this.stats.linesTooLong++;
      out = `command line longer than ${MAX_LINE_BYTES} bytes: discarded`;
      failed = true;
    } else if (text.trim()) {
      this.stats.commands++;
      try {
        out = await this.main.cli.execute(text, { main: this.main, origin: 'cli-socket', quit: () => (quit = true) });
      } catch (e) {
        failed = true;
        this.stats.errors++;
        out = e instanceof CliError ? e.message : `internal error: ${(e as Error).message}`;
      }
    }
    if (this.closed) return;
    if (out && !out.endsWith('\n')) out += '\n';
    this.write(out);
    if (this.mode === 'line') {
      this.socket.write(failed && this.markErrors ? Uint8Array.of(ERROR_MARK, 0) : Uint8Array.of(0));
    }
    if (quit) {
      this.socket.end();
      this.close();
      return;
    }
    if (this.mode === 'interactive') this.write(this.opts.prompt);
  }
}

export class CliSocketServer {
  readonly stats: CliSocketStats = { sessions: 0, active: 0, commands: 0, errors: 0, linesTooLong: 0, floods: 0 };
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly log: SubsystemLogger;

  constructor(
    private readonly main: Main,
    private readonly opts: CliSocketOptions,
  ) {
    this.log = main.log.child('cli');
  }

  async start(): Promise<void> {
    const gid = this.opts.gid === undefined ? undefined : resolveGid(this.opts.gid);
    mkdirSync(dirname(this.opts.path), { recursive: true });
    await claimSocketPath(this.opts.path);
    const server = createServer((socket) => {
      this.stats.sessions++;
      this.stats.active++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      new CliSession(socket, this.main, this.opts, this.stats, this.log);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    chmodSync(this.opts.path, 0o660);
    if (gid !== undefined) chownSync(this.opts.path, process.getuid?.() ?? 0, gid);
    this.log.info(`CLI listening on ${this.opts.path}`);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    if (existsSync(this.opts.path)) unlinkSync(this.opts.path);
  }
}
