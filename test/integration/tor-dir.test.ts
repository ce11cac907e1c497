// Directory layers against a private network of real C tor daemons: fetch certificates, consensus and
// microdescriptors from the authorities' DirPorts, validate them, build a NetDir, select 3-hop paths,
// and keep bootstrapping when an authority is down.

import { mkdir, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTorNet, type TorNet } from '../harness/tornet/index.js';
import { renderTorrc, votingSchedule } from '../harness/tornet/torrc.js';
import { createRelayIdentity } from '../harness/tornet/keys.js';
import { allocatePorts } from '../harness/tornet/ports.js';
import { spawnTor, stopTor, sleep } from '../harness/tornet/daemon.js';
import { dirPortOpener, fetchDir } from '../../src/tor/dirclient/index.js';
import { DirMgr, authorityServers } from '../../src/tor/dirmgr/index.js';
import { exitCandidates, selectPath, cryptoRandom } from '../../src/tor/netdir/index.js';
import { parseDirAuthorityLine, parseMdConsensus, policyAllowsPort, type DirAuthority } from '../../src/tor/netdoc/index.js';

/**
 * The harness exits accept only 127.0.0.0/8, which a microdescriptor `p` summary cannot express (summaries
 * describe policy towards all addresses), so they publish no `p` line. This extra exit accepts
 * 127.0.0.0/8 and port 80 everywhere, giving it `p accept 80`.
 */
const WEB_EXIT_POLICY = ['ExitPolicy accept 127.0.0.0/8:*', 'ExitPolicy accept *:80', 'ExitPolicy reject *:*'];

interface ExtraExit {
  pid: number;
  torrcFile: string;
  rsaFingerprint: string;
  dir: string;
}

async function startWebExit(net: TorNet): Promise<ExtraExit> {
  const dir = await mkdtemp(join(tmpdir(), 'onionplane-webexit-'));
  const dataDir = join(dir, 'data');
  await mkdir(dataDir, { mode: 0o700 });
  const [orPort] = await allocatePorts(1);
  const id = await createRelayIdentity(dataDir, 'webexit', orPort!);
  const torrc = renderTorrc({
    role: 'exit',
    nickname: 'webexit',
    dataDir,
    dirAuthorityLines: net.dirAuthorityLines,
    schedule: votingSchedule(net.votingIntervalSeconds),
    orPort,
    owningPid: process.pid,
  })
    .split('\n')
    .filter((l) => !l.startsWith('ExitPolicy '))
    .concat(WEB_EXIT_POLICY)
    .join('\n');
  const torrcFile = join(dir, 'torrc');
  await writeFile(torrcFile, torrc + '\n');
  await writeFile(join(dir, 'defaults'), '');
  const t = spawnTor(torrcFile, join(dir, 'tor.log'), join(dir, 'defaults'));
  return { pid: t.pid, torrcFile, rsaFingerprint: id.rsaFingerprint, dir };
}

async function waitForRelayInConsensus(dirPort: number, rsaHex: string, timeoutMs: number): Promise<void> {
  const idB64 = Buffer.from(rsaHex, 'hex').toString('base64').replace(/=+$/, '');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetchDir(dirPortOpener('127.0.0.1', dirPort), { kind: 'consensus-microdesc' }, { timeoutMs: 5000 });
      if (parseMdConsensus(res.body).relays.some((r) => r.rsaIdentity.toString('base64').replace(/=+$/, '') === idB64)) return;
    } catch {
      // not yet
    }
    await sleep(1000);
  }
  throw new Error('extra exit never appeared in the consensus');
}

describe('tor directory against C tor authorities', () => {
  let net: TorNet;
  let webExit: ExtraExit;
  let authorities: DirAuthority[];

  beforeAll(async () => {
    net = await startTorNet({ authorities: 3, relays: 2, exits: 1, referenceClient: false });
    webExit = await startWebExit(net);
    authorities = net.dirAuthorityLines.map(parseDirAuthorityLine);
    await waitForRelayInConsensus(net.authorities[0]!.dirPort!, webExit.rsaFingerprint, 90_000);
  }, 240_000);

  afterAll(async () => {
    if (webExit) {
      await stopTor(webExit.pid, webExit.torrcFile).catch(() => undefined);
      await rm(webExit.dir, { recursive: true, force: true });
    }
    await net?.stop();
  }, 60_000);

  it('bootstraps from the DirPorts (deflate) and validates every document', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'onionplane-dircache-'));
    try {
      const mgr = new DirMgr({ authorities, compressed: true, cacheDir, netDirOptions: { testNetwork: true } });
      const dir = await mgr.bootstrap();
      expect(mgr.certs().map((c) => c.fingerprint).sort()).toEqual(authorities.map((a) => a.v3ident).sort());
      expect(Object.values(mgr.counters.rejected).every((n) => n === 0)).toBe(true);
      expect(dir.missingMicrodescs()).toEqual([]);
      expect(dir.haveEnoughPaths()).toBe(true);

      // Every harness node is in the NetDir with the identity keys the daemons generated.
      const nodes = [...net.authorities, ...net.relays];
      for (const n of nodes) {
        const r = dir.relayByRsaId(n.rsaFingerprint!);
        expect(r, n.nickname).toBeDefined();
        expect(r!.orPort).toBe(n.orPort);
        if (n.ed25519Id) expect(r!.ed25519Id!.toString('base64').replace(/=+$/, '')).toBe(n.ed25519Id);
        expect(r!.ntorOnionKey).toHaveLength(32);
      }
      expect(dir.relayByRsaId(webExit.rsaFingerprint)).toBeDefined();

      // Every relay has the Exit flag (TestingDirAuthVoteExit), but only the web exit's summary accepts 80.
      expect(dir.relays().every((r) => r.flags.has('Exit'))).toBe(true);
      expect(exitCandidates(dir, 80).map((r) => r.rsaIdHex)).toEqual([webExit.rsaFingerprint]);

      for (let i = 0; i < 50; i++) {
        const res = selectPath(dir, cryptoRandom, { port: 80 });
        expect(res.ok).toBe(true);
        if (!res.ok) break;
        const { guard, middle, exit } = res.path;
        expect(exit.rsaIdHex).toBe(webExit.rsaFingerprint);
        expect(policyAllowsPort(exit.ipv4Policy, 80)).toBe(true);
        expect(new Set([guard.rsaIdHex, middle.rsaIdHex, exit.rsaIdHex]).size).toBe(3);
        expect(guard.flags.has('Guard')).toBe(true);
      }

      // A restart with a cache needs no network at all.
      const cold = new DirMgr({ authorities, servers: [], cacheDir, netDirOptions: { testNetwork: true } });
      expect((await cold.bootstrap()).relays()).toHaveLength(dir.relays().length);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('serves identical consensus bytes with and without deflate', async () => {
    const open = dirPortOpener('127.0.0.1', net.authorities[1]!.dirPort!);
    for (let attempt = 0; attempt < 3; attempt++) {
      const plain = (await fetchDir(open, { kind: 'consensus-microdesc' })).body;
      const z = (await fetchDir(open, { kind: 'consensus-microdesc' }, { compressed: true })).body;
      if (plain.equals(z)) return;
    }
    throw new Error('compressed and plain consensus differ in three consecutive tries');
  }, 30_000);

  it('keeps bootstrapping and refreshing with one authority stopped', async () => {
    const dead = net.authorities[0]!;
    await stopTor(dead.pid, dead.torrcFile);
    const servers = authorityServers(authorities);
    // The stopped authority is tried first (this random source leaves the order unchanged).
    expect(servers[0]!.name).toBe(dead.nickname);
    const keepOrder = { next: () => 0.999999 };
    const mgr = new DirMgr({ authorities, servers, rng: keepOrder, netDirOptions: { testNetwork: true } });
    const dir = await mgr.bootstrap();
    expect(mgr.counters.fetchErrors).toBeGreaterThan(0);
    expect(dir.relays().length).toBeGreaterThanOrEqual(net.relays.length + 2);
    const first = dir.consensus.validAfter;

    // The two remaining authorities still reach quorum (2 of 3) on new consensuses.
    const deadline = Date.now() + 60_000;
    let refreshed = false;
    while (!refreshed && Date.now() < deadline) {
      await sleep(2000);
      refreshed = await mgr.refresh();
    }
    expect(refreshed).toBe(true);
    const next = mgr.netdir!;
    expect(next.consensus.validAfter).toBeGreaterThan(first);
    expect(next.missingMicrodescs()).toEqual([]);
    const signers = new Set(next.consensus.signatures.map((s) => s.identity));
    expect(signers.has(dead.v3ident!)).toBe(false);
    expect(selectPath(next, cryptoRandom, { port: 80 }).ok).toBe(true);
  }, 120_000);
});
