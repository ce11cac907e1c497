import { describe, expect, it } from 'vitest';
import { parseMdConsensus, parseMicrodescs } from '../../../../src/tor/netdoc/index.js';
import { NetDir } from '../../../../src/tor/netdir/index.js';
import { confluxParamsFrom, maxPrebuiltSets, supportsConflux } from '../../../../src/tor/circmgr/index.js';
import { consensusText, microdescText, type SynthRelay } from '../netdir/synthetic.js';

const PR_CFX = 'Conflux=1 FlowCtrl=1-2 Relay=1-4';
const PR_OLD = 'FlowCtrl=1-2 Relay=1-4';

/** A NetDir with `exits` (nickname -> pr line) plus two plain relays; `params` is the consensus params line. */
function dir(exits: Record<string, string>, params = ''): NetDir {
  const rs: SynthRelay[] = [];
  const add = (nick: string, flags: string[], md: string[] = []) => rs.push({ nick, ip: `10.${rs.length}.0.1`, flags: ['Fast', 'Running', 'Valid', ...flags], bw: 1000, md });
  add('guard0', ['Guard']);
  add('mid0', []);
  for (const n of Object.keys(exits)) add(n, ['Exit'], ['p accept 80,443']);
  let text = consensusText(rs, '', params);
  // The synthetic consensus has no `pr` lines: add one after each exit's `w` line.
  for (const [n, pr] of Object.entries(exits)) text = text.replace(new RegExp(`(r ${n} [^\\n]*\\n(?:[^r][^\\n]*\\n)*?w [^\\n]*\\n)`), `$1pr ${pr}\n`);
  return new NetDir(parseMdConsensus(text), parseMicrodescs(rs.map(microdescText).join('')), { testNetwork: true });
}

describe('conflux consensus parameters', () => {
  it('Conflux=1 in a pr line', () => {
    expect(supportsConflux(PR_CFX)).toBe(true);
    expect(supportsConflux(PR_OLD)).toBe(false);
    expect(supportsConflux(undefined)).toBe(false);
  });

  it('has C tor\'s defaults and takes in-range consensus values', () => {
    expect(confluxParamsFrom(dir({ e0: PR_CFX }))).toEqual({
      enabled: true, lowExitThreshold: 0.6, maxLinkedSets: 10, maxPrebuiltSets: 3, legsPerSet: 2, maxOooBytes: 2 ** 31 - 1,
    });
    const p = confluxParamsFrom(dir({ e0: PR_CFX }, 'cfx_enabled=0 cfx_num_legs_set=3 cfx_max_prebuilt_set=1 cfx_max_oooq_bytes=100000'));
    expect(p).toMatchObject({ enabled: false, legsPerSet: 3, maxPrebuiltSets: 1, maxOooBytes: 100_000 });
  });

  it('prebuilds no set without conflux exits, one below the low-exit threshold, cfx_max_prebuilt_set otherwise', () => {
    const none = dir({ e0: PR_OLD, e1: PR_OLD });
    expect(none.relays().find((r) => r.nickname === 'e0')?.status.protocols).toBe(PR_OLD);
    expect(maxPrebuiltSets(none, confluxParamsFrom(none))).toBe(0);
    const few = dir({ e0: PR_CFX, e1: PR_OLD, e2: PR_OLD });
    expect(maxPrebuiltSets(few, confluxParamsFrom(few))).toBe(1);
    const all = dir({ e0: PR_CFX, e1: PR_CFX });
    expect(maxPrebuiltSets(all, confluxParamsFrom(all))).toBe(3);
    const five = dir({ e0: PR_CFX }, 'cfx_max_prebuilt_set=5');
    expect(maxPrebuiltSets(five, confluxParamsFrom(five))).toBe(5);
  });
});
