export * from './counters.js';
export * from './stream-duplex.js';
export * from './circmgr.js';
export * from './protocols.js';
export * from './conflux-params.js';
