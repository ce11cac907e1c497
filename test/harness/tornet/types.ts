// Shapes shared by the private-network harness, its CLI and tests that attach to a running network.

import type { DnsRecords } from './dns-zone.js';

export type TorRole = 'authority' | 'relay' | 'exit' | 'onion-service' | 'client';

export interface TorNetOptions {
  /** Directory authorities (default 3). */
  authorities?: number;
  /** Non-exit relays (default 3). */
  relays?: number;
  /** Exit relays whose policy accepts 127.0.0.0/8 (default 2). */
  exits?: number;
  /** true: serve a harness-owned origin server; { targetPort }: serve that local port. Virtual port is 80. */
  onionService?: { targetPort: number } | boolean;
  /** A C tor client with a SocksPort (default true). */
  referenceClient?: boolean;
  /** Extra `key=value` consensus parameters voted by every authority, e.g. `sendme_accept_min_version=1`. */
  consensusParams?: string[];
  /** Parent directory for the network's temporary root (default os.tmpdir()). */
  rootDir?: string;
  /** Progress lines (default: silent). */
  log?: (line: string) => void;
  /** Give up (and tear down) after this long (default 150 s). */
  timeoutMs?: number;
  /** Seconds between consensuses once running (default 10; the first one comes after ~5 s). */
  votingIntervalSeconds?: number;
  /** How many voting intervals a consensus stays valid (default 3, tor's minimum is 2). */
  consensusIntervalsValid?: number;
  /**
   * Daemons exit on their own when this process dies (tor's __OwningControllerProcess), so a crashed test
   * leaves nothing running. Default true; the CLI turns it off for a network that outlives it.
   */
  ownedByThisProcess?: boolean;
  /**
   * The network's own authoritative DNS server, which the exits use for every name clients ask them to
   * resolve (the machine may be offline). Default: zone `tornet.test` with `origin.tornet.test` →
   * 127.0.0.1; other names are NXDOMAIN. `false`: exits keep the system resolver. Only with exits > 0.
   */
  dns?: false | { zone?: string; records?: DnsRecords };
}

/** The network's DNS server, as the exits see it. */
export interface TorNetDns {
  host: string;
  /** UDP and TCP. */
  port: number;
  zone: string;
  records: DnsRecords;
  /** The resolv.conf given to the exits (ServerDNSResolvConfFile). */
  resolvConfFile: string;
  /** A detached network's DNS server runs as its own process, named by its zone file. */
  pid?: number;
  zoneFile?: string;
}

export interface TorNode {
  role: TorRole;
  nickname: string;
  pid: number;
  dataDir: string;
  orPort?: number;
  dirPort?: number;
  socksPort?: number;
  /** 40 upper-case hex digits: SHA-1 of the relay's RSA identity key. */
  rsaFingerprint?: string;
  /** base64 without '=' padding, as tor writes it in fingerprint-ed25519. */
  ed25519Id?: string;
  /** Authorities: 40 hex digits, fingerprint of authority_certificate's identity key. */
  v3ident?: string;
  /** The daemon's stdout/notice log. */
  logFile: string;
  torrcFile: string;
}

/** Everything about a running network that can be written to JSON. */
export interface TorNetDescription {
  root: string;
  dirAuthorityLines: string[];
  authorities: TorNode[];
  /** Relays and exits (exits have role 'exit'). */
  relays: TorNode[];
  onionService?: TorNode;
  client?: TorNode;
  socksPort?: number;
  onionAddress?: string;
  onionVirtualPort?: number;
  onionServiceTarget?: number;
  /** Present when the harness runs a DNS server for the exits. */
  dns?: TorNetDns;
  consensusParams: string[];
  votingIntervalSeconds: number;
  /** Milliseconds from start to usable. */
  bringUpMs: number;
  startedAt: string;
}

export interface TorNet extends TorNetDescription {
  /** Stops every daemon by PID and removes the root directory. Idempotent. */
  stop(): Promise<void>;
  /** The last `lines` lines (default 20) of each daemon's log, headed by nickname. */
  logTails(lines?: number): string;
  /**
   * The questions the network's DNS server was asked (newest last, at most 256), when this process runs
   * it; undefined for a network without one or served from another process.
   */
  dnsQueries(): readonly { name: string; type: number; asSent: string }[] | undefined;
  /** True while every daemon still runs. */
  running(): boolean;
  /** The JSON-safe part, for a state file. */
  describe(): TorNetDescription;
}
