export * from './counters.js';
export * from './schedule.js';
export * from './cache.js';
export * from './accept.js';
export * from './dirmgr.js';
export * from './refresher.js';
export * from './dir-source.js';
