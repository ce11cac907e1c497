// Directory layers against a private network of real C tor daemons: fetch certificates, consensus and
// microdescriptors from the authorities' DirPorts, validate them, build a NetDir, select 3-hop paths,
// keep bootstrapping when an authority is down; once a consensus is held, fetch from the relays as
// directory caches (BEGIN_DIR on one-hop CREATE_FAST circuits) and move on when a cache is dead.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTorNet, type TorNet } from '../harness/tornet/index.js';
import { hupTor, stopTor } from '../harness/tornet/daemon.js';
import { cachedConsensusValidAfter, cachedMicrodescCount } from '../harness/tornet/dir-cache.js';
import { ChanMgr } from '../../src/tor/chanmgr/index.js';
import { CircMgr } from '../../src/tor/circmgr/index.js';
import { GuardMgr } from '../../src/tor/guardmgr/index.js';
import { Duplex } from 'node:stream';
import { buildFastCircuit, openDirStream, openTlsChannel, type StreamConnection, type TlsChannel } from '../../src/tor/transport/index.js';
import { dirPortOpener, fetchDir } from '../../src/tor/dirclient/index.js';
import { DirMgr, authorityServers, startDirRefresh, type DirRefresher } from '../../src/tor/dirmgr/index.js';
import { exitCandidates, selectPath, cryptoRandom, type NetDir } from '../../src/tor/netdir/index.js';
import { parseDirAuthorityLine, policyAllowsPort, type DirAuthority } from '../../src/tor/netdoc/index.js';

/**
 * fetchDir, retried while an authority answers 404: one starved of CPU (the whole suite runs on two
 * cores) can miss a vote and be without a live consensus for a few seconds.
 */
async function fetchDirRetrying(...args: Parameters<typeof fetchDir>): ReturnType<typeof fetchDir> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchDir(...args);
    } catch (e) {
      if (attempt >= 10 || !/HTTP 404/.test(String(e))) throw e;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** A BEGIN_DIR stream as a Node duplex: the dirclient takes any byte stream. */
function dirStreamDuplex(conn: StreamConnection): Duplex {
  let pumping = false;
  const d: Duplex = new Duplex({
    read() {
      if (pumping) return;
      pumping = true;
      void (async () => {
        for (;;) {
          const chunk = await conn.read();
          if (chunk === null) {
            d.push(null);
            return;
          }
          if (!d.push(Buffer.from(chunk))) {
            pumping = false;
            return;
          }
        }
      })().catch((e: Error) => d.destroy(e));
    },
    write(chunk: Buffer, _enc, cb) {
      conn.write(new Uint8Array(chunk)).then(() => cb(), cb);
    },
  });
  return d;
}

/** A DirMgr whose cache opener is the circuit manager's BEGIN_DIR on one-hop CREATE_FAST circuits. */
function cachingDirMgr(authorities: DirAuthority[], extra: Partial<ConstructorParameters<typeof DirMgr>[0]> = {}) {
  const chanMgr = new ChanMgr();
  let mgr: DirMgr | undefined;
  const circMgr = new CircMgr({ chanMgr, guardMgr: new GuardMgr(), netdir: () => mgr?.netdir });
  mgr = new DirMgr({ authorities, compressed: true, netDirOptions: { testNetwork: true }, cacheServer: (t) => circMgr.dirServer(t), ...extra });
  return { mgr, circMgr, close: () => (circMgr.closeAll(), chanMgr.closeAll()) };
}

async function waitFor(what: string, ms: number, cond: () => boolean, poke?: () => void): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    poke?.();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('tor directory against C tor authorities', () => {
  let net: TorNet;
  let authorities: DirAuthority[];
  let exitIds: Set<string>;

  beforeAll(async () => {
    net = await startTorNet({ authorities: 3, relays: 2, exits: 2, referenceClient: false });
    authorities = net.dirAuthorityLines.map(parseDirAuthorityLine);
    exitIds = new Set(net.relays.filter((r) => r.role === 'exit').map((r) => r.rsaFingerprint!));
  }, 240_000);

  afterAll(async () => {
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

      // Every relay has the Exit flag (TestingDirAuthVoteExit), but only the exits' `p` summaries accept
      // port 80; the authorities and middle relays publish none (reject *:*).
      expect(dir.relays().every((r) => r.flags.has('Exit'))).toBe(true);
      expect(new Set(exitCandidates(dir, 80).map((r) => r.rsaIdHex))).toEqual(exitIds);
      // tor's default exit-policy tail rejects SMTP: no exit for port 25.
      expect(selectPath(dir, cryptoRandom, { port: 25 })).toEqual({ ok: false, error: 'no-exit' });

      for (let i = 0; i < 50; i++) {
        const res = selectPath(dir, cryptoRandom, { port: 80 });
        expect(res.ok).toBe(true);
        if (!res.ok) break;
        const { guard, middle, exit } = res.path;
        expect(exitIds.has(exit.rsaIdHex)).toBe(true);
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

  it('bootstraps over BEGIN_DIR on one-hop CREATE_FAST circuits to the authorities, same bytes as the DirPort', async () => {
    // A young network's first consensus may not list every authority yet: wait for one that does.
    let known = await new DirMgr({ authorities, netDirOptions: { testNetwork: true } }).bootstrap();
    const listsAuthorities = (d: NetDir): boolean => net.authorities.slice(1).every((n) => d.relayByRsaId(n.rsaFingerprint!) !== undefined);
    for (const deadline = Date.now() + 60_000; !listsAuthorities(known) && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 2000));
      known = await new DirMgr({ authorities, netDirOptions: { testNetwork: true } }).bootstrap();
    }
    expect(listsAuthorities(known)).toBe(true);
    const channels: TlsChannel[] = [];
    try {
      // Authorities, not relays: C tor relays only start caching the microdesc consensus some 30-40 s
      // after they join (they answer 404 until then).
      const servers = await Promise.all(
        net.authorities.slice(1).map(async (n) => {
          const r = known.relayByRsaId(n.rsaFingerprint!)!;
          const ch = await openTlsChannel({ host: r.ip, port: r.orPort, expected: { rsaId: r.rsaIdentity, ed25519Id: r.ed25519Id } });
          channels.push(ch);
          const circ = await buildFastCircuit(ch);
          return { name: r.nickname, open: async () => dirStreamDuplex(await openDirStream(circ)) };
        }),
      );
      const mgr = new DirMgr({ authorities, servers, netDirOptions: { testNetwork: true } });
      const dir = await mgr.bootstrap().catch((e: Error) => {
        throw new Error(`${e.message}; ${mgr.counters.recentFetchErrors.join('; ')}; ${JSON.stringify(mgr.counters.rejected)}`);
      });
      expect(mgr.counters.fetchErrors).toBe(0);
      expect(Object.values(mgr.counters.rejected).every((n) => n === 0)).toBe(true);
      // A young network may publish a new consensus between the two bootstraps: then compare with
      // the DirPort's current one.
      const ref = dir.consensus.validAfter === known.consensus.validAfter ? known : await new DirMgr({ authorities, netDirOptions: { testNetwork: true } }).bootstrap();
      expect(dir.relays()).toHaveLength(ref.relays().length);
      expect(dir.missingMicrodescs()).toEqual([]);

      // Byte-compare one document fetched both ways (retry if a new consensus lands in between).
      const dirPort = dirPortOpener('127.0.0.1', net.authorities[1]!.dirPort!);
      let same = false;
      for (let attempt = 0; attempt < 3 && !same; attempt++) {
        const a = (await fetchDirRetrying(servers[0]!.open, { kind: 'consensus-microdesc' })).body;
        const b = (await fetchDirRetrying(dirPort, { kind: 'consensus-microdesc' })).body;
        same = a.equals(b);
      }
      expect(same).toBe(true);
    } finally {
      for (const ch of channels) ch.close();
    }
  }, 150_000);

  it('serves identical consensus bytes with and without deflate', async () => {
    const open = dirPortOpener('127.0.0.1', net.authorities[1]!.dirPort!);
    for (let attempt = 0; attempt < 3; attempt++) {
      const plain = (await fetchDirRetrying(open, { kind: 'consensus-microdesc' })).body;
      const z = (await fetchDirRetrying(open, { kind: 'consensus-microdesc' }, { compressed: true })).body;
      if (plain.equals(z)) return;
    }
    throw new Error('compressed and plain consensus differ in three consecutive tries');
  }, 90_000);

  it('after bootstrap fetches microdescriptors and consensus refreshes from relays as directory caches', async () => {
    // C tor relays cache the directory some seconds after the first consensus (a HUP resets their back-off).
    const nodes = net.authorities.length + net.relays.length;
    const ready = () => net.relays.every((r) => cachedConsensusValidAfter(r.dataDir) !== undefined && cachedMicrodescCount(r.dataDir) >= nodes);
    let poked = 0;
    await waitFor('relay directory caches', 60_000, ready, () => {
      if (poked++ % 10 === 0) for (const r of net.relays) if (!ready()) hupTor(r.pid, r.torrcFile);
    });

    const relayNames = new Set(net.relays.map((r) => r.nickname));
    const { mgr, circMgr, close } = cachingDirMgr(authorities);
    let refresher: DirRefresher | undefined;
    try {
      const dir = await mgr.bootstrap();
      // Every harness relay is a directory cache: V2Dir in the consensus.
      for (const r of net.relays) expect(dir.relayByRsaId(r.rsaFingerprint!)!.flags.has('V2Dir'), r.nickname).toBe(true);
      // The first consensus came from an authority; the microdescriptors from a relay over BEGIN_DIR.
      expect(mgr.lastGoodSource.get('consensus-microdesc')).toMatchObject({ source: 'authority' });
      const md = mgr.lastGoodSource.get('microdescs');
      expect(md).toMatchObject({ source: 'cache', outcome: 'ok' });
      expect(relayNames.has(md!.server)).toBe(true);
      expect(dir.missingMicrodescs()).toEqual([]);
      expect(mgr.counters.fetches['fetch-cache-ok']).toBeGreaterThanOrEqual(1);
      expect(circMgr.list().some((c) => c.purpose === 'dir' && relayNames.has(c.path[0]!))).toBe(true);
      expect(Object.values(mgr.counters.rejected).every((n) => n === 0)).toBe(true);

      // Refreshes on the consensus schedule (10 s intervals here) ask the caches first.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no consensus from a cache within 90 s: ${JSON.stringify(mgr.recentFetches)}`)), 90_000);
        refresher = startDirRefresh(mgr, {
          maxRetryMs: 5_000,
          onNetDir: () => {
            if (mgr.lastGoodSource.get('consensus-microdesc')?.source !== 'cache') return;
            clearTimeout(timer);
            resolve();
          },
        });
      });
      const c = mgr.lastGoodSource.get('consensus-microdesc')!;
      expect(relayNames.has(c.server)).toBe(true);
      expect(mgr.netdir!.consensus.validAfter).toBeGreaterThan(dir.consensus.validAfter);
      expect(mgr.netdir!.missingMicrodescs()).toEqual([]);
      expect(Object.values(mgr.counters.rejected).every((n) => n === 0)).toBe(true);
    } finally {
      refresher?.stop();
      close();
    }
  }, 180_000);

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

    // The two remaining authorities still reach quorum (2 of 3) on new consensuses; the refresh loop
    // fetches one on the dir-spec schedule.
    let refresher: DirRefresher | undefined;
    const next = await new Promise<NetDir>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no newer consensus within 60 s')), 60_000);
      refresher = startDirRefresh(mgr, {
        onNetDir: (d) => {
          clearTimeout(timer);
          resolve(d);
        },
      });
    }).finally(() => refresher?.stop());
    expect(mgr.netdir).toBe(next);
    expect(next.consensus.validAfter).toBeGreaterThan(first);
    expect(next.missingMicrodescs()).toEqual([]);
    const signers = new Set(next.consensus.signatures.map((s) => s.identity));
    expect(signers.has(dead.v3ident!)).toBe(false);
    expect(selectPath(next, cryptoRandom, { port: 80 }).ok).toBe(true);
  }, 120_000);

  it('moves on to another cache when the preferred one is dead, and leaves it alone for a while', async () => {
    const victim = net.relays.find((r) => r.role !== 'exit')!;
    await stopTor(victim.pid, victim.torrcFile);
    const relayNames = new Set(net.relays.map((r) => r.nickname));
    // The dead relay is our (directory) guard: asked first, as C tor asks its directory guards.
    const { mgr, close } = cachingDirMgr(authorities, { dirGuards: () => [victim.rsaFingerprint!] });
    try {
      const dir = await mgr.bootstrap();
      expect(dir.relayByRsaId(victim.rsaFingerprint!)?.flags.has('V2Dir')).toBe(true);
      const mdFetches = mgr.recentFetches.filter((f) => f.request === 'microdescs');
      expect(mdFetches[0]).toMatchObject({ server: victim.nickname, source: 'cache', outcome: 'failed' });
      const good = mgr.lastGoodSource.get('microdescs')!;
      expect(good.source).toBe('cache');
      expect(good.server).not.toBe(victim.nickname);
      expect(relayNames.has(good.server)).toBe(true);
      expect(dir.missingMicrodescs()).toEqual([]);
      expect(mgr.counters.fetches['fetch-cache-failed']).toBeGreaterThanOrEqual(1);
      expect(mgr.counters.recentFetchErrors.some((e) => e.startsWith(`${victim.nickname}: microdescs`))).toBe(true);
      // Out of the running for the next requests.
      expect(mgr.penalties.usable(victim.rsaFingerprint!, Date.now())).toBe(false);
      for (let i = 0; i < 20; i++) expect(mgr.sourcesFor().some((s) => s.id === victim.rsaFingerprint)).toBe(false);
    } finally {
      close();
    }
  }, 120_000);
});
