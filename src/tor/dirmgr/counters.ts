import type { RejectReason } from '../netdoc/errors.js';

export type DocumentKind = 'cert' | 'consensus' | 'microdesc';

/** Per-reason counts of refused documents and failed fetches; never reset, read by CLI/metrics. */
export class DirCounters {
  readonly rejected: Record<RejectReason, number> = {
    malformed: 0,
    'too-large': 0,
    'bad-signature': 0,
    'no-quorum': 0,
    expired: 0,
    'not-yet-valid': 0,
    'digest-mismatch': 0,
    'wrong-identity': 0,
    'unknown-authority': 0,
  };
  readonly rejectedByKind: Record<DocumentKind, number> = { cert: 0, consensus: 0, microdesc: 0 };
  fetchErrors = 0;
  accepted: Record<DocumentKind, number> = { cert: 0, consensus: 0, microdesc: 0 };

  reject(kind: DocumentKind, reason: RejectReason, n = 1): void {
    this.rejected[reason] += n;
    this.rejectedByKind[kind] += n;
  }

  accept(kind: DocumentKind, n = 1): void {
    this.accepted[kind] += n;
  }

  snapshot(): { rejected: Record<RejectReason, number>; rejectedByKind: Record<DocumentKind, number>; accepted: Record<DocumentKind, number>; fetchErrors: number } {
    return { rejected: { ...this.rejected }, rejectedByKind: { ...this.rejectedByKind }, accepted: { ...this.accepted }, fetchErrors: this.fetchErrors };
  }
}
