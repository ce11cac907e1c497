import type { RejectReason } from '../netdoc/errors.js';

const RECENT_ERRORS = 16;

export type DocumentKind = 'cert' | 'consensus' | 'microdesc';

/** Where a directory document came from: a relay caching the directory, or a directory authority. */
export type DirSourceKind = 'cache' | 'authority';

/**
 * How one fetch from one source ended: `ok` (document accepted), `failed` (no usable answer: connect,
 * circuit, timeout, HTTP error, or a stale document), `rejected` (the document failed validation).
 */
export type DirFetchOutcome = 'ok' | 'failed' | 'rejected';

export type DirFetchCounterName = `fetch-${DirSourceKind}-${DirFetchOutcome}` | 'fetch-no-cache';

/**
 * Fetches by source and outcome, in the descriptor shape the runtime registers (`name`, `description`,
 * `severity`); the tor plugin shows them as `dir-<name>`.
 */
export const DIR_FETCH_COUNTERS: readonly { readonly name: DirFetchCounterName; readonly description: string; readonly severity: 'error' | 'warn' | 'info' }[] = [
  { name: 'fetch-cache-ok', description: 'directory documents fetched from directory caches', severity: 'info' },
  { name: 'fetch-cache-failed', description: 'directory fetches from caches that failed (connect, timeout, HTTP, stale)', severity: 'warn' },
  { name: 'fetch-cache-rejected', description: 'directory documents from caches rejected by validation', severity: 'error' },
  { name: 'fetch-authority-ok', description: 'directory documents fetched from authorities', severity: 'info' },
  { name: 'fetch-authority-failed', description: 'directory fetches from authorities that failed (connect, timeout, HTTP, stale)', severity: 'warn' },
  { name: 'fetch-authority-rejected', description: 'directory documents from authorities rejected by validation', severity: 'error' },
  { name: 'fetch-no-cache', description: 'directory fetches sent to authorities because no directory cache was usable', severity: 'warn' },
];

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
  readonly fetches = Object.fromEntries(DIR_FETCH_COUNTERS.map((d) => [d.name, 0])) as Record<DirFetchCounterName, number>;

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

  fetched(source: DirSourceKind, outcome: DirFetchOutcome): void {
    this.fetches[`fetch-${source}-${outcome}`]++;
  }

  noCache(): void {
    this.fetches['fetch-no-cache']++;
  }

  snapshot(): {
    rejected: Record<RejectReason, number>;
    rejectedByKind: Record<DocumentKind, number>;
    accepted: Record<DocumentKind, number>;
    fetchErrors: number;
    fetches: Record<DirFetchCounterName, number>;
  } {
    return {
      rejected: { ...this.rejected },
      rejectedByKind: { ...this.rejectedByKind },
      accepted: { ...this.accepted },
      fetchErrors: this.fetchErrors,
      fetches: { ...this.fetches },
    };
  }
}
