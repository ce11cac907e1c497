// veth pairs and network namespaces through iproute2's `ip`: test topologies and `create veth-pair`.
import { execFile } from 'node:child_process';

/** Linux interface names are at most 15 bytes. */
export const IFNAME_MAX = 15;

export class IpCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(`ip ${args.join(' ')}: ${stderr.trim() || `exit ${exitCode}`}`);
    this.name = 'IpCommandError';
  }
}

/** Runs a program and resolves with its stdout; rejects with IpCommandError (for `ip`) on a non-zero exit. */
export function runCommand(file: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const code = typeof err.code === 'number' ? err.code : null;
        reject(file === 'ip' ? new IpCommandError(args, stderr || err.message, code) : Object.assign(err, { stderr }));
      } else {
        resolve(stdout);
      }
    });
  });
}

/** `ip [-n netns] <args>` */
export function ip(args: readonly string[], netns?: string): Promise<string> {
  return runCommand('ip', netns ? ['-n', netns, ...args] : args);
}

/** Runs `cmd args` inside `netns` (`ip netns exec`) and resolves with its stdout. */
export function execInNetns(netns: string, cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<string> {
  return runCommand('ip', ['netns', 'exec', netns, cmd, ...args], timeoutMs);
}

let uniqueCounter = 0;

/** A short name unlikely to clash with other processes: prefix + pid + counter, within IFNAME_MAX. */
export function uniqueName(prefix: string): string {
  const name = `${prefix}${process.pid.toString(36)}${(uniqueCounter++).toString(36)}`;
  if (name.length > IFNAME_MAX) throw new RangeError(`name ${name} longer than ${IFNAME_MAX}`);
  return name;
}

export async function createNetns(name: string): Promise<void> {
  await ip(['netns', 'add', name]);
  await ip(['link', 'set', 'lo', 'up'], name);
}

/** Deletes a namespace; a missing one is not an error. */
export async function deleteNetns(name: string): Promise<void> {
  await ip(['netns', 'del', name]).catch((e: unknown) => ignoreMissing(e));
}

export interface VethPairSpec {
  /** Our end, left in the current namespace. */
  name: string;
  peerName: string;
  /** Move the peer end into this (existing) namespace. */
  peerNetns?: string;
  /** CIDR addresses, e.g. "10.77.0.2/24". Omitted: no address. */
  address?: string;
  peerAddress?: string;
  mtu?: number;
  /**
   * Cap on segments per GSO packet for both ends. 1 makes the peer's TCP send MTU-sized frames instead of
   * GSO super-frames (what a consumer that cannot segment wants). Default: the kernel's.
   */
  gsoMaxSegs?: number;
  /** Bring both ends up. Default true. */
  up?: boolean;
}

export async function createVethPair(spec: VethPairSpec): Promise<void> {
  for (const n of [spec.name, spec.peerName]) {
    if (n.length === 0 || n.length > IFNAME_MAX) throw new RangeError(`interface name "${n}" must be 1..${IFNAME_MAX} bytes`);
  }
  await ip(['link', 'add', spec.name, 'type', 'veth', 'peer', 'name', spec.peerName]);
  try {
    if (spec.peerNetns) await ip(['link', 'set', spec.peerName, 'netns', spec.peerNetns]);
    const peerNs = spec.peerNetns;
    if (spec.mtu !== undefined) {
      await ip(['link', 'set', spec.name, 'mtu', String(spec.mtu)]);
      await ip(['link', 'set', spec.peerName, 'mtu', String(spec.mtu)], peerNs);
    }
    if (spec.gsoMaxSegs !== undefined) {
      await ip(['link', 'set', spec.name, 'gso_max_segs', String(spec.gsoMaxSegs)]);
      await ip(['link', 'set', spec.peerName, 'gso_max_segs', String(spec.gsoMaxSegs)], peerNs);
    }
    if (spec.address) await ip(['addr', 'add', spec.address, 'dev', spec.name]);
    if (spec.peerAddress) await ip(['addr', 'add', spec.peerAddress, 'dev', spec.peerName], peerNs);
    if (spec.up ?? true) {
      await ip(['link', 'set', spec.name, 'up']);
      await ip(['link', 'set', spec.peerName, 'up'], peerNs);
    }
  } catch (e) {
    await deleteLink(spec.name);
    throw e;
  }
}

/** Deletes an interface (for a veth, both ends); a missing one is not an error. */
export async function deleteLink(name: string, netns?: string): Promise<void> {
  await ip(['link', 'del', name], netns).catch((e: unknown) => ignoreMissing(e));
}

export async function setLinkUp(name: string, up: boolean, netns?: string): Promise<void> {
  await ip(['link', 'set', name, up ? 'up' : 'down'], netns);
}

export async function addAddress(name: string, cidr: string, netns?: string): Promise<void> {
  await ip(['addr', 'add', cidr, 'dev', name], netns);
}

/**
 * A namespace with one veth end inside it and the other end here: the usual test host. `close` removes both
 * and is safe to call more than once.
 */
export interface VethNamespace {
  netns: string;
  /** Our end (in the current namespace). */
  host: string;
  /** The end inside `netns`. */
  peer: string;
  close(): Promise<void>;
}

export async function createVethNamespace(
  prefix: string,
  opts: Pick<VethPairSpec, 'address' | 'peerAddress' | 'mtu' | 'gsoMaxSegs'> = {},
): Promise<VethNamespace> {
  const netns = uniqueName(`${prefix}n`);
  const host = uniqueName(`${prefix}h`);
  const peer = uniqueName(`${prefix}p`);
  await createNetns(netns);
  try {
    await createVethPair({ name: host, peerName: peer, peerNetns: netns, ...opts });
  } catch (e) {
    await deleteNetns(netns);
    throw e;
  }
  let closed = false;
  return {
    netns,
    host,
    peer,
    async close() {
      if (closed) return;
      closed = true;
      await deleteLink(host);
      await deleteNetns(netns);
    },
  };
}

function ignoreMissing(e: unknown): void {
  if (e instanceof IpCommandError && /Cannot find device|No such file|does not exist|Cannot open network namespace/i.test(e.stderr)) return;
  throw e;
}
