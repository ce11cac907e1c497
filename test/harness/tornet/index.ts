// A private Tor network of real C tor daemons on 127.0.0.1 (tor-client-guide §7): authorities, relays,
// exits, an optional onion service and a reference client, each in its own data directory under one
// temporary root. startTorNet resolves once the network is usable; stop() (or the exit hooks) end every
// daemon by PID and remove the root.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOriginServer, type OriginServer } from '../origin-server.js';
import { registerForCleanup, removeTreeSync, unregisterFromCleanup } from './cleanup.js';
import { fetchConsensus, missingRelays } from './consensus.js';
import { cacheReady } from './dir-cache.js';
import { knowsEveryNode } from './relays-settled.js';
import { portFileOf, startDnsServer, type DnsServer } from './dns-server.js';
import { DEFAULT_DNS_ZONE, DnsZone, type DnsRecords } from './dns-zone.js';
import { hupTor, isOurTorRunning, killTorNow, readLog, sleep, spawnTor, stopTor, tailLines } from './daemon.js';
import { formatDirAuthorityLine } from './dir-authority-line.js';
import { createAuthorityKeys, createRelayIdentity } from './keys.js';
import { allocatePorts } from './ports.js';
import { socks5Probe } from './socks-probe.js';
import { readStateFile, ROOT_PREFIX, sweepAbandonedRoots, writeOwnerRecord, writeStateFile, defaultStatePath } from './state.js';
import { renderTorrc, votingSchedule, checkConsensusParams, type VotingSchedule } from './torrc.js';
import type { TorNet, TorNetDescription, TorNetDns, TorNetOptions, TorNode, TorRole } from './types.js';

export type { TorNet, TorNetDescription, TorNetDns, TorNetOptions, TorNode, TorRole } from './types.js';
export { startDnsServer, type DnsServer, type DnsServerOptions } from './dns-server.js';
export { DnsZone, DEFAULT_DNS_ZONE, reverseName, type DnsQueryRecord, type DnsRecords } from './dns-zone.js';
export { formatDirAuthorityLine, parseDirAuthorityLine, type DirAuthorityEntry } from './dir-authority-line.js';
export { parseConsensusSummary, fetchConsensus, type ConsensusSummary, type ConsensusRelay } from './consensus.js';
export { defaultStatePath, readStateFile, writeStateFile } from './state.js';
export { renderTorrc, votingSchedule } from './torrc.js';
export { waitUntilKnows } from './relays-settled.js';

const ONION_VIRTUAL_PORT = 80;

/** A name the harness's DNS always answers unless told otherwise: the loopback address origins listen on. */
export const ORIGIN_HOSTNAME = `origin.${DEFAULT_DNS_ZONE}`;
export const DEFAULT_DNS_RECORDS: DnsRecords = { [ORIGIN_HOSTNAME]: '127.0.0.1' };
const BIND_FAILURE = /Could not bind to|Address already in use|Failed to parse\/validate config|Reading config failed/;

/** Thrown when bring-up fails; the message ends with each daemon's log tail. */
export class TorNetError extends Error {
  constructor(
    message: string,
    readonly logTails: string,
    readonly portCollision = false,
  ) {
    super(`${message}\n${logTails}`);
    this.name = 'TorNetError';
  }
}

function renderTails(nodes: readonly TorNode[], lines: number): string {
  return nodes
    .map((n) => `----- ${n.nickname} (${n.role}, pid ${n.pid}) ${n.logFile} -----\n${tailLines(readLog(n.logFile), lines)}`)
    .join('\n');
}

/** A network described by JSON and stopped by PID: shared by live and attached handles. */
class TorNetHandle implements TorNet {
  root: string;
  dirAuthorityLines: string[];
  authorities: TorNode[];
  relays: TorNode[];
  onionService?: TorNode;
  client?: TorNode;
  socksPort?: number;
  onionAddress?: string;
  onionVirtualPort?: number;
  onionServiceTarget?: number;
  dns?: TorNetDns;
  consensusParams: string[];
  votingIntervalSeconds: number;
  bringUpMs: number;
  startedAt: string;
  /** The DNS server the exits use, when this process runs it; stopped with the network. */
  ownedDns?: DnsServer;
  /** An origin server started for the onion service; stopped with the network. */
  ownedOrigin?: OriginServer;
  private stopping?: Promise<void>;

  constructor(
    d: TorNetDescription,
    private readonly ownsCleanupHooks: boolean,
  ) {
    this.root = d.root;
    this.dirAuthorityLines = d.dirAuthorityLines;
    this.authorities = d.authorities;
    this.relays = d.relays;
    this.onionService = d.onionService;
    this.client = d.client;
    this.socksPort = d.socksPort;
    this.onionAddress = d.onionAddress;
    this.onionVirtualPort = d.onionVirtualPort;
    this.onionServiceTarget = d.onionServiceTarget;
    this.dns = d.dns;
    this.consensusParams = d.consensusParams;
    this.votingIntervalSeconds = d.votingIntervalSeconds;
    this.bringUpMs = d.bringUpMs;
    this.startedAt = d.startedAt;
  }

  nodes(): TorNode[] {
    const all = [...this.authorities, ...this.relays];
    if (this.onionService) all.push(this.onionService);
    if (this.client) all.push(this.client);
    return all.filter((n) => n.pid > 0);
  }

  describe(): TorNetDescription {
    const d: TorNetDescription = {
      root: this.root,
      dirAuthorityLines: this.dirAuthorityLines,
      authorities: this.authorities,
      relays: this.relays,
      consensusParams: this.consensusParams,
      votingIntervalSeconds: this.votingIntervalSeconds,
      bringUpMs: this.bringUpMs,
      startedAt: this.startedAt,
    };
    if (this.onionService) d.onionService = this.onionService;
    if (this.client) d.client = this.client;
    if (this.socksPort !== undefined) d.socksPort = this.socksPort;
    if (this.onionAddress !== undefined) d.onionAddress = this.onionAddress;
    if (this.onionVirtualPort !== undefined) d.onionVirtualPort = this.onionVirtualPort;
    if (this.onionServiceTarget !== undefined) d.onionServiceTarget = this.onionServiceTarget;
    if (this.dns !== undefined) d.dns = this.dns;
    return JSON.parse(JSON.stringify(d)) as TorNetDescription;
  }

  logTails(lines = 20): string {
    return renderTails(this.nodes(), lines);
  }

  dnsQueries(): readonly { name: string; type: number; asSent: string }[] | undefined {
    return this.ownedDns?.zone.queryLog.slice();
  }

  /** PIDs this handle stops: the tor daemons and a DNS server running as its own process. */
  processes(): { pid: number; torrcFile: string }[] {
    const all = this.nodes().map((n) => ({ pid: n.pid, torrcFile: n.torrcFile }));
    // The zone file names the DNS process on its command line, as a torrc names a tor daemon.
    if (this.dns?.pid !== undefined && this.dns.zoneFile !== undefined) all.push({ pid: this.dns.pid, torrcFile: this.dns.zoneFile });
    return all;
  }

  running(): boolean {
    const procs = this.processes();
    return this.nodes().length > 0 && procs.every((n) => isOurTorRunning(n.pid, n.torrcFile));
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const results = await Promise.allSettled(this.processes().map((n) => stopTor(n.pid, n.torrcFile)));
      await this.ownedOrigin?.stop();
      await this.ownedDns?.stop();
      await fsp.rm(this.root, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
      if (this.ownsCleanupHooks) unregisterFromCleanup(this);
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length > 0) throw new Error(`tornet stop: ${failed.map((f) => String(f.reason)).join('; ')}`);
    })();
    return this.stopping;
  }

  teardownSync(): void {
    for (const n of this.processes()) killTorNow(n.pid, n.torrcFile);
    removeTreeSync(this.root);
  }
}

interface Plan {
  root: string;
  schedule: VotingSchedule;
  consensusParams: string[];
  owningPid?: number;
  detached: boolean;
  log: (line: string) => void;
  deadline: number;
  timeoutMs: number;
}

function node(role: TorRole, nickname: string, root: string): TorNode {
  const dataDir = path.join(root, nickname);
  return { role, nickname, pid: 0, dataDir, logFile: path.join(dataDir, 'tor.log'), torrcFile: path.join(dataDir, 'torrc') };
}

function timeLeft(plan: Plan, what: string): void {
  if (Date.now() > plan.deadline) throw new Error(`timed out after ${plan.timeoutMs} ms waiting for ${what}`);
}

async function waitUntil(plan: Plan, what: string, net: TorNetHandle, check: () => Promise<boolean> | boolean, everyMs = 250): Promise<void> {
  for (;;) {
    for (const n of net.nodes()) {
      const log = readLog(n.logFile);
      if (BIND_FAILURE.test(log)) throw new PortOrConfigError(`${n.nickname} could not start: ${BIND_FAILURE.exec(log)![0]}`);
      if (!fs.existsSync(`/proc/${n.pid}`)) throw new Error(`${n.nickname} (pid ${n.pid}) exited while waiting for ${what}`);
    }
    if (await check()) return;
    timeLeft(plan, what);
    await sleep(everyMs);
  }
}

class PortOrConfigError extends Error {}

/**
 * The oldest valid-after among the authorities' consensuses once every authority serves one listing every
 * expected relay as Running and Valid. One authority alone is not enough: a client that asks another (still
 * on the previous round, or one that missed a vote) would get a consensus with no usable relays.
 */
async function consensusCompleteEverywhere(authorities: readonly TorNode[], expected: string[]): Promise<string | undefined> {
  let oldest: string | undefined;
  for (const a of authorities) {
    try {
      const c = await fetchConsensus(a.dirPort!);
      if (!c?.validAfter || missingRelays(c, expected).length > 0) return undefined;
      if (oldest === undefined || c.validAfter < oldest) oldest = c.validAfter;
    } catch {
      return undefined; // Authority not serving yet.
    }
  }
  return oldest;
}

function logHas(n: TorNode, pattern: RegExp, file = n.logFile): boolean {
  return pattern.test(readLog(file));
}

async function bringUp(net: TorNetHandle, opts: Required<Pick<TorNetOptions, 'authorities' | 'relays' | 'exits' | 'referenceClient'>> & TorNetOptions, plan: Plan, origin?: OriginServer): Promise<void> {
  const root = plan.root;
  const authorities = Array.from({ length: opts.authorities }, (_, i) => node('authority', `auth${i}`, root));
  const relays = [
    ...Array.from({ length: opts.relays }, (_, i) => node('relay', `relay${i}`, root)),
    ...Array.from({ length: opts.exits }, (_, i) => node('exit', `exit${i}`, root)),
  ];
  const onion = opts.onionService ? node('onion-service', 'onion0', root) : undefined;
  const client = opts.referenceClient ? node('client', 'client0', root) : undefined;

  if (typeof opts.onionService === 'object') await assertListening(opts.onionService.targetPort);
  const ports = await allocatePorts(authorities.length * 2 + relays.length + (client ? 1 : 0));
  for (const a of authorities) {
    a.orPort = ports.shift()!;
    a.dirPort = ports.shift()!;
  }
  for (const r of relays) r.orPort = ports.shift()!;
  if (client) client.socksPort = ports.shift()!;

  const t0 = Date.now();
  await Promise.all([
    ...authorities.map(async (a) => {
      a.v3ident = await createAuthorityKeys(a.dataDir, a.dirPort!);
      Object.assign(a, await createRelayIdentity(a.dataDir, a.nickname, a.orPort!));
    }),
    ...relays.map(async (r) => Object.assign(r, await createRelayIdentity(r.dataDir, r.nickname, r.orPort!))),
    ...[onion, client].filter((n): n is TorNode => n !== undefined).map((n) => fsp.mkdir(n.dataDir, { mode: 0o700 })),
  ]);
  plan.log(`tornet: keys ready in ${Date.now() - t0} ms`);

  net.dirAuthorityLines = authorities.map((a) =>
    formatDirAuthorityLine({ nickname: a.nickname, address: '127.0.0.1', orPort: a.orPort!, dirPort: a.dirPort!, v3ident: a.v3ident!, rsaFingerprint: a.rsaFingerprint! }),
  );
  net.authorities = authorities;
  net.relays = relays;
  net.onionService = onion;
  net.client = client;
  net.socksPort = client?.socksPort;

  let onionTarget: number | undefined;
  if (onion) {
    onionTarget = typeof opts.onionService === 'object' ? opts.onionService.targetPort : origin!.port;
    net.onionServiceTarget = onionTarget;
    net.onionVirtualPort = ONION_VIRTUAL_PORT;
  }

  // Empty: stands in for the torrc defaults file and the GeoIP databases.
  const empty = path.join(root, 'empty');
  await fsp.writeFile(empty, '');
  if (opts.exits > 0 && opts.dns !== false) {
    net.dns = await startNetworkDns(net, plan, opts.dns ?? {});
    plan.log(`tornet: DNS for zone ${net.dns.zone} on ${net.dns.host}:${net.dns.port}${net.dns.pid ? ` (pid ${net.dns.pid})` : ''}`);
  }
  const all = [...authorities, ...relays, ...(onion ? [onion] : []), ...(client ? [client] : [])];
  for (const n of all) {
    const torrc = renderTorrc({
      role: n.role,
      nickname: n.nickname,
      dataDir: n.dataDir,
      dirAuthorityLines: net.dirAuthorityLines,
      schedule: plan.schedule,
      orPort: n.orPort,
      dirPort: n.dirPort,
      socksPort: n.socksPort,
      consensusParams: n.role === 'authority' ? plan.consensusParams : undefined,
      onionService: n === onion ? { dir: path.join(n.dataDir, 'hs'), virtualPort: ONION_VIRTUAL_PORT, targetPort: onionTarget! } : undefined,
      owningPid: plan.owningPid,
      emptyFile: empty,
      infoLog: process.env.ONIONPLANE_TORNET_DEBUG === '1',
      dnsResolvConf: n.role === 'exit' ? net.dns?.resolvConfFile : undefined,
    });
    await fsp.writeFile(n.torrcFile, torrc);
  }
  const spawnAll = (nodes: TorNode[]): void => {
    for (const n of nodes) {
      n.pid = spawnTor(n.torrcFile, n.logFile, empty).pid;
      writeOwnerRecord(root, { ownerPid: process.pid, detached: plan.detached, daemons: net.processes() });
    }
  };
  // Authorities first so relays' first descriptor uploads find them listening.
  spawnAll([...authorities, ...relays]);
  plan.log(`tornet: ${authorities.length + relays.length} relay daemons started under ${root}`);

  const expected = [...authorities, ...relays].map((n) => n.rsaFingerprint!);
  let validAfter: string | undefined;
  await waitUntil(plan, 'every authority to serve a consensus listing every relay', net, async () => (validAfter = await consensusCompleteEverywhere(authorities, expected)) !== undefined, 500);
  plan.log(`tornet: every authority's consensus lists all ${expected.length} relays after ${Date.now() - t0} ms`);
  // Relays must hold it too: as caches (clients fetch from them), and as exits, which refuse streams
  // from a previous hop missing from their own consensus (tor's RefuseUnknownExits).
  // Caches backed off while the authorities had nothing to serve; a HUP makes them fetch now.
  const settled = (r: TorNode): boolean => cacheReady(r.dataDir, validAfter!, expected.length) && knowsEveryNode(r, [...authorities, ...relays]);
  for (const r of relays) if (!settled(r)) hupTor(r.pid, r.torrcFile);
  await waitUntil(plan, 'every relay to cache that consensus and its microdescriptors', net, () => relays.every(settled), 200);
  plan.log(`tornet: directory caches ready after ${Date.now() - t0} ms`);
  // Clients started earlier would be deep in their download back-off (404s before the first consensus)
  // when the consensus appears; started now, their first fetch succeeds.
  spawnAll([onion, client].filter((n): n is TorNode => n !== undefined));

  const bootstrapped = /Bootstrapped 100%/;
  if (client) {
    await waitUntil(plan, 'the reference client to bootstrap', net, () => logHas(client, bootstrapped));
    plan.log(`tornet: reference client bootstrapped after ${Date.now() - t0} ms`);
    if (opts.exits > 0) {
      // Bootstrapped 100 only promises internal circuits; prove an exit stream to loopback works. The
      // target is a throwaway listener: tor refuses streams to relays' own ports ("Tor over Tor").
      const listener = await listenOnce();
      try {
        await waitUntil(plan, 'an exit stream through the reference client', net, () => probe(client, '127.0.0.1', listener.port, plan), 500);
      } finally {
        await listener.close();
      }
      plan.log(`tornet: exit stream through the reference client works after ${Date.now() - t0} ms`);
    }
  }
  if (onion) {
    const hostname = path.join(onion.dataDir, 'hs', 'hostname');
    const rendLog = path.join(onion.dataDir, 'rend.log');
    await waitUntil(plan, 'the onion service to publish its descriptor', net, () =>
      logHas(onion, bootstrapped) && logHas(onion, /hidden service descriptor: finished with status 200/, rendLog) && fs.existsSync(hostname),
    );
    net.onionAddress = fs.readFileSync(hostname, 'utf8').trim();
    plan.log(`tornet: onion service ${net.onionAddress} published after ${Date.now() - t0} ms`);
    if (client) {
      const onionAddress = net.onionAddress;
      await waitUntil(plan, `the onion service to be reachable through the reference client`, net, () =>
        probe(client, onionAddress, ONION_VIRTUAL_PORT, plan), 1000);
      plan.log(`tornet: onion service reachable after ${Date.now() - t0} ms`);
    }
  }
}

/**
 * The exits' DNS server. Served from this process while it owns the network; a detached network (one
 * that outlives this process) gets it as its own process when the compiled server script is at hand.
 */
async function startNetworkDns(net: TorNetHandle, plan: Plan, opts: { zone?: string; records?: DnsRecords }): Promise<TorNetDns> {
  const records = opts.records ?? DEFAULT_DNS_RECORDS;
  const dir = path.join(plan.root, 'dns');
  await fsp.mkdir(dir, { mode: 0o700 });
  const resolvConfFile = path.join(dir, 'resolv.conf');
  let dns: TorNetDns;
  const script = fileURLToPath(new URL('./dns-serve.js', import.meta.url));
  if (plan.detached && import.meta.url.endsWith('.js') && fs.existsSync(script)) {
    const zoneFile = path.join(dir, 'zone.json');
    const host = '127.0.0.1';
    const zone = new DnsZone(records, opts.zone).zone; // validates the records before spawning
    await fsp.writeFile(zoneFile, JSON.stringify({ zone, records, host }) + '\n');
    const { pid, port } = await spawnDnsProcess(script, zoneFile, path.join(dir, 'dns.log'), plan);
    dns = { host, port, zone, records, resolvConfFile, pid, zoneFile };
    net.dns = dns;
  } else {
    if (plan.detached) plan.log('tornet: no compiled dns-serve.js here; the DNS server stops when this process exits');
    const server = await startDnsServer({ records, zone: opts.zone });
    net.ownedDns = server;
    dns = { host: server.host, port: server.port, zone: server.zone.zone, records, resolvConfFile };
  }
  await fsp.writeFile(resolvConfFile, `nameserver ${dns.host}:${dns.port}\n`);
  return dns;
}

async function spawnDnsProcess(script: string, zoneFile: string, logFile: string, plan: Plan): Promise<{ pid: number; port: number }> {
  const fd = fs.openSync(logFile, 'a');
  let pid: number;
  try {
    const child = spawn(process.execPath, [script, zoneFile], { stdio: ['ignore', fd, fd], detached: true });
    if (child.pid === undefined) throw new Error('could not start the DNS server process');
    child.on('error', () => undefined);
    child.unref();
    pid = child.pid;
  } finally {
    fs.closeSync(fd);
  }
  const portFile = portFileOf(zoneFile);
  const deadline = Math.min(plan.deadline, Date.now() + 15_000);
  for (;;) {
    if (fs.existsSync(portFile)) return { pid, port: (JSON.parse(fs.readFileSync(portFile, 'utf8')) as { port: number }).port };
    if (!isOurTorRunning(pid, zoneFile)) throw new Error(`DNS server process exited: ${readLog(logFile).trim()}`);
    if (Date.now() > deadline) {
      killTorNow(pid, zoneFile);
      throw new Error('DNS server process did not start listening');
    }
    await sleep(50);
  }
}

/** The onion service is proven reachable end to end, so its target must already accept connections. */
function assertListening(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve();
    });
    sock.once('error', (e) =>
      reject(new Error(`onion service target 127.0.0.1:${port} does not accept connections (${e.message}); start its server first`)),
    );
  });
}

/** A loopback TCP listener that accepts and closes connections: a target for exit probes. */
async function listenOnce(): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((sock) => sock.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** One SOCKS CONNECT through the client; bounded by 30 s and by what is left of the bring-up timeout. */
async function probe(client: TorNode, host: string, port: number, plan: Plan): Promise<boolean> {
  const timeoutMs = Math.max(1000, Math.min(30_000, plan.deadline - Date.now()));
  try {
    return (await socks5Probe(client.socksPort!, host, port, timeoutMs)) === 0;
  } catch {
    return false;
  }
}

function normalize(opts: TorNetOptions) {
  const n = (v: number | undefined, d: number, min: number, what: string): number => {
    const x = v ?? d;
    if (!Number.isInteger(x) || x < min) throw new RangeError(`tornet: ${what} must be an integer >= ${min}`);
    return x;
  };
  return {
    ...opts,
    authorities: n(opts.authorities, 3, 1, 'authorities'),
    relays: n(opts.relays, 3, 0, 'relays'),
    exits: n(opts.exits, 2, 0, 'exits'),
    referenceClient: opts.referenceClient ?? true,
  };
}

async function attempt(opts: ReturnType<typeof normalize>, started: number): Promise<TorNet> {
  const parent = opts.rootDir ?? os.tmpdir();
  await fsp.mkdir(parent, { recursive: true });
  const swept = sweepAbandonedRoots(parent);
  const log = opts.log ?? (() => undefined);
  if (swept.length > 0) log(`tornet: removed abandoned ${swept.join(', ')}`);
  const root = await fsp.mkdtemp(path.join(parent, ROOT_PREFIX));
  const owned = opts.ownedByThisProcess ?? true;
  writeOwnerRecord(root, { ownerPid: process.pid, detached: !owned, daemons: [] });
  const timeoutMs = opts.timeoutMs ?? 150_000;
  const plan: Plan = {
    root,
    schedule: votingSchedule(opts.votingIntervalSeconds ?? 10, opts.consensusIntervalsValid ?? 3),
    consensusParams: checkConsensusParams(opts.consensusParams ?? []),
    owningPid: owned ? process.pid : undefined,
    detached: !owned,
    log,
    deadline: started + timeoutMs,
    timeoutMs,
  };
  let origin: OriginServer | undefined;
  const net = new TorNetHandle(
    { root, dirAuthorityLines: [], authorities: [], relays: [], consensusParams: plan.consensusParams, votingIntervalSeconds: plan.schedule.interval, bringUpMs: 0, startedAt: new Date(started).toISOString() },
    true,
  );
  registerForCleanup(net);
  try {
    if (opts.onionService === true) {
      origin = await startOriginServer();
      net.ownedOrigin = origin;
    }
    await bringUp(net, opts, plan, origin);
    net.bringUpMs = Date.now() - started;
    log(`tornet: usable after ${net.bringUpMs} ms`);
    // A network meant to outlive this process must survive its exit hooks.
    if (!owned) unregisterFromCleanup(net);
    return net;
  } catch (e) {
    const tails = net.logTails(25);
    await net.stop().catch(() => undefined);
    const message = `tornet: bring-up failed: ${(e as Error).message}`;
    // Printed as well as thrown: a caller that swallows the error still leaves the evidence in the output.
    if (opts.log) opts.log(`${message}\n${tails}`);
    else process.stderr.write(`${message}\n${tails}\n`);
    throw new TorNetError(message, tails, e instanceof PortOrConfigError);
  }
}

/** Starts the network and resolves once it is usable; rejects (after tearing everything down) with log tails. */
export async function startTorNet(opts: TorNetOptions = {}): Promise<TorNet> {
  const normalized = normalize(opts);
  const started = Date.now();
  try {
    return await attempt(normalized, started);
  } catch (e) {
    // Another process may take a port between our check and tor's bind: one retry with fresh ports.
    if (e instanceof TorNetError && e.portCollision && /Could not bind|already in use/.test(e.message)) {
      normalized.log?.('tornet: port collision, retrying with fresh ports');
      return attempt(normalized, Date.now());
    }
    throw e;
  }
}

/**
 * Attaches to a network started elsewhere (e.g. `npm run tornet -- up`). stop() on the returned handle
 * stops that network; a test that only borrows it should not call stop().
 */
export function loadTorNetState(file = defaultStatePath()): TorNet {
  return attachTorNet(readStateFile(file));
}

/** A handle on a network from its description (e.g. handed from vitest global setup via provide/inject). */
export function attachTorNet(description: TorNetDescription): TorNet {
  return new TorNetHandle(description, false);
}

export function saveTorNetState(net: TorNet, file = defaultStatePath()): string {
  return writeStateFile(net.describe(), file);
}

export interface AcquiredTorNet {
  net: TorNet;
  /** True when attached to a network started elsewhere (release() then leaves it running). */
  shared: boolean;
  release(): Promise<void>;
}

/**
 * For vitest global setup and benchmarks: attach to the network recorded in $ONIONPLANE_TORNET_STATE when
 * that variable is set and every daemon of it runs (e.g. after `npm run tornet -- up`), otherwise start a
 * private one with `opts` that release() stops.
 */
export async function acquireTorNet(opts: TorNetOptions = {}): Promise<AcquiredTorNet> {
  const file = process.env.ONIONPLANE_TORNET_STATE;
  if (file !== undefined && fs.existsSync(file)) {
    const shared = loadTorNetState(file);
    if (shared.running()) return { net: shared, shared: true, release: async () => undefined };
    opts.log?.(`tornet: ${file} describes a network that is not running; starting a private one`);
  }
  const net = await startTorNet(opts);
  return { net, shared: false, release: () => net.stop() };
}
