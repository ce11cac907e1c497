// The dataplane's handle on a backend running in a worker thread: the ring table and a control buffer
// handed over once in workerData; control messages go through the control rings (control-ring.ts).
import { Worker } from 'node:worker_threads';
import { decodeEvent, encodeRequest } from './control-codec.js';
import { ControlChannel, createControlBuffer } from './control-ring.js';
import { isBackendEvent, type BackendEvent, type BackendRequest, type BackendWorkerData, type StreamBackend } from './interface.js';

export class WorkerBackend implements StreamBackend {
  private readonly worker: Worker;
  private readonly listeners: ((e: BackendEvent) => void)[] = [];
  private readonly exited: Promise<number>;
  private readonly control: ControlChannel<BackendRequest, BackendEvent>;
  private running = true;

  constructor(readonly name: string, workerUrl: URL | string, data: BackendWorkerData) {
    const control = createControlBuffer();
    this.control = new ControlChannel(control, 'dataplane', encodeRequest, decodeEvent);
    this.worker = new Worker(workerUrl, { workerData: { ...data, control } satisfies BackendWorkerData });
    const emit = (e: BackendEvent): void => {
      for (const l of this.listeners) l(e);
    };
    void this.control.run(emit);
    // Nothing but a worker crash (and its last words, should it post them) arrives by message.
    this.worker.on('message', (m: unknown) => {
      if (isBackendEvent(m)) emit(m);
    });
    this.worker.on('error', (err) => emit({ type: 'fatal', message: String(err) }));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.running = false;
        this.control.drain(emit); // what it said before exiting
        this.control.stop();
        resolve(code);
      }),
    );
  }

  send(request: BackendRequest): void {
    if (this.running) this.control.send(request);
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
