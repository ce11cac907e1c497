// Public surface of the backend layer: shared-memory stream rings and the backend contract.
export * from './ring.js';
export * from './doorbell.js';
export * from './ring-table.js';
export * from './interface.js';
export * from './errno-reason.js';
export * from './fd-pump.js';
export * from './detach-socket.js';
export * from './worker-host.js';
