/** Stable codes for handshake and key failures in the crypto layer. */
export type CryptoErrorCode = 'BAD_HANDSHAKE_LEN' | 'HANDSHAKE_AUTH_FAILED' | 'DH_DEGENERATE' | 'BAD_KEY';

export interface CryptoError {
  readonly layer: 'crypto';
  readonly code: CryptoErrorCode;
  readonly message: string;
}

export function cryptoError(code: CryptoErrorCode, message: string): CryptoError {
  return { layer: 'crypto', code, message };
}
