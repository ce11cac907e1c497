import { NetDocError } from './errors.js';

/**
 * A microdescriptor port-policy summary (`p` / `p6`, dir-spec §3.3): accept or reject a list of port
 * ranges, applying to every address. An absent summary means reject everything.
 */
export interface PortPolicy {
  readonly kind: 'accept' | 'reject';
  /** Sorted, non-overlapping inclusive ranges. */
  readonly ranges: readonly (readonly [number, number])[];
}

export const REJECT_ALL: PortPolicy = { kind: 'accept', ranges: [] };

const RANGE_RE = /^(\d{1,5})(?:-(\d{1,5}))?$/;

/** Parse `accept|reject 80,443,8000-8100`. Throws NetDocError('malformed'). */
export function parsePortPolicy(kind: string, list: string, line = 0): PortPolicy {
  if (kind !== 'accept' && kind !== 'reject') throw new NetDocError('malformed', `port policy kind ${kind}`, line);
  const ranges: [number, number][] = [];
  for (const part of list.split(',')) {
    const m = RANGE_RE.exec(part);
    if (!m) throw new NetDocError('malformed', `bad port range ${JSON.stringify(part.slice(0, 20))}`, line);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 1 || hi > 65535 || lo > hi) throw new NetDocError('malformed', `port range ${part} out of bounds`, line);
    const prev = ranges[ranges.length - 1];
    if (prev !== undefined && lo <= prev[1]) throw new NetDocError('malformed', 'port ranges not ascending', line);
    ranges.push([lo, hi]);
  }
  return { kind, ranges };
}

/** Does the summary allow connections to `port`? */
export function policyAllowsPort(policy: PortPolicy, port: number): boolean {
  // Binary search over the sorted ranges: live policies have dozens of entries and are checked per relay.
  let lo = 0;
  let hi = policy.ranges.length - 1;
  let inRange = false;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = policy.ranges[mid]!;
    if (port < a) hi = mid - 1;
    else if (port > b) lo = mid + 1;
    else {
      inRange = true;
      break;
    }
  }
  return policy.kind === 'accept' ? inRange : !inRange;
}

/** Does the summary allow at least one port? */
export function policyAllowsAnyPort(policy: PortPolicy): boolean {
  if (policy.kind === 'accept') return policy.ranges.length > 0;
  const first = policy.ranges[0];
  return !(policy.ranges.length === 1 && first !== undefined && first[0] === 1 && first[1] === 65535);
}

export function formatPortPolicy(policy: PortPolicy): string {
  return `${policy.kind} ${policy.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}`;
}
