// The direct backend sends streams straight from this host: no Tor, no anonymity. It starts only when
// its configuration says, in these exact words, that the operator knows that.

export const DIRECT_ACKNOWLEDGEMENT = 'i-understand-this-is-not-anonymous';

export interface DirectBackendConfig {
  /** Must equal DIRECT_ACKNOWLEDGEMENT. */
  readonly acknowledgement?: string | undefined;
  /** Give up on a TCP connect after this long (default 10 s). */
  readonly connectTimeoutMs?: number | undefined;
}

/** Why this config cannot run, or undefined when it can. */
export function directConfigProblem(config: unknown): string | undefined {
  if (typeof config !== 'object' || config === null) return 'direct backend: missing configuration';
  const c = config as Record<string, unknown>;
  if (c['acknowledgement'] !== DIRECT_ACKNOWLEDGEMENT) {
    return `direct backend refuses to start: it is not anonymous; set acknowledgement "${DIRECT_ACKNOWLEDGEMENT}" to use it`;
  }
  const t = c['connectTimeoutMs'];
  if (t !== undefined && (typeof t !== 'number' || !(t > 0))) return 'direct backend: connectTimeoutMs must be a positive number';
  return undefined;
}
