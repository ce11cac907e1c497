// Main-thread entry points of the embedded backend (the worker script itself is not re-exported).
export * from './messages.js';
export * from './ring-stream-pump.js';
export * from './embedded-backend.js';
export * from './resolve-answer.js';
