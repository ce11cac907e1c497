// Directory-cache selection: candidates from the consensus (V2Dir, not authorities, Wb* weights), the order
// of servers for one request (guards, weighted caches, authorities), and the penalty box, all with fed time.
import { describe, expect, it } from 'vitest';
import {
  DIR_FAILURE_PENALTY_MAX_MS,
  DIR_FAILURE_PENALTY_MS,
  DIR_REJECT_PENALTY_MS,
  DirSourcePenalties,
  dirCacheCandidates,
  planDirSources,
  type DirCacheTarget,
} from '../../../../src/tor/dirmgr/index.js';
import { NetDir } from '../../../../src/tor/netdir/index.js';
import { parseMdConsensus } from '../../../../src/tor/netdoc/index.js';
import { consensusText, hexIdOf, seededRandom, type SynthRelay } from '../netdir/synthetic.js';

const BASE = ['Fast', 'Running', 'Valid'];
const relays: SynthRelay[] = [
  { nick: 'guardcache', ip: '10.1.0.1', flags: [...BASE, 'Guard', 'V2Dir'], bw: 1000 },
  { nick: 'exitcache', ip: '10.2.0.1', flags: [...BASE, 'Exit', 'V2Dir'], bw: 1000 },
  { nick: 'middlecache', ip: '10.3.0.1', flags: [...BASE, 'V2Dir'], bw: 1000 },
  { nick: 'nodir', ip: '10.4.0.1', flags: [...BASE, 'Guard'], bw: 5000 },
  { nick: 'down', ip: '10.5.0.1', flags: ['Fast', 'Valid', 'V2Dir'], bw: 5000 },
  { nick: 'auth', ip: '10.6.0.1', flags: [...BASE, 'V2Dir'], bw: 5000 },
];
// Wbe=0: exits are kept for exit traffic; Wbm twice Wbg.
const dir = new NetDir(parseMdConsensus(consensusText(relays, 'Wbd=0 Wbe=0 Wbg=5000 Wbm=10000')));

function target(nick: string, weight = 1): DirCacheTarget {
  return { name: nick, nickname: nick, rsaId: Buffer.alloc(20), rsaIdHex: hexIdOf(nick), ed25519Id: undefined, addr: '127.0.0.1', port: 1, weight };
}

describe('dirCacheCandidates', () => {
  it('takes Running Valid V2Dir relays with an ORPort, never the authorities, weighted by Wb*', () => {
    const c = dirCacheCandidates(dir, new Set([hexIdOf('auth')]));
    expect(c.map((t) => t.nickname)).toEqual(['guardcache', 'exitcache', 'middlecache']);
    expect(Object.fromEntries(c.map((t) => [t.nickname, t.weight]))).toEqual({ guardcache: 500, exitcache: 0, middlecache: 1000 });
    const g = c[0]!;
    expect(g.rsaIdHex).toBe(hexIdOf('guardcache'));
    expect(g.addr).toBe('10.1.0.1');
    expect(g.port).toBe(9001);
    // No microdescriptor held yet: the RSA identity alone names the relay.
    expect(g.ed25519Id).toBeUndefined();
  });
});

describe('planDirSources', () => {
  const caches = ['a', 'b', 'c', 'd', 'e'].map((n, i) => target(n, i === 4 ? 1000 : 1));
  const authorities = ['auth:0', 'auth:1', 'auth:2'];
  const plan = (p: DirSourcePenalties, now: number, opts: { preferred?: string[]; maxCaches?: number; seed?: number } = {}) =>
    planDirSources({ caches, preferred: opts.preferred ?? [], authorities, penalties: p, now, rng: seededRandom(opts.seed ?? 1), maxCaches: opts.maxCaches ?? 3 });

  it('tries a bounded number of distinct caches, then every authority', () => {
    const p = plan(new DirSourcePenalties(), 0);
    expect(p.map((s) => s.kind)).toEqual(['cache', 'cache', 'cache', 'authority', 'authority', 'authority']);
    expect(new Set(p.map((s) => s.id)).size).toBe(6);
    expect(p.filter((s) => s.kind === 'authority').map((s) => s.id).sort()).toEqual(authorities);
  });

  it('picks caches in proportion to their weight', () => {
    let heavyFirst = 0;
    for (let seed = 0; seed < 400; seed++) if (plan(new DirSourcePenalties(), 0, { seed, maxCaches: 1 })[0]!.id === hexIdOf('e')) heavyFirst++;
    // e weighs 1000 of 1004.
    expect(heavyFirst).toBeGreaterThan(380);
  });

  it('asks our guards first when they are caches, in random order', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const p = plan(new DirSourcePenalties(), 0, { preferred: [hexIdOf('b').toLowerCase(), hexIdOf('c'), hexIdOf('not-a-cache')], seed });
      expect(new Set(p.slice(0, 2).map((s) => s.id))).toEqual(new Set([hexIdOf('b'), hexIdOf('c')]));
      expect(p[2]!.kind).toBe('cache');
      seen.add(p[0]!.id);
    }
    expect(seen.size).toBe(2);
  });

  it('skips penalized caches until their penalty is over; penalized authorities go last, soonest free first', () => {
    const box = new DirSourcePenalties();
    const t0 = 1_000_000;
    for (const n of ['a', 'b', 'c', 'd']) box.failed(hexIdOf(n), t0);
    box.rejected('auth:0', t0);
    box.failed('auth:1', t0);
    const p = plan(box, t0 + 1000);
    expect(p.map((s) => s.id)).toEqual([hexIdOf('e'), 'auth:2', 'auth:1', 'auth:0']);
    // A minute later the caches that failed once are back.
    const later = plan(box, t0 + DIR_FAILURE_PENALTY_MS);
    expect(later.filter((s) => s.kind === 'cache')).toHaveLength(3);
    expect(later.slice(3).map((s) => s.id)).toEqual(expect.arrayContaining(['auth:1', 'auth:2']));
    expect(later[later.length - 1]!.id).toBe('auth:0');
  });

  it('goes straight to the authorities when no cache is usable', () => {
    const p = planDirSources({ caches: [], preferred: [], authorities, penalties: new DirSourcePenalties(), now: 0, rng: seededRandom(3), maxCaches: 3 });
    expect(p.every((s) => s.kind === 'authority')).toBe(true);
    expect(p).toHaveLength(3);
  });
});

describe('DirSourcePenalties', () => {
  it('doubles the penalty per consecutive failure, capped; a success clears it', () => {
    const box = new DirSourcePenalties();
    let now = 0;
    const lengths: number[] = [];
    for (let i = 0; i < 8; i++) {
      const until = box.failed('x', now);
      lengths.push(until - now);
      expect(box.usable('x', until - 1)).toBe(false);
      expect(box.usable('x', until)).toBe(true);
      now = until;
    }
    expect(lengths.slice(0, 4)).toEqual([1, 2, 4, 8].map((k) => k * DIR_FAILURE_PENALTY_MS));
    expect(Math.max(...lengths)).toBe(DIR_FAILURE_PENALTY_MAX_MS);
    box.succeeded('x');
    expect(box.usable('x', now)).toBe(true);
    expect(box.failed('x', now) - now).toBe(DIR_FAILURE_PENALTY_MS);
  });

  it('keeps a server that served a bad document out for an hour; a later failure does not shorten it', () => {
    const box = new DirSourcePenalties();
    box.rejected('liar', 0);
    box.failed('liar', 10);
    expect(box.usable('liar', DIR_REJECT_PENALTY_MS - 1)).toBe(false);
    expect(box.usable('liar', DIR_REJECT_PENALTY_MS)).toBe(true);
  });

  it('is bounded: expired entries go first, then the oldest', () => {
    const box = new DirSourcePenalties(3);
    box.failed('old', 0);
    box.failed('a', 100_000);
    box.failed('b', 100_000);
    box.failed('c', 100_000);
    expect(box.size).toBe(3);
    expect(box.until('old')).toBeUndefined();
    box.failed('d', 100_000);
    expect(box.size).toBe(3);
    expect(box.usable('a', 100_001)).toBe(true);
    expect(box.usable('d', 100_001)).toBe(false);
  });
});
