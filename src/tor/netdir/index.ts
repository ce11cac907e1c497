export * from './relay.js';
export * from './random.js';
export * from './weights.js';
export * from './family.js';
export * from './netdir.js';
export * from './path.js';
