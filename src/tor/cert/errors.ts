/** Stable codes for certificate parsing and CERTS-cell validation failures. */
export type CertErrorCode =
  | 'MALFORMED'
  | 'UNSUPPORTED_VERSION'
  | 'UNKNOWN_CRITICAL_EXTENSION'
  | 'WRONG_CERT_TYPE'
  | 'WRONG_KEY_TYPE'
  | 'BAD_SIGNATURE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'MISSING_CERT'
  | 'DUPLICATE_CERT'
  | 'MISSING_SIGNER'
  | 'KEY_MISMATCH'
  | 'TLS_CERT_MISMATCH'
  | 'BAD_RSA_KEY'
  | 'IDENTITY_MISMATCH';

export interface CertError {
  readonly layer: 'cert';
  readonly code: CertErrorCode;
  readonly message: string;
}

export function certError(code: CertErrorCode, message: string): CertError {
  return { layer: 'cert', code, message };
}
