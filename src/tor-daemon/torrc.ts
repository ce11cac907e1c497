// The torrc onionplane writes for a tor it manages: SOCKS and control on private loopback ports
// chosen by tor (`auto`, reported through ControlPortWriteToFile), cookie authentication, and, for a
// private network, its DirAuthority lines and TestingTorNetwork.

import { join } from 'node:path';

export interface ManagedTorConfig {
  /** Where tor keeps its state and onionplane writes the torrc. */
  readonly dataDir: string;
  readonly dirAuthorities: readonly string[];
  readonly testNetwork: boolean;
  /** Our PID: tor exits by itself if we die (__OwningControllerProcess). */
  readonly ownerPid: number;
  /** Extra torrc lines, for tests (each a full line). */
  readonly extraLines?: readonly string[];
}

export interface ManagedTorFiles {
  readonly torrc: string;
  readonly controlPortFile: string;
  readonly cookieFile: string;
  readonly logFile: string;
  readonly torDataDir: string;
}

export function managedTorFiles(dataDir: string): ManagedTorFiles {
  return {
    torrc: join(dataDir, 'torrc'),
    controlPortFile: join(dataDir, 'control-port'),
    cookieFile: join(dataDir, 'control_auth_cookie'),
    logFile: join(dataDir, 'tor.log'),
    torDataDir: join(dataDir, 'tor'),
  };
}

/** A DirAuthority line must be one line of C tor syntax; anything that could inject options is refused. */
export function checkDirAuthorityLine(line: string): void {
  if (/[\r\n]/.test(line)) throw new Error('dir-authority: line breaks are not allowed');
  if (!/\bv3ident=[0-9A-Fa-f]{40}\b/.test(line) || !/\d+\.\d+\.\d+\.\d+:\d+/.test(line)) {
    throw new Error(`dir-authority: not a DirAuthority line (needs v3ident=<40 hex> and addr:dirport): \`${line}'`);
  }
}

export function renderTorrc(cfg: ManagedTorConfig): string {
  const f = managedTorFiles(cfg.dataDir);
  const lines = [
    '# Written by onionplane for the tor it manages; rewritten at every start.',
    `DataDirectory ${f.torDataDir}`,
    'SocksPort 127.0.0.1:auto',
    'ControlPort 127.0.0.1:auto',
    `ControlPortWriteToFile ${f.controlPortFile}`,
    'CookieAuthentication 1',
    `CookieAuthFile ${f.cookieFile}`,
    `Log notice file ${f.logFile}`,
    'SafeLogging 1',
    'RunAsDaemon 0',
    `__OwningControllerProcess ${cfg.ownerPid}`,
  ];
  if (cfg.testNetwork) {
    lines.push('TestingTorNetwork 1', 'PathsNeededToBuildCircuits 0.25', 'ClientRejectInternalAddresses 0');
  }
  for (const a of cfg.dirAuthorities) {
    checkDirAuthorityLine(a);
    lines.push(`DirAuthority ${a.replace(/^DirAuthority\s+/, '')}`);
  }
  for (const l of cfg.extraLines ?? []) lines.push(l);
  return `${lines.join('\n')}\n`;
}
