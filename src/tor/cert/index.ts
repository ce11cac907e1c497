export * from './errors.js';
export * from './ed25519-cert.js';
export * from './rsa-identity.js';
export * from './rsa-crosscert.js';
export * from './certs-validation.js';
