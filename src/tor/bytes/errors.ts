/** Typed failures of the byte reader/writer. Codecs above catch these and return them as values. */
export type BytesErrorCode = 'TRUNCATED' | 'EXTRA_BYTES' | 'CAPACITY_EXCEEDED' | 'BAD_VALUE';

export class BytesError extends Error {
  readonly code: BytesErrorCode;
  constructor(code: BytesErrorCode, message: string) {
    super(message);
    this.name = 'BytesError';
    this.code = code;
  }
}
