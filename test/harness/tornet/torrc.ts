// torrc text for each role of the private network. Pure: no files, no processes.
// Knobs follow chutney (tor-client-guide §7): TestingTorNetwork everywhere, fast voting on the authorities,
// every relay voted Guard/Exit/HSDir, all daemons bound to 127.0.0.1 only.

import type { TorRole } from './types.js';

export interface VotingSchedule {
  /** Seconds between the first consensuses (tor's floor with TestingTorNetwork is 5 when delays are 2). */
  initialInterval: number;
  /** Seconds between later consensuses (>= 2 × (voteDelay + distDelay) + 1). */
  interval: number;
  voteDelay: number;
  distDelay: number;
  /** Intervals a consensus stays valid (>= 2). */
  intervalsValid: number;
}

export function votingSchedule(intervalSeconds = 10, intervalsValid = 3): VotingSchedule {
  if (!Number.isInteger(intervalSeconds) || intervalSeconds < 10) {
    throw new RangeError(`voting interval must be an integer >= 10 s (tor needs vote+dist delay < interval/2): ${intervalSeconds}`);
  }
  if (!Number.isInteger(intervalsValid) || intervalsValid < 2) {
    throw new RangeError(`consensus intervals valid must be an integer >= 2: ${intervalsValid}`);
  }
  return { initialInterval: 5, interval: intervalSeconds, voteDelay: 2, distDelay: 2, intervalsValid };
}

export interface TorrcInput {
  role: TorRole;
  nickname: string;
  dataDir: string;
  dirAuthorityLines: string[];
  schedule: VotingSchedule;
  /** Relays and authorities. */
  orPort?: number;
  /** Authorities. */
  dirPort?: number;
  /** Client. */
  socksPort?: number;
  /** Authorities: `key=value` pairs for the consensus `params` line. */
  consensusParams?: string[];
  /** Onion-service host. */
  onionService?: { dir: string; virtualPort: number; targetPort: number };
  /** Also write info-level logs to <dataDir>/info.log (debugging). */
  infoLog?: boolean;
  /** An empty file, used in place of the GeoIP databases. */
  emptyFile?: string;
  /** tor exits by itself when this PID goes away. */
  owningPid?: number;
  /** Exits: a resolv.conf naming the harness's DNS server (the machine may have no other). */
  dnsResolvConf?: string;
}

const PARAM = /^[A-Za-z0-9_-]{1,64}=-?\d{1,10}$/;

/** Validates consensus parameters; tor would otherwise reject the authority's torrc at startup. */
export function checkConsensusParams(params: readonly string[]): string[] {
  for (const p of params) {
    if (!PARAM.test(p)) throw new RangeError(`consensus parameter must look like name=integer: "${p}"`);
  }
  return [...params];
}

const LOOPBACK = '127.0.0.1';

function required<T>(value: T | undefined, what: string, role: TorRole): T {
  if (value === undefined) throw new TypeError(`${role} torrc needs ${what}`);
  return value;
}

function commonLines(input: TorrcInput): string[] {
  const lines = [
    'TestingTorNetwork 1',
    `Nickname ${input.nickname}`,
    `DataDirectory ${input.dataDir}`,
    'RunAsDaemon 0',
    // stdout is redirected to the node's log file by the harness, so config errors land there too.
    'Log notice stdout',
    'SafeLogging 0',
    'LogTimeGranularity 1',
    'ProtocolWarnings 1',
    'DisableDebuggerAttachment 0',
    'ShutdownWaitLength 0',
    'ControlPort 0',
    `PathsNeededToBuildCircuits 0.25`,
    'TestingDirAuthVoteExit *',
    'TestingDirAuthVoteGuard *',
    'TestingDirAuthVoteHSDir *',
    'TestingMinExitFlagThreshold 0',
    `V3AuthNIntervalsValid ${input.schedule.intervalsValid}`,
    ...input.dirAuthorityLines,
  ];
  if (input.infoLog) lines.push(`Log info file ${input.dataDir}/info.log`);
  if (input.emptyFile !== undefined) {
    // Parsing tor's GeoIP databases costs ~1 s of CPU per daemon and nothing here needs countries.
    lines.push(`GeoIPFile ${input.emptyFile}`, `GeoIPv6File ${input.emptyFile}`);
  }
  if (input.owningPid !== undefined) lines.push(`__OwningControllerProcess ${input.owningPid}`);
  return lines;
}

function relayLines(input: TorrcInput): string[] {
  const orPort = required(input.orPort, 'orPort', input.role);
  return [
    `Address ${LOOPBACK}`,
    `ORPort ${LOOPBACK}:${orPort} IPv4Only`,
    'SocksPort 0',
    'AssumeReachable 1',
    `ContactInfo ${input.nickname}@onionplane.test`,
  ];
}

function authorityLines(input: TorrcInput): string[] {
  const dirPort = required(input.dirPort, 'dirPort', input.role);
  const s = input.schedule;
  const lines = [
    ...relayLines(input),
    `DirPort ${LOOPBACK}:${dirPort}`,
    'AuthoritativeDirectory 1',
    'V3AuthoritativeDirectory 1',
    // Every relay shares 127.0.0.1; the default (2 per address) would leave most of them unlisted.
    'AuthDirMaxServersPerAddr 0',
    'TestingAuthDirTimeToLearnReachability 0',
    `TestingV3AuthInitialVotingInterval ${s.initialInterval}`,
    `TestingV3AuthInitialVoteDelay ${s.voteDelay}`,
    `TestingV3AuthInitialDistDelay ${s.distDelay}`,
    `V3AuthVotingInterval ${s.interval}`,
    `V3AuthVoteDelay ${s.voteDelay}`,
    `V3AuthDistDelay ${s.distDelay}`,
    'ExitRelay 0',
    'ExitPolicy reject *:*',
  ];
  const params = checkConsensusParams(input.consensusParams ?? []);
  if (params.length > 0) lines.push(`ConsensusParams ${params.join(' ')}`);
  return lines;
}

function clientLines(socksPort: number | undefined): string[] {
  return [socksPort === undefined ? 'SocksPort 0' : `SocksPort ${LOOPBACK}:${socksPort}`, 'ClientUseIPv6 0'];
}

/**
 * Exits resolve names for clients (RESOLVE cells, BEGIN to a hostname) with libevent's evdns, configured
 * from this resolv.conf instead of the system's. evdns accepts `nameserver <ip>:<port>`, so the harness's
 * server can sit on an unprivileged port. Hijack detection is off: it would look up random names and
 * ServerDNSTestAddresses (well-known public names), which the private zone answers NXDOMAIN by design.
 * Case randomisation (ServerDNSRandomizeCase, default on) stays: the server echoes the question.
 */
function exitDnsLines(resolvConf: string | undefined): string[] {
  if (resolvConf === undefined) return [];
  return [`ServerDNSResolvConfFile ${resolvConf}`, 'ServerDNSDetectHijacking 0', 'ServerDNSAllowBrokenConfig 0'];
}

export function renderTorrc(input: TorrcInput): string {
  const lines = commonLines(input);
  switch (input.role) {
    case 'authority':
      lines.push(...authorityLines(input));
      break;
    case 'relay':
      lines.push(...relayLines(input), 'ExitRelay 0', 'ExitPolicy reject *:*');
      break;
    case 'exit':
      lines.push(
        ...relayLines(input),
        'ExitRelay 1',
        'ExitPolicyRejectPrivate 0',
        // Loopback first; tor then appends its default tail (a few ports rejected, then accept *:*).
        // The tail must stay: microdescriptor policy summaries count only `accept *` rules, so a
        // loopback-only policy would summarise as "reject 1-65535" and no client would use the exit.
        'ExitPolicy accept 127.0.0.0/8:*',
        ...exitDnsLines(input.dnsResolvConf),
      );
      break;
    case 'onion-service': {
      const hs = required(input.onionService, 'onionService', input.role);
      lines.push(
        ...clientLines(undefined),
        `HiddenServiceDir ${hs.dir}`,
        `HiddenServicePort ${hs.virtualPort} ${LOOPBACK}:${hs.targetPort}`,
        // Upload results are logged at info in the rend domain; the harness waits for them.
        `Log [rend]info file ${input.dataDir}/rend.log`,
      );
      break;
    }
    case 'client':
      lines.push(...clientLines(required(input.socksPort, 'socksPort', input.role)));
      break;
  }
  return lines.join('\n') + '\n';
}
