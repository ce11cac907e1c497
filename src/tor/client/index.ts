export * from './bootstrap-status.js';
export * from './default-authorities.js';
export * from './tor-client.js';
