export * from './counter-set.js';
export * from './chanmgr.js';
