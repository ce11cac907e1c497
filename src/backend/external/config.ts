// The external backend: every stream goes through an existing Tor SOCKS port (C tor or arti),
// isolation keys carried as SOCKS credentials.

export interface ExternalBackendConfig {
  /** The Tor SOCKS port, normally on loopback. */
  readonly socksHost: string;
  readonly socksPort: number;
  /** Give up on the SOCKS handshake (including Tor's circuit build) after this long (default 120 s, as tor's SocksTimeout). */
  readonly handshakeTimeoutMs?: number | undefined;
}

export function externalConfigProblem(config: unknown): string | undefined {
  if (typeof config !== 'object' || config === null) return 'external backend: missing configuration';
  const c = config as Record<string, unknown>;
  if (typeof c['socksHost'] !== 'string' || !c['socksHost']) return 'external backend: socksHost missing';
  const p = c['socksPort'];
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) return 'external backend: socksPort must be 1..65535';
  return undefined;
}

/** `127.0.0.1:9050` → host and port (IPv6 in brackets). */
export function parseSocksAddress(text: string): { socksHost: string; socksPort: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { socksHost: m[1] ?? m[2]!, socksPort: port };
}
