// Public surface of the SOCKS engine and client codec.
export * from './address.js';
export * from './codes.js';
export * from './http-reply.js';
export * from './policy.js';
export * from './server.js';
export * from './wire.js';
export * as socks5Client from './client.js';
export * from './client-session.js';
