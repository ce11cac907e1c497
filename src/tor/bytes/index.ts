export { Reader } from './reader.js';
export { Writer } from './writer.js';
export { BytesError, type BytesErrorCode } from './errors.js';
export { hexToBytes, bytesToHex, bytesEqual, concatBytes, constantTimeEqual } from './util.js';
export { ok, err, type Result } from './result.js';
