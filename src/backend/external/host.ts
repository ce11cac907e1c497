// Starting the external backend from the dataplane thread.

import type { RingTable } from '../ring-table.js';
import { WorkerBackend } from '../worker-host.js';
import type { ExternalBackendConfig } from './config.js';

export const EXTERNAL_WORKER_URL = new URL('./worker.js', import.meta.url);

export function startExternalBackend(
  table: RingTable,
  config: ExternalBackendConfig,
  options: { dataplaneEventFd?: number; workerUrl?: URL | string } = {},
): WorkerBackend {
  return new WorkerBackend('external', options.workerUrl ?? EXTERNAL_WORKER_URL, {
    table: table.sab,
    config,
    dataplaneEventFd: options.dataplaneEventFd,
  });
}
