import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMdConsensus, parseMicrodescs } from '../../../../src/tor/netdoc/index.js';
import { NetDir } from '../../../../src/tor/netdir/index.js';
import { GuardMgr, fileGuardStore, memoryGuardStore, parseGuardState } from '../../../../src/tor/guardmgr/index.js';
import { consensusText, microdescText, seededRandom, type SynthRelay } from '../netdir/synthetic.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

function relays(nGuards: number, nOthers = 2): SynthRelay[] {
  const out: SynthRelay[] = [];
  for (let i = 0; i < nGuards; i++) out.push({ nick: `g${i}`, ip: `10.${i}.0.1`, flags: ['Fast', 'Guard', 'Running', 'Stable', 'Valid'], bw: 100 + i });
  for (let i = 0; i < nOthers; i++) out.push({ nick: `x${i}`, ip: `11.${i}.0.1`, flags: ['Exit', 'Fast', 'Running', 'Valid'], bw: 100, md: ['p accept 80'] });
  return out;
}

function dirOf(rs: SynthRelay[], params = ''): NetDir {
  return new NetDir(parseMdConsensus(consensusText(rs, '', params)), parseMicrodescs(rs.map(microdescText).join('')), { testNetwork: true });
}

describe('GuardMgr', () => {
  it('samples at most 20 guards and at most 20% of them, never fewer than the primaries', () => {
    const big = new GuardMgr(undefined, { rng: seededRandom(1) });
    big.update(dirOf(relays(200)), 0);
    expect(big.sampled).toHaveLength(20);
    const mid = new GuardMgr(undefined, { rng: seededRandom(1) });
    mid.update(dirOf(relays(30)), 0);
    expect(mid.sampled).toHaveLength(6);
    const small = new GuardMgr(undefined, { rng: seededRandom(1) });
    small.update(dirOf(relays(5)), 0);
    expect(small.sampled).toHaveLength(3);
    // Only Guard-flagged relays are sampled.
    expect(big.sampled.every((g) => g.nickname.startsWith('g'))).toBe(true);
    expect(new Set(big.sampled.map((g) => g.id)).size).toBe(20);
  });

  it('uses 3 primaries, or guard-n-primary-guards-to-use from the consensus', () => {
    const g = new GuardMgr(undefined, { rng: seededRandom(2) });
    g.update(dirOf(relays(50)), 0);
    expect(g.primaries).toHaveLength(3);
    const live = new GuardMgr(undefined, { rng: seededRandom(2) });
    live.update(dirOf(relays(50), 'guard-n-primary-guards-to-use=2'), 0);
    expect(live.primaries).toHaveLength(2);
  });

  it('picks the first reachable primary, skips a failed one, retries it after 10 minutes', () => {
    const dir = dirOf(relays(50));
    const g = new GuardMgr(undefined, { rng: seededRandom(3) });
    g.update(dir, 0);
    const [p0, p1] = g.primaries;
    expect(g.pick(dir, 0)!.rsaIdHex).toBe(p0);
    g.noteFailure(p0!, 1000);
    expect(g.pick(dir, 2000)!.rsaIdHex).toBe(p1);
    expect(g.pick(dir, 1000 + 9 * MIN)!.rsaIdHex).toBe(p1);
    expect(g.pick(dir, 1000 + 10 * MIN)!.rsaIdHex).toBe(p0);
    expect(g.summary(2000).find((s) => s.id === p0)!.reachable).toBe('no');
  });

  it('confirms guards in the order they first carried a circuit; confirmed guards lead the primaries', () => {
    const dir = dirOf(relays(50));
    const g = new GuardMgr(undefined, { rng: seededRandom(4) });
    g.update(dir, 0);
    const last = g.sampled[g.sampled.length - 1]!.id;
    const third = g.sampled[2]!.id;
    g.noteSuccess(last, 10);
    g.noteSuccess(third, 20);
    expect(g.confirmed().map((x) => x.id)).toEqual([last, third]);
    g.update(dir, 30);
    expect(g.primaries.slice(0, 2)).toEqual([last, third]);
    expect(g.counters.get('confirmed')).toBe(2);
  });

  it('never picks a guard the consensus no longer lists, and drops it after 20 days', () => {
    const rs = relays(20);
    const g = new GuardMgr(undefined, { rng: seededRandom(5) });
    g.update(dirOf(rs), 0);
    const first = g.primaries[0]!;
    const without = rs.filter((r) => dirOf([r]).relays()[0]!.rsaIdHex !== first);
    const dir2 = dirOf(without);
    g.update(dir2, DAY);
    expect(g.pick(dir2, DAY)!.rsaIdHex).not.toBe(first);
    expect(g.primaries).not.toContain(first);
    expect(g.sampled.find((s) => s.id === first)!.unlistedSince).toBe(DAY);
    g.update(dir2, 21 * DAY + 1);
    expect(g.sampled.find((s) => s.id === first)).toBeUndefined();
    expect(g.counters.get('removed-unlisted')).toBe(1);
  });

  it('returns no guard when every sampled guard failed recently', () => {
    const dir = dirOf(relays(5));
    const g = new GuardMgr(undefined, { rng: seededRandom(6) });
    g.update(dir, 0);
    for (const s of g.sampled) g.noteFailure(s.id, 0);
    expect(g.pick(dir, 1000)).toBeUndefined();
    expect(g.counters.get('no-guard-usable')).toBe(1);
  });

  it('persists its state as JSON in the data directory and reloads it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'onionplane-guards-'));
    try {
      const net = dirOf(relays(30));
      const store = fileGuardStore(dir);
      const g = await GuardMgr.load(store, { rng: seededRandom(7) });
      g.update(net, 0);
      g.noteSuccess(g.primaries[1]!, 5);
      await g.flush();
      const text = await readFile(join(dir, 'guards.json'), 'utf8');
      expect(JSON.parse(text).sampled).toHaveLength(6);
      const again = await GuardMgr.load(fileGuardStore(dir), { rng: seededRandom(99) });
      again.update(net, 10);
      expect(again.sampled.map((s) => s.id)).toEqual(g.sampled.map((s) => s.id));
      expect(again.primaries[0]).toBe(g.confirmed()[0]!.id);
      // A corrupt file starts a fresh sample instead of failing.
      await writeFile(join(dir, 'guards.json'), '{not json');
      expect((await fileGuardStore(dir).load()).sampled).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects malformed entries in a state file', () => {
    const s = parseGuardState(JSON.stringify({ version: 1, sampled: [{ id: 'nothex' }, { id: 'A'.repeat(40), nickname: 'a', addedAt: 1, unlistedSince: null, confirmedAt: null, lastTriedAt: null, failingSince: null }] }));
    expect(s.sampled).toHaveLength(1);
    expect(parseGuardState('{"version":2,"sampled":[]}').sampled).toEqual([]);
    expect(memoryGuardStore().state.sampled).toEqual([]);
  });
});
