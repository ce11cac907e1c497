// Supervises a tor onionplane manages: writes its torrc, starts it, connects to its control port
// with cookie authentication, reports bootstrap progress, restarts it (with backoff) if it dies,
// and stops it on shutdown. Only the process it started is ever signalled, by PID.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { TorControlClient } from './control-client.js';
import { parseBootstrapPhase, parseStreamStatus, type BootstrapPhase } from './control-reply.js';
import { managedTorFiles, renderTorrc, type ManagedTorConfig } from './torrc.js';

export type ManagedTorState = 'stopped' | 'starting' | 'bootstrapping' | 'running' | 'restarting' | 'failed';

export interface ManagedTorStatus {
  state: ManagedTorState;
  pid?: number;
  socksPort?: number;
  controlPort?: number;
  bootstrap?: BootstrapPhase;
  torVersion?: string;
  restarts: number;
  lastError?: string;
}

export interface ManagedTorOptions extends ManagedTorConfig {
  readonly torBinary: string;
  readonly onStatus?: (status: ManagedTorStatus) => void;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

const STARTUP_TIMEOUT_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;
/** Streams whose circuit we remember at once. */
const MAX_TRACKED_STREAMS = 65_536;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class ManagedTor {
  readonly status: ManagedTorStatus = { state: 'stopped', restarts: 0 };
  private child?: ChildProcess;
  private control?: TorControlClient;
  private stopping = false;
  private backoffMs = 1000;
  private readonly files;

  constructor(private readonly opts: ManagedTorOptions) {
    this.files = managedTorFiles(opts.dataDir);
  }

  private update(patch: Partial<ManagedTorStatus>): void {
    Object.assign(this.status, patch);
    this.opts.onStatus?.({ ...this.status });
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.opts.log?.(level, message);
  }

  /** Starts tor and resolves once its control port is authenticated (bootstrap goes on after). */
  async start(): Promise<void> {
    this.stopping = false;
    await this.launch();
  }

  private async launch(): Promise<void> {
    mkdirSync(this.files.torDataDir, { recursive: true, mode: 0o700 });
    writeFileSync(this.files.torrc, renderTorrc(this.opts));
    rmSync(this.files.controlPortFile, { force: true });
    this.update({ state: 'starting', lastError: undefined as unknown as string });
    const child = spawn(this.opts.torBinary, ['-f', this.files.torrc, '--ignore-missing-torrc', '--defaults-torrc', '/dev/null'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (e) => resolve(e));
    });
    if (spawned) {
      this.update({ state: 'failed', lastError: `cannot start ${this.opts.torBinary}: ${spawned.message}` });
      throw new Error(this.status.lastError);
    }
    this.update({ pid: child.pid! });
    child.once('exit', (code, signal) => this.onExit(child, code, signal, stderr));

    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (!existsSync(this.files.controlPortFile)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`tor exited during startup: ${stderr.trim()}`);
      if (Date.now() > deadline) throw new Error('tor did not open its control port in time');
      await sleep(100);
    }
    const m = /PORT=([\d.]+):(\d+)/.exec(readFileSync(this.files.controlPortFile, 'utf8'));
    if (!m) throw new Error('tor wrote an unreadable control-port file');
    const controlPort = Number(m[2]);
    const control = await TorControlClient.connect(m[1]!, controlPort);
    this.control = control;
    const { torVersion } = await control.authenticateWithCookie(this.files.cookieFile);
    const listeners = await control.getinfo('net/listeners/socks');
    const socks = /:(\d+)"?$/.exec(listeners.get('net/listeners/socks') ?? '');
    if (!socks) throw new Error('tor reports no SOCKS listener');
    // TAKEOWNERSHIP: tor exits when this control connection closes, even if our PID check is slow.
    await control.command('TAKEOWNERSHIP');
    this.update({ controlPort, socksPort: Number(socks[1]), ...(torVersion ? { torVersion } : {}), state: 'bootstrapping' });
    control.onEvent((ev) => {
      const text = ev.lines[0]?.text ?? '';
      if (text.startsWith('STATUS_CLIENT') && text.includes('BOOTSTRAP')) this.onBootstrap(text);
      else if (text.startsWith('STREAM ')) this.onStreamEvent(text.slice(7));
    });
    await control.setEvents(['STATUS_CLIENT', 'STREAM']);
    const phase = (await control.getinfo('status/bootstrap-phase')).get('status/bootstrap-phase');
    if (phase) this.onBootstrap(phase);
    this.log('info', `tor ${torVersion ?? ''} started, pid ${child.pid}, SOCKS 127.0.0.1:${this.status.socksPort}`);
  }

  /**
   * Circuit of each SOCKS connection, by its source port, from STREAM events: tor names the source
   * address only in NEW events and the circuit only in later ones, so both are keyed by stream id.
   */
  private readonly sourcePortByStream = new Map<string, number>();
  private readonly circuitBySourcePort = new Map<number, string>();

  private onStreamEvent(text: string): void {
    const s = parseStreamStatus(text);
    if (!s) return;
    const port = Number(/:(\d+)$/.exec(s.sourceAddr ?? '')?.[1]);
    if (Number.isInteger(port)) {
      if (this.sourcePortByStream.size >= MAX_TRACKED_STREAMS) this.sourcePortByStream.delete(this.sourcePortByStream.keys().next().value!);
      this.sourcePortByStream.set(s.id, port);
    }
    const source = this.sourcePortByStream.get(s.id);
    if (source === undefined) return;
    if (s.status === 'CLOSED' || s.status === 'FAILED') {
      this.sourcePortByStream.delete(s.id);
      this.circuitBySourcePort.delete(source);
    } else if (s.circuitId !== '0') {
      if (this.circuitBySourcePort.size >= MAX_TRACKED_STREAMS) this.circuitBySourcePort.delete(this.circuitBySourcePort.keys().next().value!);
      this.circuitBySourcePort.set(source, s.circuitId);
    }
  }

  /** The circuit tor attached the SOCKS connection from `sourcePort` to, if known. */
  circuitOf(sourcePort: number): string | undefined {
    return this.circuitBySourcePort.get(sourcePort);
  }

  private onBootstrap(text: string): void {
    const phase = parseBootstrapPhase(text);
    if (!phase) return;
    const done = phase.progress >= 100;
    if (done && this.status.state !== 'running') {
      this.backoffMs = 1000;
      this.log('info', 'tor bootstrapped 100%');
    }
    this.update({ bootstrap: phase, state: done ? 'running' : 'bootstrapping' });
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, stderr: string): void {
    if (child !== this.child) return;
    this.control?.close();
    this.control = undefined;
    this.child = undefined;
    if (this.stopping) {
      this.update({ state: 'stopped', pid: undefined as unknown as number });
      return;
    }
    const why = `tor exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`;
    this.scheduleRestart(why);
  }

  private scheduleRestart(why: string): void {
    this.log('warn', `${why}; restarting in ${this.backoffMs} ms`);
    this.update({ state: 'restarting', lastError: why, restarts: this.status.restarts + 1 });
    const delay = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    setTimeout(() => {
      if (this.stopping) return;
      this.launch().catch((e: Error) => {
        // A tor that started but failed later reports its exit itself; otherwise try again.
        if (!this.child) this.scheduleRestart(`tor restart failed: ${e.message}`);
        else this.log('error', `tor restart failed: ${e.message}`);
      });
    }, delay).unref();
  }

  /** Waits until bootstrap reaches 100% (or throws after `timeoutMs`). */
  async waitBootstrapped(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.status.state !== 'running') {
      if (this.status.state === 'failed') throw new Error(this.status.lastError ?? 'tor failed');
      if (Date.now() > deadline) {
        const b = this.status.bootstrap;
        throw new Error(`tor did not bootstrap in ${timeoutMs} ms (at ${b?.progress ?? 0}%: ${b?.summary ?? 'starting'})`);
      }
      await sleep(200);
    }
  }

  /** The authenticated control connection, for status queries and NEWNYM. */
  get controlClient(): TorControlClient | undefined {
    return this.control;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null) {
      this.update({ state: 'stopped' });
      return;
    }
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
