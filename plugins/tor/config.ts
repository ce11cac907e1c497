// The `tor { … }` startup.conf stanza, and the backend words shared with `tor client enable`.

import type { TokenInput } from '../../src/control/token-input.js';
import { parseIp4 } from '../../src/net/wire/ipv4.js';
import { parseSocksAddress } from '../../src/backend/external/config.js';
import { DIRECT_ACKNOWLEDGEMENT } from '../../src/backend/direct/config.js';
import { parseIpv4Prefix, type Ipv4Prefix } from '../../src/socks/policy.js';
import { checkDirAuthorityLine } from '../../src/tor-daemon/torrc.js';

export type BackendChoice =
  | { readonly kind: 'embedded' }
  | { readonly kind: 'external'; readonly socksHost: string; readonly socksPort: number }
  | { readonly kind: 'managed'; readonly torBinary: string }
  | { readonly kind: 'direct' };

export interface TorConfig {
  enabled: boolean;
  socksPort: number;
  /** Our address the listener binds to; 0 = every address of our interfaces. */
  socksAddress: number;
  backend: BackendChoice;
  dataDir: string;
  cacheDir: string;
  maxConnections: number;
  safeLogging: boolean;
  dirAuthorities: string[];
  testNetwork: boolean;
  handshakeTimeoutMs: number;
  allowedClients: Ipv4Prefix[];
  safeSocks: boolean;
  extendedErrors: boolean;
  isolateClientAddr: boolean;
  isolateSocksAuth: boolean;
  isolateDestPort: boolean;
  isolateDestAddr: boolean;
  /** Bytes per stream ring, each direction (a power of two). */
  ringSize: number;
  /** Embedded client: negotiate congestion control (proposal 324) with exits that offer it, or never. */
  congestionControl: 'auto' | 'off';
  /** Embedded client: carry exit streams on conflux sets (proposal 329) when congestion control is on, or never. */
  conflux: 'auto' | 'off';
}

export function defaultTorConfig(): TorConfig {
  return {
    enabled: false,
    socksPort: 9050,
    socksAddress: 0,
    backend: { kind: 'embedded' },
    dataDir: '/var/lib/onionplane/tor',
    cacheDir: '/var/cache/onionplane/tor',
    maxConnections: 1024,
    safeLogging: true,
    dirAuthorities: [],
    testNetwork: false,
    handshakeTimeoutMs: 10_000,
    allowedClients: [],
    safeSocks: false,
    extendedErrors: false,
    isolateClientAddr: true,
    isolateSocksAuth: true,
    isolateDestPort: false,
    isolateDestAddr: false,
    // The download ring is also the client connection's send buffer (TCP sends from it and frees bytes when
    // ACKed), so it bounds queued + in-flight bytes per stream: 1m keeps a fast client busy.
    ringSize: 1024 * 1024,
    congestionControl: 'auto',
    conflux: 'auto',
  };
}

function onOff(input: TokenInput, what: string): boolean {
  const w = input.expectWord(`${what} (on | off)`);
  if (w === 'on') return true;
  if (w === 'off') return false;
  throw input.error(`${what}: on or off expected, got \`${w}'`);
}

/** `embedded | external <addr:port> | managed [tor-binary <path>] | direct i-understand-this-is-not-anonymous` */
export function parseBackend(input: TokenInput): BackendChoice {
  if (input.accept('embedded')) return { kind: 'embedded' };
  if (input.accept('external')) {
    const a = input.expectWord('Tor SOCKS address (addr:port)');
    const parsed = parseSocksAddress(a);
    if (!parsed) throw input.error(`backend external: bad address \`${a}' (addr:port)`);
    return { kind: 'external', ...parsed };
  }
  if (input.accept('managed')) {
    let torBinary = 'tor';
    if (input.accept('tor-binary')) torBinary = input.expectWord('path of the tor binary');
    return { kind: 'managed', torBinary };
  }
  if (input.accept('direct')) {
    if (!input.accept(DIRECT_ACKNOWLEDGEMENT)) {
      throw input.error(`backend direct is not anonymous: write \`backend direct ${DIRECT_ACKNOWLEDGEMENT}' to use it`);
    }
    return { kind: 'direct' };
  }
  throw input.error(`backend: embedded | external <addr:port> | managed [tor-binary <path>] | direct ${DIRECT_ACKNOWLEDGEMENT} expected, got \`${input.peek() ?? ''}'`);
}

/** Parses the keys a listener or the whole stanza may set; returns false for a word it does not know. */
export function parseTorKey(input: TokenInput, c: TorConfig): boolean {
  if (input.accept('enabled') || input.accept('enable')) c.enabled = true;
  else if (input.accept('disabled')) c.enabled = false;
  else if (input.accept('socks-port') || input.accept('port')) c.socksPort = input.expectInt('SOCKS port', 1, 65535);
  else if (input.accept('socks-address') || input.accept('address')) {
    const w = input.expectWord('SOCKS address');
    const a = parseIp4(w);
    if (a === undefined) throw input.error(`bad SOCKS address \`${w}'`);
    c.socksAddress = a;
  } else if (input.accept('backend')) c.backend = parseBackend(input);
  else if (input.accept('data-dir')) c.dataDir = input.expectWord('data directory');
  else if (input.accept('cache-dir')) c.cacheDir = input.expectWord('cache directory');
  else if (input.accept('max-connections')) c.maxConnections = input.expectInt('max connections', 1, 65_536);
  else if (input.accept('safe-logging')) c.safeLogging = onOff(input, 'safe-logging');
  else if (input.accept('dir-authority')) {
    const line = input.expectWord('"DirAuthority line"');
    try {
      checkDirAuthorityLine(line);
    } catch (e) {
      throw input.error((e as Error).message);
    }
    c.dirAuthorities.push(line);
  } else if (input.accept('test-network')) c.testNetwork = onOff(input, 'test-network');
  else if (input.accept('congestion-control')) {
    if (input.accept('auto')) c.congestionControl = 'auto';
    else if (input.accept('off')) c.congestionControl = 'off';
    else throw input.error('congestion-control: auto or off expected');
  }
  else if (input.accept('conflux')) {
    if (input.accept('auto')) c.conflux = 'auto';
    else if (input.accept('off')) c.conflux = 'off';
    else throw input.error('conflux: auto or off expected');
  }
  else if (input.accept('handshake-timeout')) c.handshakeTimeoutMs = input.expectInt('handshake timeout (seconds)', 1, 600) * 1000;
  else if (input.accept('allow-client')) {
    const w = input.expectWord('client prefix a.b.c.d/len');
    const p = parseIpv4Prefix(w);
    if (!p) throw input.error(`bad client prefix \`${w}'`);
    c.allowedClients.push(p);
  } else if (input.accept('safe-socks')) c.safeSocks = onOff(input, 'safe-socks');
  else if (input.accept('extended-errors')) c.extendedErrors = onOff(input, 'extended-errors');
  else if (input.accept('isolate-client-addr')) c.isolateClientAddr = onOff(input, 'isolate-client-addr');
  else if (input.accept('isolate-socks-auth')) c.isolateSocksAuth = onOff(input, 'isolate-socks-auth');
  else if (input.accept('isolate-dest-port')) c.isolateDestPort = onOff(input, 'isolate-dest-port');
  else if (input.accept('isolate-dest-addr')) c.isolateDestAddr = onOff(input, 'isolate-dest-addr');
  else if (input.accept('ring-size')) {
    const n = input.expectSize('ring size');
    if (n < 4096 || n > 16 * 1024 * 1024 || (n & (n - 1)) !== 0) throw input.error('ring-size: a power of two from 4k to 16m');
    c.ringSize = n;
  } else return false;
  return true;
}

export function parseTorSection(input: TokenInput): TorConfig {
  const c = defaultTorConfig();
  while (!input.atEnd()) {
    if (!parseTorKey(input, c)) throw input.unknown();
  }
  return c;
}
