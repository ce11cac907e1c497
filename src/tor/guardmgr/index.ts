export * from './guard-state.js';
export * from './guardmgr.js';
