// A client of the CLI socket (what onionctl and the tests use): performs the telnet negotiation as
// vppctl does, announces terminal type `onionctl` (line mode, failed commands marked), and runs
// commands one at a time, each answer ending at a NUL.

import { createConnection, type Socket } from 'node:net';
import { ERROR_MARK } from './socket-server.js';
import { TelnetDecoder, ttypeReply } from './telnet.js';

export const DEFAULT_CLI_SOCKETS = ['/run/onionplane/cli.sock', '/var/run/onionplane/cli.sock', './cli.sock'];

export interface CliResult {
  output: string;
  failed: boolean;
}

export class CliClient {
  private readonly decoder = new TelnetDecoder();
  private buffer: number[] = [];
  private waiting: { resolve: (r: CliResult) => void; reject: (e: Error) => void }[] = [];
  private ready: Promise<void>;
  private closedError?: Error;

  private constructor(
    private readonly socket: Socket,
    term: string,
  ) {
    let markReady: () => void = () => {};
    let failReady: (e: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    socket.on('data', (chunk) => {
      for (const ev of this.decoder.push(chunk)) {
        if (ev.kind === 'ttype-request') {
          socket.write(ttypeReply(term));
          markReady();
        } else if (ev.kind === 'data') this.onData(ev.bytes);
      }
    });
    const fail = (e: Error): void => {
      this.closedError = e;
      failReady(e);
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('CLI connection closed')));
  }

  static async connect(path: string, term = 'onionctl'): Promise<CliClient> {
    const socket = createConnection(path);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new CliClient(socket, term);
    await client.ready;
    return client;
  }

  private onData(bytes: Uint8Array): void {
    for (const b of bytes) {
      if (b !== 0) {
        this.buffer.push(b);
        continue;
      }
      let failed = false;
      if (this.buffer[this.buffer.length - 1] === ERROR_MARK) {
        failed = true;
        this.buffer.pop();
      }
      const output = Buffer.from(this.buffer).toString('utf8').replace(/\r\n/g, '\n');
      this.buffer = [];
      this.waiting.shift()?.resolve({ output, failed });
    }
  }

  /** Runs one command; resolves with its output once the server's NUL arrives. */
  run(command: string): Promise<CliResult> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.socket.write(`${command}\n\0`);
    });
  }

  close(): void {
    this.socket.end('quit\n');
    this.socket.destroy();
  }
}
