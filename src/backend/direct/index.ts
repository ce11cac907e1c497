// The direct (non-anonymous) backend: config gate and the dataplane-side starter.
export * from './config.js';
export * from './host.js';
