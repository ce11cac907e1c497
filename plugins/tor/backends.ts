// Starting the backend a `tor { backend … }` choice names, each behind the same contract: a worker
// thread, a ring table shared with it, and control messages.

import { mkdirSync } from 'node:fs';
import { startDirectBackend } from '../../src/backend/direct/host.js';
import { DIRECT_ACKNOWLEDGEMENT } from '../../src/backend/direct/config.js';
import { startExternalBackend } from '../../src/backend/external/host.js';
import type { BackendEvent, StreamBackend } from '../../src/backend/interface.js';
import { RingTable } from '../../src/backend/ring-table.js';
import type { SubsystemLogger } from '../../src/core/log.js';
import { ManagedTor, type ManagedTorStatus } from '../../src/tor-daemon/tor-process.js';
import { startEmbeddedBackend, type EmbeddedTorBackend } from '../../src/tor/worker/embedded-backend.js';
import type { BackendChoice, TorConfig } from './config.js';

export function describeBackend(b: BackendChoice): string {
  switch (b.kind) {
    case 'external':
      return `external ${b.socksHost.includes(':') ? `[${b.socksHost}]` : b.socksHost}:${b.socksPort}`;
    case 'managed':
      return `managed (${b.torBinary})`;
    default:
      return b.kind;
  }
}

export function sameBackend(a: BackendChoice, b: BackendChoice): boolean {
  return describeBackend(a) === describeBackend(b);
}

/** How long a backend worker may take to say it is ready. */
const WORKER_READY_TIMEOUT_MS = 10_000;

/** A running backend: its worker, its rings, and (managed) the tor it supervises. */
export class BackendHandle {
  readonly table: RingTable;
  backend?: StreamBackend;
  managed?: ManagedTor;
  embedded?: EmbeddedTorBackend;
  /** Set by the worker's `ready`/`fatal`. */
  state: 'starting' | 'ready' | 'failed' | 'closed' = 'starting';
  failure?: string;
  /** Streams currently using this backend. */
  streams = 0;
  /** The stream holding each ring slot, for doorbells. */
  readonly bySlot = new Map<number, { service(): void }>();
  /** Replaced by a newer backend: close when the last stream ends. */
  retiring = false;
  readonly startedAt = Date.now();

  constructor(
    readonly choice: BackendChoice,
    private readonly config: TorConfig,
    private readonly log: SubsystemLogger,
  ) {
    this.table = RingTable.create({ slots: config.maxConnections, capacity: config.ringSize });
  }

  get name(): string {
    return describeBackend(this.choice);
  }

  /** Starts the worker (and, managed, tor first) and waits for its `ready`; events go to `onEvent`. */
  async start(onEvent: (e: BackendEvent) => void): Promise<void> {
    let settle: () => void = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    await this.launch((e) => {
      if (e.type === 'ready' || e.type === 'fatal') settle();
      onEvent(e);
    });
    const timer = setTimeout(settle, WORKER_READY_TIMEOUT_MS);
    await settled;
    clearTimeout(timer);
    if (this.state === 'failed') throw new Error(`backend ${this.name}: ${this.failure}`);
  }

  private async launch(onEvent: (e: BackendEvent) => void): Promise<void> {
    const c = this.choice;
    const listen = (b: StreamBackend): void => {
      this.backend = b;
      b.onEvent((e) => {
        if (e.type === 'ready') this.state = 'ready';
        if (e.type === 'fatal') {
          this.state = 'failed';
          this.failure = e.message;
          this.log.error(`backend ${this.name}: ${e.message}`);
        }
        onEvent(e);
      });
    };
    switch (c.kind) {
      case 'direct':
        this.log.warn('backend direct: streams leave this host with no anonymity (tests and benchmarks only)');
        listen(startDirectBackend(this.table, { acknowledgement: DIRECT_ACKNOWLEDGEMENT }));
        return;
      case 'external':
        listen(startExternalBackend(this.table, { socksHost: c.socksHost, socksPort: c.socksPort }));
        return;
      case 'managed': {
        mkdirSync(this.config.dataDir, { recursive: true, mode: 0o700 });
        const tor = new ManagedTor({
          torBinary: c.torBinary,
          dataDir: this.config.dataDir,
          dirAuthorities: this.config.dirAuthorities,
          testNetwork: this.config.testNetwork,
          ownerPid: process.pid,
          log: (level, message) => this.log[level](`managed tor: ${message}`),
        });
        this.managed = tor;
        await tor.start();
        listen(startExternalBackend(this.table, { socksHost: '127.0.0.1', socksPort: tor.status.socksPort! }));
        return;
      }
      case 'embedded': {
        mkdirSync(this.config.dataDir, { recursive: true, mode: 0o700 });
        mkdirSync(this.config.cacheDir, { recursive: true, mode: 0o700 });
        const e = startEmbeddedBackend(this.table, {
          dirAuthorities: this.config.dirAuthorities.map((l) => l.replace(/^DirAuthority\s+/, '')),
          testNetwork: this.config.testNetwork,
          dataDir: this.config.dataDir,
          cacheDir: this.config.cacheDir,
          safeLogging: this.config.safeLogging,
          congestionControl: this.config.congestionControl,
          conflux: this.config.conflux,
        });
        this.embedded = e;
        e.onLog((line) => this.log.info(`embedded tor: ${line}`));
        listen(e);
        return;
      }
    }
  }

  managedStatus(): ManagedTorStatus | undefined {
    return this.managed ? { ...this.managed.status } : undefined;
  }

  /** Bootstrap progress as C tor reports it, for backends that have phases (managed, embedded). */
  bootstrap(): { percent: number; tag: string; summary: string; warning?: string | undefined } | undefined {
    const m = this.managed?.status.bootstrap;
    if (m) return { percent: m.progress, tag: m.tag, summary: m.summary, warning: m.warning };
    const e = this.embedded?.bootstrap;
    if (e) return { percent: e.percent, tag: e.tag, summary: e.summary, warning: e.warning };
    return undefined;
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.backend?.close();
    await this.managed?.stop();
  }
}
