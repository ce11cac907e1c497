export * from './tls-channel.js';
export * from './circuit-helpers.js';
