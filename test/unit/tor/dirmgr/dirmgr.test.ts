import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DirBootstrapError, DirCounters, DirMgr, startDirRefresh, acceptCerts, acceptMicrodescs, nextConsensusFetchTime, retryDelayMs, type DirServer } from '../../../../src/tor/dirmgr/index.js';
import { parseAuthCerts, parseDirAuthorityLine, parseMdConsensus } from '../../../../src/tor/netdoc/index.js';

const fixtures = fileURLToPath(new URL('../../../fixtures/tor/netdoc/', import.meta.url));
const fx = (n: string) => readFileSync(fixtures + n);
const authorities = fx('dir-authorities.txt').toString().split('\n').filter((l) => l !== '').map(parseDirAuthorityLine);
const consensusRaw = fx('consensus-microdesc.txt');
const consensus = parseMdConsensus(consensusRaw);
const certsRaw = fx('keys-all.txt');
const mdsRaw = fx('microdescs.txt');
const certTexts = parseAuthCerts(certsRaw).map((c) => c.text);

function seeded(seed: number) {
  let a = seed;
  return { next: () => ((a = (a * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) };
}

type Handler = (path: string) => Buffer | string | undefined;

/** A directory server answering from fixtures; records requested paths. */
function fakeServer(name: string, handler: Handler, log: string[] = []): DirServer {
  return {
    name,
    open: async () => {
      let req = '';
      const d = new Duplex({
        read() {},
        write(chunk: Buffer, _e, cb) {
          req += chunk.toString('latin1');
          if (req.endsWith('\r\n\r\n')) {
            const path = req.split(' ')[1]!;
            log.push(path);
            const body = handler(path);
            d.push(body === undefined ? 'HTTP/1.0 404 Not found\r\n\r\n' : Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), Buffer.from(body)]));
            d.push(null);
          }
          cb();
        },
      });
      return d;
    },
  };
}

const goodHandler: Handler = (path) => {
  if (path === '/tor/keys/all') return certsRaw;
  if (path === '/tor/status-vote/current/consensus-microdesc') return consensusRaw;
  if (path.startsWith('/tor/micro/d/')) return mdsRaw;
  return undefined;
};

const deadServer: DirServer = { name: 'dead', open: () => Promise.reject(new Error('ECONNREFUSED')) };
const tmpDirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'onionplane-dirmgr-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const base = { authorities, clock: () => consensus.validAfter, netDirOptions: { testNetwork: true } };

describe('DirMgr bootstrap', () => {
  it('fetches certs, consensus, microdescs and caches them; a restart loads the cache', async () => {
    const cacheDir = tmp();
    const log: string[] = [];
    const mgr = new DirMgr({ ...base, servers: [deadServer, fakeServer('a', goodHandler, log)], cacheDir, rng: seeded(1) });
    const dir = await mgr.bootstrap();
    expect(dir.relays()).toHaveLength(7);
    expect(log[0]).toBe('/tor/keys/all');
    expect(log).toContain('/tor/status-vote/current/consensus-microdesc');
    expect(log.filter((p) => p.startsWith('/tor/micro/d/'))).toHaveLength(1);
    expect(mgr.counters.accepted).toEqual({ cert: 3, consensus: 1, microdesc: 7 });
    expect(Object.values(mgr.counters.rejected).every((n) => n === 0)).toBe(true);
    const at = mgr.nextRefreshAt()!;
    expect(at).toBeGreaterThanOrEqual(consensus.freshUntil);
    expect(at).toBeLessThan(consensus.validUntil);
    expect(existsSync(join(cacheDir, 'cached-microdesc-consensus'))).toBe(true);
    expect(readFileSync(join(cacheDir, 'cached-microdesc-consensus')).equals(consensusRaw)).toBe(true);

    const restarted = new DirMgr({ ...base, servers: [deadServer], cacheDir, clock: () => consensus.validUntil + 3600_000 });
    const again = await restarted.bootstrap();
    expect(again.relays()).toHaveLength(7);
    expect(restarted.counters.accepted).toEqual({ cert: 3, consensus: 1, microdesc: 7 });

    const tooOld = new DirMgr({ ...base, servers: [deadServer], cacheDir, clock: () => consensus.validUntil + 25 * 3600_000 });
    await expect(tooOld.bootstrap()).rejects.toBeInstanceOf(DirBootstrapError);
    expect(tooOld.counters.rejected.expired).toBe(1);
  });

  it('counts a consensus with one changed byte as bad-signature and uses another server', async () => {
    const text = consensusRaw.toString('latin1');
    const at = text.indexOf('\nr relay1 ') + 4;
    const tampered = text.slice(0, at) + 'Z' + text.slice(at + 1);
    const evil = fakeServer('evil', (p) => (p.includes('consensus') ? tampered : goodHandler(p)));
    const only = new DirMgr({ ...base, servers: [evil] });
    await expect(only.bootstrap()).rejects.toThrow(/no valid consensus/);
    expect(only.counters.rejected['bad-signature']).toBe(1);
    const both = new DirMgr({ ...base, servers: [evil, fakeServer('good', goodHandler)], rng: seeded(5) });
    expect((await both.bootstrap()).relays()).toHaveLength(7);
  });

  it('counts a consensus with too few signatures as no-quorum', async () => {
    const text = consensusRaw.toString('latin1');
    const cut = text.split(/(?=^directory-signature )/m);
    const mgr = new DirMgr({ ...base, servers: [fakeServer('s', (p) => (p.includes('consensus') ? cut[0]! + cut[1]! : goodHandler(p)))] });
    await expect(mgr.bootstrap()).rejects.toThrow();
    expect(mgr.counters.rejected['no-quorum']).toBe(1);
  });

  it('fetches missing certificates by signing key when keys/all is incomplete', async () => {
    const log: string[] = [];
    const server = fakeServer(
      's',
      (p) => {
        if (p === '/tor/keys/all') return certTexts[0];
        if (p.startsWith('/tor/keys/fp-sk/')) return certTexts.slice(1).join('');
        return goodHandler(p);
      },
      log,
    );
    const mgr = new DirMgr({ ...base, servers: [server] });
    expect((await mgr.bootstrap()).relays()).toHaveLength(7);
    const fpsk = log.find((p) => p.startsWith('/tor/keys/fp-sk/'))!;
    expect(fpsk.split('/').pop()!.split('+')).toHaveLength(2);
    expect(mgr.certs()).toHaveLength(3);
  });

  it('counts substituted microdescriptors as digest mismatches', async () => {
    const text = mdsRaw.toString('latin1');
    const at = text.indexOf('ntor-onion-key ') + 20;
    const bad = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const mgr = new DirMgr({ ...base, servers: [fakeServer('s', (p) => (p.startsWith('/tor/micro/') ? bad : goodHandler(p)))] });
    const dir = await mgr.bootstrap();
    expect(dir.relays()).toHaveLength(6);
    expect(dir.missingMicrodescs()).toHaveLength(1);
    expect(mgr.counters.rejected['digest-mismatch']).toBe(1);
  });

  it('short of paths, asks for a newer consensus before giving up, and says which positions are short', async () => {
    const log: string[] = [];
    let withMds = false;
    const server = fakeServer('s', (p) => (p.startsWith('/tor/micro/') && !withMds ? undefined : goodHandler(p)), log);
    const mgr = new DirMgr({ ...base, servers: [server] });
    await expect(mgr.bootstrap()).rejects.toThrow(/^only 0% of paths available \(guards 0\/\d+, middles 0\/7, exits 0\/\d+ usable relays with microdescriptors\)$/);
    // The second consensus request: what a young network's newer consensus would answer.
    expect(log.filter((p) => p === '/tor/status-vote/current/consensus-microdesc')).toHaveLength(2);
    withMds = true;
    expect((await mgr.bootstrap()).haveEnoughPaths()).toBe(true);
  });

  it('refuses certificates of unknown authorities and wrong identities', () => {
    const counters = new DirCounters();
    const certs = acceptCerts(certsRaw, authorities.slice(0, 2), consensus.validAfter, counters);
    expect(certs).toHaveLength(2);
    expect(counters.rejected['unknown-authority']).toBe(1);
    expect(acceptCerts('garbage\n', authorities, 0, counters)).toEqual([]);
    expect(counters.rejected.malformed).toBe(1);
    expect(acceptCerts(certsRaw, authorities, Date.UTC(2100, 0, 1), counters)).toEqual([]);
    expect(counters.rejected.expired).toBe(3);
    expect(acceptMicrodescs('nope\n', [], counters)).toEqual([]);
    expect(counters.rejectedByKind.microdesc).toBe(1);
  });
});

describe('refresh schedule', () => {
  it('falls between fresh-until and valid-until, spread by the random source', () => {
    const c = { validAfter: 0, freshUntil: 3600_000, validUntil: 3 * 3600_000 };
    const times = [0, 0.5, 0.999999].map((r) => nextConsensusFetchTime(c, { next: () => r }));
    expect(times[0]).toBe(3600_000 + 2700_000);
    expect(times[2]).toBeLessThan(c.validUntil);
    expect(times[1]).toBeGreaterThan(times[0]!);
    // Test-network timing: 10 s intervals, valid for 3.
    const t = { validAfter: 0, freshUntil: 10_000, validUntil: 30_000 };
    for (const r of [0, 0.3, 0.99]) {
      const at = nextConsensusFetchTime(t, { next: () => r });
      expect(at).toBeGreaterThanOrEqual(10_000);
      expect(at).toBeLessThan(30_000);
    }
    expect(retryDelayMs(0, { next: () => 0 })).toBe(500);
    expect(retryDelayMs(40, { next: () => 0.999 })).toBeLessThanOrEqual(60_000);
  });
});

describe('refresh loop', () => {
  afterEach(() => vi.useRealTimers());

  it('fetches no earlier than scheduled and backs off when nothing newer arrives', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(consensus.validAfter);
    const log: string[] = [];
    const mgr = new DirMgr({ authorities, servers: [fakeServer('a', goodHandler, log)], rng: { next: () => 0 }, netDirOptions: { testNetwork: true } });
    await mgr.bootstrap();
    const settle = async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    };
    const fetched = () => log.filter((p) => p.includes('consensus')).length;
    expect(fetched()).toBe(1);
    const installed: unknown[] = [];
    const refresher = startDirRefresh(mgr, { onNetDir: (d) => installed.push(d), rng: { next: () => 0 } });
    const at = mgr.nextRefreshAt()!;
    await vi.advanceTimersByTimeAsync(at - Date.now() - 1);
    await settle();
    expect(fetched()).toBe(1);
    await vi.advanceTimersByTimeAsync(2);
    await settle();
    expect(fetched()).toBe(2);
    expect(refresher.attempts).toBe(1);
    // Same consensus again: not installed, retried after the (jittered) back-off, not in a tight loop.
    await vi.advanceTimersByTimeAsync(400);
    await settle();
    expect(fetched()).toBe(2);
    await vi.advanceTimersByTimeAsync(200);
    await settle();
    expect(fetched()).toBe(3);
    expect(installed).toEqual([]);
    refresher.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    await settle();
    expect(fetched()).toBe(3);
  });
});
