// Starting the direct backend from the dataplane thread.
import { WorkerBackend } from '../worker-host.js';
import type { RingTable } from '../ring-table.js';
import type { DirectBackendConfig } from './config.js';

/** The compiled worker next to this module (dist/src/backend/direct/worker.js). */
export const DIRECT_WORKER_URL = new URL('./worker.js', import.meta.url);

export interface DirectBackendOptions {
  /** eventfd the worker writes to wake the dataplane when it is parked on it. */
  readonly dataplaneEventFd?: number;
  /** Override the worker script (tests run a transpiled copy). */
  readonly workerUrl?: URL | string;
}

/**
 * Starts the worker. It answers {type:'ready'} or, when the config lacks the acknowledgement,
 * {type:'fatal'} and exits.
 */
export function startDirectBackend(table: RingTable, config: DirectBackendConfig, options: DirectBackendOptions = {}): WorkerBackend {
  return new WorkerBackend('direct', options.workerUrl ?? DIRECT_WORKER_URL, {
    table: table.sab,
    config,
    dataplaneEventFd: options.dataplaneEventFd,
  });
}
