export * from './errors.js';
export * from './flow-control.js';
export * from './channel-handshake.js';
export * from './channel.js';
export * from './circuit.js';
export * from './stream.js';
export { ipToBytes } from './addr.js';
export * from './congestion-control.js';
export * from './conflux-set.js';
