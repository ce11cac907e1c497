import type { CellError } from '../cell/errors.js';
import type { CertError } from '../cert/errors.js';
import type { CryptoError } from '../crypto/errors.js';

/** Stable codes for channel, circuit and stream protocol failures. */
export type ProtoErrorCode =
  | 'BAD_STATE'
  | 'CELL_DECODE'
  | 'NO_COMMON_VERSION'
  | 'UNEXPECTED_CELL'
  | 'CERTS_INVALID'
  | 'CHANNEL_CLOSED'
  | 'CIRCUIT_CLOSED'
  | 'CIRCUIT_HANDSHAKE_FAILED'
  | 'UNRECOGNIZED_RELAY_CELL'
  | 'WINDOW_VIOLATION'
  | 'SENDME_UNAUTHENTICATED'
  | 'RELAY_EARLY_EXHAUSTED'
  | 'TOO_MANY_CIRCUITS'
  | 'TOO_MANY_STREAMS'
  | 'STREAM_CLOSED'
  | 'BAD_ARGUMENT'
  | 'PROTOCOL_VIOLATION';

export interface ProtoError {
  readonly layer: 'proto';
  readonly code: ProtoErrorCode;
  readonly message: string;
  readonly cause?: CellError | CertError | CryptoError;
}

export function protoError(code: ProtoErrorCode, message: string, cause?: CellError | CertError | CryptoError): ProtoError {
  return cause ? { layer: 'proto', code, message, cause } : { layer: 'proto', code, message };
}
