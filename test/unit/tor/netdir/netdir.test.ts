import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseMdConsensus, parseMicrodescs } from '../../../../src/tor/netdoc/index.js';
import { NetDir, pickWeighted, selectPath, guardCandidates, relayWeight, bandwidthWeightsFrom, sameFamily } from '../../../../src/tor/netdir/index.js';
import { consensusText, hexIdOf, microdescText, seededRandom, type SynthRelay } from './synthetic.js';

const fixtures = fileURLToPath(new URL('../../../fixtures/tor/netdoc/', import.meta.url));
const fx = (n: string) => readFileSync(fixtures + n);

function synthDir(relays: SynthRelay[], weights = '', opts = {}, params = ''): NetDir {
  const c = parseMdConsensus(consensusText(relays, weights, params));
  return new NetDir(c, parseMicrodescs(relays.map(microdescText).join('')), opts);
}

describe('NetDir from the captured private network', () => {
  const consensus = parseMdConsensus(fx('consensus-microdesc.txt'));
  const mds = parseMicrodescs(fx('microdescs.txt'));

  it('joins every relay with its microdescriptor', () => {
    const dir = new NetDir(consensus, mds, { testNetwork: true });
    expect(dir.relays()).toHaveLength(7);
    expect(dir.missingMicrodescs()).toEqual([]);
    expect(dir.fractionOfPathsAvailable()).toBe(1);
    expect(dir.haveEnoughPaths()).toBe(true);
    const relay2 = dir.relays().find((r) => r.nickname === 'relay2')!;
    expect(relay2.ntorOnionKey).toHaveLength(32);
    expect(dir.relayByRsaId(relay2.rsaIdHex.toLowerCase())).toBe(relay2);
  });

  it('selects 3 distinct relays, never one family, exit by p policy', () => {
    const dir = new NetDir(consensus, mds, { testNetwork: true });
    const rng = seededRandom(7);
    const byNick = (n: string) => dir.relays().find((r) => r.nickname === n)!;
    expect(sameFamily(byNick('relay0'), byNick('relay1'))).toBe(true);
    const middles = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const res = selectPath(dir, rng, { port: 80 });
      expect(res.ok).toBe(true);
      if (!res.ok) continue;
      const { guard, middle, exit } = res.path;
      expect(exit.nickname).toBe('relay2');
      expect(new Set([guard.rsaIdHex, middle.rsaIdHex, exit.rsaIdHex]).size).toBe(3);
      expect(guard.flags.has('Guard')).toBe(true);
      const names = [guard.nickname, middle.nickname];
      expect(names.includes('relay0') && names.includes('relay1')).toBe(false);
      middles.add(middle.nickname);
    }
    expect(middles.size).toBeGreaterThanOrEqual(4);
    expect(selectPath(dir, rng, { port: 22 })).toEqual({ ok: false, error: 'no-exit' });
  });

  it('enforces distinct /16 subnets outside test-network mode', () => {
    const dir = new NetDir(consensus, mds);
    expect(selectPath(dir, seededRandom(1), { port: 80 })).toEqual({ ok: false, error: 'no-guard' });
  });

  it('tracks missing microdescriptors and the fraction of usable paths', () => {
    const dir = new NetDir(consensus, mds.slice(0, 3), { testNetwork: true });
    expect(dir.missingMicrodescs()).toHaveLength(4);
    const f = dir.fractionOfPathsAvailable();
    expect(f).toBeGreaterThan(0);
    expect(f).toBeLessThan(1);
    expect(dir.addMicrodescs(mds)).toBe(4);
    expect(dir.addMicrodescs(mds)).toBe(0);
    expect(dir.missingMicrodescs()).toEqual([]);
    const none = new NetDir(consensus, [], { testNetwork: true });
    expect(none.fractionOfPathsAvailable()).toBe(0);
    expect(none.haveEnoughPaths()).toBe(false);
  });

  it('names the position a consensus cannot fill, even with every microdescriptor', () => {
    // A young network's first consensus: relays listed before any earns Guard.
    const relays: SynthRelay[] = ['a', 'b', 'c'].map((n, i) => ({ nick: n, ip: `10.${i}.0.1`, flags: ['Running', 'Valid', 'Exit', 'Fast'], bw: 100, md: ['p accept 80'] }));
    const dir = synthDir(relays);
    expect(dir.missingMicrodescs()).toEqual([]);
    expect(dir.haveEnoughPaths()).toBe(false);
    expect(dir.describePaths()).toBe('only 0% of paths available (guards 0/0, middles 3/3, exits 3/3 usable relays with microdescriptors)');
  });
});

describe('bandwidth-weighted selection', () => {
  it('pickWeighted follows the weights and is uniform when all are zero', () => {
    const rng = seededRandom(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[pickWeighted([1, 3, 6], rng)]!++;
    expect(counts[0]! / 20000).toBeCloseTo(0.1, 1);
    expect(counts[1]! / 20000).toBeCloseTo(0.3, 1);
    expect(counts[2]! / 20000).toBeCloseTo(0.6, 1);
    const z = [0, 0];
    for (let i = 0; i < 2000; i++) z[pickWeighted([0, 0], rng)]!++;
    expect(z[0]).toBeGreaterThan(800);
    expect(pickWeighted([], rng)).toBe(-1);
  });

  it('applies Wxx by relay class and role with bwweightscale', () => {
    const flags = (...f: string[]) => new Set(['Running', 'Valid', ...f]);
    const bw = bandwidthWeightsFrom(new Map([['Wgd', 0], ['Wgg', 5000], ['Wmd', 2000], ['Wee', 10000], ['Wed', 1000]]), new Map([['bwweightscale', 5000]]));
    expect(relayWeight({ flags: flags('Guard', 'Exit'), bandwidth: 100 }, 'guard', bw)).toBe(0);
    expect(relayWeight({ flags: flags('Guard'), bandwidth: 100 }, 'guard', bw)).toBe(100);
    expect(relayWeight({ flags: flags('Guard', 'Exit'), bandwidth: 100 }, 'middle', bw)).toBe(40);
    expect(relayWeight({ flags: flags('Guard', 'Exit'), bandwidth: 100 }, 'exit', bw)).toBe(20);
    expect(relayWeight({ flags: flags('Exit'), bandwidth: 100 }, 'guard', bw)).toBe(0);
    // BadExit relays are weighted as non-exits; missing weights default to the scale.
    expect(relayWeight({ flags: flags('Guard', 'Exit', 'BadExit'), bandwidth: 100 }, 'guard', bw)).toBe(100);
    expect(relayWeight({ flags: flags(), bandwidth: 100 }, 'middle', bw)).toBe(100);
  });

  it('never picks a guard whose weight is zero and picks middles by bandwidth', () => {
    const relays: SynthRelay[] = [
      { nick: 'ge', ip: '10.1.0.1', flags: ['Exit', 'Guard', 'Running', 'Valid'], bw: 1000, md: ['p accept 80'] },
      { nick: 'g', ip: '10.2.0.1', flags: ['Guard', 'Running', 'Valid'], bw: 1000 },
      { nick: 'm1', ip: '10.3.0.1', flags: ['Running', 'Valid'], bw: 1000 },
      { nick: 'm3', ip: '10.4.0.1', flags: ['Running', 'Valid'], bw: 3000 },
      { nick: 'e', ip: '10.5.0.1', flags: ['Exit', 'Running', 'Valid'], bw: 1000, md: ['p accept 80,443'] },
    ];
    const dir = synthDir(relays, 'Wgd=0 Wgg=10000 Wmd=0 Wmg=0 Wmm=10000 Wme=0 Wed=10000 Wee=10000');
    const rng = seededRandom(11);
    const mid: Record<string, number> = {};
    for (let i = 0; i < 4000; i++) {
      const res = selectPath(dir, rng, { port: 443 });
      expect(res.ok).toBe(true);
      if (!res.ok) continue;
      expect(res.path.exit.nickname).toBe('e');
      expect(res.path.guard.nickname).toBe('g');
      mid[res.path.middle.nickname] = (mid[res.path.middle.nickname] ?? 0) + 1;
    }
    expect(Object.keys(mid).sort()).toEqual(['m1', 'm3']);
    expect(mid['m3']! / 4000).toBeCloseTo(0.75, 1);
  });

  it('keeps families and /16 neighbours out of one circuit', () => {
    const relays: SynthRelay[] = [
      { nick: 'x', ip: '10.1.0.1', flags: ['Exit', 'Running', 'Valid'], bw: 10, md: ['p accept 80', `family $${hexIdOf('g1')}`] },
      { nick: 'g1', ip: '10.2.0.1', flags: ['Guard', 'Running', 'Valid'], bw: 1000, md: [`family $${hexIdOf('x')}`] },
      { nick: 'g2', ip: '10.1.9.9', flags: ['Guard', 'Running', 'Valid'], bw: 1000 },
      { nick: 'g3', ip: '10.3.0.1', flags: ['Guard', 'Running', 'Valid'], bw: 10, md: [`family $${hexIdOf('x')}`] },
      { nick: 'm', ip: '10.4.0.1', flags: ['Running', 'Valid'], bw: 10, md: ['family-ids ed25519:fam'] },
      { nick: 'm2', ip: '10.5.0.1', flags: ['Running', 'Valid'], bw: 10, md: ['family-ids ed25519:fam'] },
    ];
    const dir = synthDir(relays);
    const x = dir.relays()[0]!;
    // g1 is mutual family, g2 is in x's /16; g3 declares x one-sidedly, so it is allowed.
    expect(guardCandidates(dir, [x]).map((r) => r.nickname)).toEqual(['g3']);
    const loose = synthDir(relays, '', { testNetwork: true });
    expect(guardCandidates(loose, [loose.relays()[0]!]).map((r) => r.nickname)).toEqual(['g2', 'g3']);
    const [m, m2] = dir.relays().slice(4);
    expect(sameFamily(m!, m2!)).toBe(true);
  });

  it('reads min_paths_for_circs_pct, overridable by option', () => {
    const relays: SynthRelay[] = [{ nick: 'a', ip: '10.1.0.1', flags: ['Exit', 'Guard', 'Running', 'Valid'], bw: 10 }];
    expect(synthDir(relays, '', {}, 'min_paths_for_circs_pct=70').minPathsFraction()).toBe(0.7);
    expect(synthDir(relays, '', { pathsNeededToBuildCircuits: 0.25 }).minPathsFraction()).toBe(0.25);
    expect(synthDir(relays).minPathsFraction()).toBe(0.6);
  });
});
