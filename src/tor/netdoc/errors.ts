/** Why a directory document (or part of it) was refused. Used as counter keys by the directory manager. */
export type RejectReason =
  | 'malformed'
  | 'too-large'
  | 'bad-signature'
  | 'no-quorum'
  | 'expired'
  | 'not-yet-valid'
  | 'digest-mismatch'
  | 'wrong-identity'
  | 'unknown-authority';

/** A parse or validation failure with the 1-based line it was found on (0 when not tied to a line). */
export class NetDocError extends Error {
  readonly reason: RejectReason;
  readonly line: number;
  constructor(reason: RejectReason, message: string, line = 0) {
    super(line > 0 ? `line ${line}: ${message}` : message);
    this.name = 'NetDocError';
    this.reason = reason;
    this.line = line;
  }
}
