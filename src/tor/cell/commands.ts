/** Channel cell commands (tor-spec §3). */
export const ChanCmd = {
  PADDING: 0,
  CREATE: 1,
  CREATED: 2,
  RELAY: 3,
  DESTROY: 4,
  CREATE_FAST: 5,
  CREATED_FAST: 6,
  VERSIONS: 7,
  NETINFO: 8,
  RELAY_EARLY: 9,
  CREATE2: 10,
  CREATED2: 11,
  PADDING_NEGOTIATE: 12,
  VPADDING: 128,
  CERTS: 129,
  AUTH_CHALLENGE: 130,
  AUTHENTICATE: 131,
  AUTHORIZE: 132,
} as const;
export type ChanCmdName = keyof typeof ChanCmd;

/** On link protocol >= 3, VERSIONS and every command >= 128 are variable-length. */
export function isVariableLengthCommand(cmd: number): boolean {
  return cmd === ChanCmd.VERSIONS || cmd >= 128;
}

const CHAN_NAMES = new Map<number, string>(Object.entries(ChanCmd).map(([k, v]) => [v, k]));
export function chanCmdName(cmd: number): string {
  return CHAN_NAMES.get(cmd) ?? `UNKNOWN(${cmd})`;
}

/** Relay message commands (tor-spec §6.1). */
export const RelayCmd = {
  BEGIN: 1,
  DATA: 2,
  END: 3,
  CONNECTED: 4,
  SENDME: 5,
  EXTEND: 6,
  EXTENDED: 7,
  TRUNCATE: 8,
  TRUNCATED: 9,
  DROP: 10,
  RESOLVE: 11,
  RESOLVED: 12,
  BEGIN_DIR: 13,
  EXTEND2: 14,
  EXTENDED2: 15,
  /** Conflux (proposal 329): linking legs of a set and switching between them. */
  CONFLUX_LINK: 19,
  CONFLUX_LINKED: 20,
  CONFLUX_LINKED_ACK: 21,
  CONFLUX_SWITCH: 22,
  /** Stream flow control on congestion-controlled circuits (proposal 344). */
  XOFF: 43,
  XON: 44,
} as const;
export type RelayCmdName = keyof typeof RelayCmd;

const RELAY_NAMES = new Map<number, string>(Object.entries(RelayCmd).map(([k, v]) => [v, k]));
export function relayCmdName(cmd: number): string {
  return RELAY_NAMES.get(cmd) ?? `UNKNOWN(${cmd})`;
}
