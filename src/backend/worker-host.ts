// The dataplane's handle on a backend running in a worker thread: control messages by postMessage,
// the ring table handed over once in workerData.
import { Worker } from 'node:worker_threads';
import { isBackendEvent, type BackendEvent, type BackendRequest, type BackendWorkerData, type StreamBackend } from './interface.js';

export class WorkerBackend implements StreamBackend {
  private readonly worker: Worker;
  private readonly listeners: ((e: BackendEvent) => void)[] = [];
  private readonly exited: Promise<number>;
  private running = true;

  constructor(readonly name: string, workerUrl: URL | string, data: BackendWorkerData) {
    this.worker = new Worker(workerUrl, { workerData: data });
    this.worker.on('message', (m: unknown) => {
      if (isBackendEvent(m)) for (const l of this.listeners) l(m);
    });
    this.worker.on('error', (err) => {
      for (const l of this.listeners) l({ type: 'fatal', message: String(err) });
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', (code) => {
      this.running = false;
      resolve(code);
    }));
  }

  send(request: BackendRequest): void {
    if (this.running) this.worker.postMessage(request);
  }

  onEvent(listener: (event: BackendEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Ask for an orderly shutdown; terminate if the worker has not exited after `graceMs`. */
  async close(graceMs = 2000): Promise<void> {
    if (!this.running) return;
    this.send({ type: 'shutdown' });
    const timer = setTimeout(() => void this.worker.terminate(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
