// DirMgr with directory caches: the first consensus from the authorities, then microdescriptors, consensus
// refreshes and missing certificates from V2Dir relays (guards first), retried on another cache after a
// failure or a bad document, the authorities last; penalties and counters under a fed clock.
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIR_FAILURE_PENALTY_MS, DIR_REJECT_PENALTY_MS, DirMgr, type DirCacheTarget, type DirMgrConfig, type DirServer } from '../../../../src/tor/dirmgr/index.js';
import { authorities, consensus, deadServer, fakeServer, goodHandler, tamperedConsensus, tamperedMicrodescs, type Handler } from './fake-dir-server.js';
import { seededRandom } from '../netdir/synthetic.js';

const RELAYS = ['relay0', 'relay1', 'relay2', 'relay3'];
const AUTH_NAMES = ['auth0', 'auth1', 'auth2'];
const ID: Record<string, string> = {
  relay0: '725F2BF651FEB2C09929B1A4F1B655A24F80BB56',
  relay1: '066EF2E4AF3F662B890F91361A13CF61384ABAB3',
  relay2: '11B1283304718AFD72A10BD56693DB4E510E2165',
  relay3: '32D037447A9684E2570EB9BFFD5B7C60B56C2873',
};

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A test rig: authorities and caches answering from fixtures, a mutable clock, one request log. */
function rig(opts: { caches?: Record<string, Handler | 'dead'>; authority?: Handler | 'dead'; cfg?: Partial<DirMgrConfig> } = {}) {
  const log: string[] = [];
  const clock = { now: consensus.validAfter };
  const cacheHandlers: Record<string, Handler | 'dead'> = { ...Object.fromEntries(RELAYS.map((r) => [r, goodHandler])), ...opts.caches };
  const servers = AUTH_NAMES.map((n): DirServer => (opts.authority === 'dead' ? deadServer(n, log) : fakeServer(n, opts.authority ?? goodHandler, log)));
  const targets: DirCacheTarget[] = [];
  const mgr = new DirMgr({
    authorities,
    servers,
    cacheServer: (t) => {
      targets.push(t);
      const h = cacheHandlers[t.nickname]!;
      return h === 'dead' ? deadServer(t.nickname, log) : fakeServer(t.nickname, h, log);
    },
    clock: () => clock.now,
    rng: seededRandom(7),
    netDirOptions: { testNetwork: true },
    ...opts.cfg,
  });
  const asked = (what: string) => log.filter((l) => l.includes(what) || l.endsWith('refused')).map((l) => l.split(' ')[0]!);
  return { mgr, log, clock, targets, cacheHandlers, asked };
}

const isAuth = (name: string) => AUTH_NAMES.includes(name);

describe('DirMgr with directory caches', () => {
  it('takes the first consensus and certificates from an authority, then microdescriptors from a cache', async () => {
    const { mgr, log, targets } = rig();
    const dir = await mgr.bootstrap();
    expect(dir.missingMicrodescs()).toEqual([]);
    const byServer = (p: string) => log.filter((l) => l.includes(p)).map((l) => l.split(' ')[0]!);
    expect(byServer('/tor/keys/all').every(isAuth)).toBe(true);
    expect(byServer('consensus-microdesc').every(isAuth)).toBe(true);
    expect(byServer('/tor/micro/d/')).toHaveLength(1);
    expect(RELAYS).toContain(byServer('/tor/micro/d/')[0]);
    expect(mgr.counters.fetches).toMatchObject({ 'fetch-authority-ok': 2, 'fetch-cache-ok': 1, 'fetch-cache-failed': 0, 'fetch-no-cache': 0 });
    expect(mgr.lastGoodSource.get('microdescs')).toMatchObject({ source: 'cache', outcome: 'ok' });
    expect(mgr.lastGoodSource.get('consensus-microdesc')).toMatchObject({ source: 'authority' });
    // Caches are reached by their ORPort and identities from the consensus; authorities are never caches.
    const t = targets[0]!;
    expect(t.rsaIdHex).toBe(ID[t.nickname]);
    expect(t.addr).toBe('127.0.0.1');
    expect(t.port).toBeGreaterThan(0);
    expect(targets.some((x) => isAuth(x.nickname))).toBe(false);
  });

  it('retries on another cache when one is down; the failed ones stay out for a minute', async () => {
    const { mgr, clock, asked } = rig({ caches: { relay0: 'dead', relay1: 'dead', relay2: 'dead' }, cfg: { maxCacheAttempts: 4 } });
    await mgr.bootstrap();
    const tried = asked('/tor/micro/d/');
    expect(tried[tried.length - 1]).toBe('relay3');
    expect(tried.slice(0, -1).every((n) => ['relay0', 'relay1', 'relay2'].includes(n))).toBe(true);
    expect(mgr.counters.fetches['fetch-cache-failed']).toBe(tried.length - 1);
    expect(mgr.counters.fetches['fetch-cache-ok']).toBe(1);
    const failed = new Set(tried.slice(0, -1));

    // A refresh a little later skips the caches that failed.
    clock.now += 1000;
    const before = asked('consensus-microdesc').length;
    expect(await mgr.refresh()).toBe(false); // the fixture consensus is not newer than ours
    const refreshTried = asked('consensus-microdesc').slice(before);
    for (const n of failed) expect(refreshTried).not.toContain(n);
    expect(refreshTried[0]).toMatch(/^relay/);

    // A minute after their failure they are candidates again.
    clock.now += DIR_FAILURE_PENALTY_MS;
    for (const n of failed) expect(mgr.penalties.usable(ID[n]!, clock.now)).toBe(true);
  });

  it('counts tampered microdescriptors from a guard cache, keeps that cache out for an hour, gets the rest elsewhere', async () => {
    const { mgr, clock, asked } = rig({ caches: { relay0: () => tamperedMicrodescs() }, cfg: { dirGuards: () => [ID.relay0!] } });
    const dir = await mgr.bootstrap();
    const tried = asked('/tor/micro/d/');
    expect(tried[0]).toBe('relay0'); // our guard first
    expect(RELAYS).toContain(tried[1]);
    expect(tried[1]).not.toBe('relay0');
    expect(dir.missingMicrodescs()).toEqual([]);
    expect(mgr.counters.rejected['digest-mismatch']).toBe(1);
    expect(mgr.counters.fetches).toMatchObject({ 'fetch-cache-rejected': 1, 'fetch-cache-ok': 1 });
    expect(mgr.penalties.usable(ID.relay0!, clock.now + DIR_REJECT_PENALTY_MS - 1)).toBe(false);
    expect(mgr.penalties.usable(ID.relay0!, clock.now + DIR_REJECT_PENALTY_MS)).toBe(true);
    // While it is out, even as our guard it is not asked.
    expect(mgr.sourcesFor().some((s) => s.id === ID.relay0)).toBe(false);
  });

  it('asks caches for a refresh first; a tampered consensus is counted and that cache not used again', async () => {
    const { mgr, log, cacheHandlers, clock } = rig({ cfg: { dirGuards: () => [ID.relay1!], maxCacheAttempts: 2 } });
    await mgr.bootstrap();
    cacheHandlers.relay1 = (p) => (p.includes('consensus') ? tamperedConsensus() : goodHandler(p));
    clock.now += 1000;
    const from = log.length;
    expect(await mgr.refresh()).toBe(false);
    const order = log.slice(from).filter((l) => l.includes('consensus')).map((l) => l.split(' ')[0]!);
    expect(order[0]).toBe('relay1');
    expect(RELAYS).toContain(order[1]);
    // The first authority has nothing newer either: no point asking the others.
    expect(order.slice(2)).toHaveLength(1);
    expect(isAuth(order[2]!)).toBe(true);
    expect(mgr.counters.rejected['bad-signature']).toBe(1);
    expect(mgr.counters.fetches['fetch-cache-rejected']).toBe(1);
    const recent = mgr.recentFetches.filter((r) => r.request === 'consensus-microdesc').slice(-order.length);
    expect(recent[0]).toMatchObject({ server: 'relay1', source: 'cache', outcome: 'rejected' });
    // The others served our own consensus again: stale, not lies.
    expect(recent.slice(1).every((r) => r.outcome === 'failed')).toBe(true);
    clock.now += 1000;
    expect(mgr.sourcesFor().some((s) => s.id === ID.relay1)).toBe(false);
  });

  it('falls back to the authorities when every cache fails, and counts refreshes with no usable cache', async () => {
    const { mgr, asked } = rig({ caches: Object.fromEntries(RELAYS.map((r) => [r, 'dead' as const])), cfg: { maxCacheAttempts: 4 } });
    const dir = await mgr.bootstrap();
    expect(dir.missingMicrodescs()).toEqual([]);
    const tried = asked('/tor/micro/d/');
    expect(tried.filter((n) => RELAYS.includes(n)).sort()).toEqual(RELAYS);
    expect(isAuth(asked('/tor/micro/d/').pop()!)).toBe(true);
    expect(mgr.counters.fetches).toMatchObject({ 'fetch-cache-failed': 4, 'fetch-authority-ok': 3, 'fetch-no-cache': 0 });
    expect(mgr.lastGoodSource.get('microdescs')).toMatchObject({ source: 'authority' });
    await mgr.refresh();
    expect(mgr.counters.fetches['fetch-no-cache']).toBe(1);
  });

  it('asks the cache that sent a consensus for missing certificates, then the authorities', async () => {
    const { mgr, log, cacheHandlers, clock } = rig({ cfg: { dirGuards: () => [ID.relay2!], maxCacheAttempts: 1 } });
    await mgr.bootstrap();
    // As if two authorities had rotated their signing keys.
    const certs = (mgr as unknown as { certsById: Map<string, unknown> }).certsById;
    for (const fp of [...certs.keys()].slice(0, 2)) certs.delete(fp);
    cacheHandlers.relay2 = (p) => (p.startsWith('/tor/keys/') ? undefined : goodHandler(p));
    clock.now += 1000;
    const from = log.length;
    await mgr.refresh();
    const fpsk = log.slice(from).filter((l) => l.includes('/tor/keys/fp-sk/')).map((l) => l.split(' ')[0]!);
    expect(fpsk[0]).toBe('relay2');
    expect(isAuth(fpsk[1]!)).toBe(true);
    expect(fpsk).toHaveLength(2);
    expect(mgr.certs()).toHaveLength(3);
    expect(mgr.counters.rejected['bad-signature'] + mgr.counters.rejected['no-quorum']).toBe(0);
  });

  it('does not take a cache for a liar when the certificates its consensus needs are nowhere to be had', async () => {
    const noKeys: Handler = (p) => (p.startsWith('/tor/keys/fp-sk/') ? undefined : goodHandler(p));
    const { mgr, cacheHandlers, clock } = rig({ authority: noKeys, cfg: { dirGuards: () => [ID.relay2!], maxCacheAttempts: 1 } });
    await mgr.bootstrap();
    const certs = (mgr as unknown as { certsById: Map<string, unknown> }).certsById;
    for (const fp of [...certs.keys()].slice(0, 2)) certs.delete(fp);
    cacheHandlers.relay2 = noKeys;
    clock.now += 1000;
    await mgr.refresh();
    // Refused and counted, as any consensus without quorum; the cache failed, it did not lie.
    expect(mgr.counters.rejected['no-quorum']).toBeGreaterThanOrEqual(1);
    const fromCache = mgr.recentFetches.filter((r) => r.request === 'consensus-microdesc' && r.source === 'cache');
    expect(fromCache).toEqual([expect.objectContaining({ server: 'relay2', outcome: 'failed' })]);
    expect(mgr.counters.fetches['fetch-cache-rejected']).toBe(0);
    // Two failures in a row (its 404 for the certificates, then the consensus): two minutes, not an hour.
    expect(mgr.penalties.until(ID.relay2!)).toBe(clock.now + 2 * DIR_FAILURE_PENALTY_MS);
  });

  it('after a restart with a reasonably live cached consensus, fetches microdescriptors from caches only', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'onionplane-dircache-'));
    tmpDirs.push(cacheDir);
    await rig({ cfg: { cacheDir } }).mgr.bootstrap();
    unlinkSync(join(cacheDir, 'cached-microdescs'));
    const { mgr, clock, asked } = rig({ authority: 'dead', cfg: { cacheDir } });
    clock.now = consensus.validUntil + 3600_000;
    const dir = await mgr.bootstrap();
    expect(dir.missingMicrodescs()).toEqual([]);
    expect(asked('refused')).toEqual([]);
    expect(mgr.counters.fetches).toMatchObject({ 'fetch-cache-ok': 1, 'fetch-authority-ok': 0, 'fetch-authority-failed': 0 });
  });

  it('uses no cache once the consensus is too old to trust', async () => {
    const { mgr, clock } = rig();
    await mgr.bootstrap();
    clock.now = consensus.validUntil + 25 * 3600_000;
    expect(mgr.sourcesFor().every((s) => s.kind === 'authority')).toBe(true);
  });
});
