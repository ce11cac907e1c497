import type { RejectReason } from '../netdoc/errors.js';

const RECENT_ERRORS = 16;

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
  /** The last few fetch failures (server nickname, request kind, error), oldest first. */
  readonly recentFetchErrors: string[] = [];
  accepted: Record<DocumentKind, number> = { cert: 0, consensus: 0, microdesc: 0 };

  reject(kind: DocumentKind, reason: RejectReason, n = 1): void {
    this.rejected[reason] += n;
    this.rejectedByKind[kind] += n;
  }

  fetchFailed(description: string): void {
    this.fetchErrors++;
    this.recentFetchErrors.push(description);
    if (this.recentFetchErrors.length > RECENT_ERRORS) this.recentFetchErrors.shift();
  }

  accept(kind: DocumentKind, n = 1): void {
    this.accepted[kind] += n;
  }

  snapshot(): { rejected: Record<RejectReason, number>; rejectedByKind: Record<DocumentKind, number>; accepted: Record<DocumentKind, number>; fetchErrors: number } {
    return { rejected: { ...this.rejected }, rejectedByKind: { ...this.rejectedByKind }, accepted: { ...this.accepted }, fetchErrors: this.fetchErrors };
  }
}
