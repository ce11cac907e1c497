// Starting the embedded Tor backend from the dataplane thread, and its handle: the StreamBackend
// contract plus status snapshots, NEWNYM and bootstrap progress.
import { Worker } from 'node:worker_threads';
import type { BackendEvent, BackendRequest, BackendWorkerData, StreamBackend } from '../../backend/interface.js';
import type { RingTable } from '../../backend/ring-table.js';
import type { BootstrapStatus } from '../client/bootstrap-status.js';
import type { TorStatus } from '../client/tor-client.js';
import { isEmbeddedEvent, type EmbeddedEvent, type EmbeddedRequest, type EmbeddedTorConfig } from './messages.js';

/** The compiled worker next to this module (dist/src/tor/worker/embedded-backend-worker.js). */
export const EMBEDDED_WORKER_URL = new URL('./embedded-backend-worker.js', import.meta.url);

export interface EmbeddedBackendOptions {
  /** eventfd the worker writes to wake the dataplane when it is parked on it. */
  readonly dataplaneEventFd?: number;
  /** Override the worker script (tests run a transpiled copy). */
  readonly workerUrl?: URL | string;
  /** Give up on a status request after this long (default 5 s). */
  readonly statusTimeoutMs?: number;
}

export class EmbeddedTorBackend implements StreamBackend {
  readonly name = 'embedded';
  private readonly worker: Worker;
  private readonly listeners: ((e: BackendEvent) => void)[] = [];
  private readonly statusWaiters = new Map<number, (s: TorStatus | undefined) => void>();
  private readonly bootstrapListeners: ((s: BootstrapStatus) => void)[] = [];
  private readonly logListeners: ((line: string) => void)[] = [];
  private readonly exited: Promise<number>;
  private running = true;
  private nextStatusId = 1;
  /** Latest bootstrap phase reported by the worker. */
  bootstrap: BootstrapStatus | undefined;

  constructor(workerUrl: URL | string, data: BackendWorkerData<EmbeddedTorConfig>, private readonly statusTimeoutMs = 5_000) {
    this.worker = new Worker(workerUrl, { workerData: data });
    this.worker.on('message', (m: unknown) => {
      if (isEmbeddedEvent(m)) this.dispatch(m);
    });
    this.worker.on('error', (err) => {
      for (const l of this.listeners) l({ type: 'fatal', message: String(err) });
    });
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.running = false;
        for (const w of this.statusWaiters.values()) w(undefined);
        this.statusWaiters.clear();
        resolve(code);
      }),
    );
  }

  send(request: BackendRequest): void {
    this.post(request);
  }

  onEvent(listener: (event: BackendEvent) => void): void {
    this.listeners.push(listener);
  }

  onBootstrap(listener: (s: BootstrapStatus) => void): void {
    this.bootstrapListeners.push(listener);
  }

  onLog(listener: (line: string) => void): void {
    this.logListeners.push(listener);
  }

  /** A status snapshot (bootstrap, consensus, guards, channels, circuits, streams, counters). */
  status(): Promise<TorStatus | undefined> {
    if (!this.running) return Promise.resolve(undefined);
    const id = this.nextStatusId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.statusWaiters.delete(id);
        resolve(undefined);
      }, this.statusTimeoutMs);
      this.statusWaiters.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.post({ type: 'status', id });
    });
  }

  newnym(): void {
    this.post({ type: 'newnym' });
  }

  /** Ask for an orderly shutdown; terminate if the worker has not exited after `graceMs`. */
  async close(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.post({ type: 'shutdown' });
    const timer = setTimeout(() => void this.worker.terminate(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private post(m: EmbeddedRequest): void {
    if (this.running) this.worker.postMessage(m);
  }

  private dispatch(m: EmbeddedEvent): void {
    switch (m.type) {
      case 'status': {
        const w = this.statusWaiters.get(m.id);
        this.statusWaiters.delete(m.id);
        w?.(m.status);
        return;
      }
      case 'bootstrap':
        this.bootstrap = m.status;
        for (const l of this.bootstrapListeners) l(m.status);
        return;
      case 'log':
        for (const l of this.logListeners) l(m.line);
        return;
      default:
        for (const l of this.listeners) l(m);
    }
  }
}

/**
 * Start the embedded Tor client in a worker thread serving `table`'s slots. It answers {type:'ready'}
 * at once (streams opened before bootstrap completes wait for it) or {type:'fatal'} for a bad config.
 */
export function startEmbeddedBackend(table: RingTable, config: EmbeddedTorConfig, options: EmbeddedBackendOptions = {}): EmbeddedTorBackend {
  return new EmbeddedTorBackend(
    options.workerUrl ?? EMBEDDED_WORKER_URL,
    { table: table.sab, config, dataplaneEventFd: options.dataplaneEventFd },
    options.statusTimeoutMs,
  );
}
