import { describe, expect, it } from 'vitest';
import { matchMicrodescs, parseMdConsensus, parseMicrodescs, policyAllowsPort } from '../../../../src/tor/netdoc/index.js';
import { fixture } from './fixtures.js';

describe('microdescriptors (captured from C tor)', () => {
  const consensus = parseMdConsensus(fixture('consensus-microdesc.txt'));
  const raw = fixture('microdescs.txt');
  const mds = parseMicrodescs(raw);

  it('has the SHA-256 digest of every consensus m line', () => {
    expect(mds).toHaveLength(consensus.relays.length);
    const wanted = consensus.relays.map((r) => r.microdescDigest);
    const { matched, unexpected } = matchMicrodescs(mds, wanted);
    expect(matched).toHaveLength(7);
    expect(unexpected).toBe(0);
    expect(mds.map((m) => m.text).join('')).toBe(raw.toString('latin1'));
  });

  it('extracts ntor keys, ed25519 ids, families and port policies', () => {
    for (const md of mds) {
      expect(md.ntorOnionKey).toHaveLength(32);
      expect(md.ed25519Id).toHaveLength(32);
    }
    const withFamily = mds.filter((m) => m.family.length > 0);
    expect(withFamily).toHaveLength(2);
    expect(withFamily[0]!.family.every((f) => /^\$[0-9A-F]{40}$/.test(f))).toBe(true);
    const exits = mds.filter((m) => policyAllowsPort(m.ipv4Policy, 80));
    expect(exits).toHaveLength(1);
    expect(policyAllowsPort(exits[0]!.ipv4Policy, 8050)).toBe(true);
    expect(policyAllowsPort(exits[0]!.ipv4Policy, 22)).toBe(false);
    // No `p` line means reject all.
    expect(mds.filter((m) => policyAllowsPort(m.ipv4Policy, 443))).toHaveLength(1);
  });

  it('a changed byte changes the digest so it no longer matches', () => {
    const text = raw.toString('latin1');
    const at = text.indexOf('ntor-onion-key ') + 20;
    const tampered = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const { matched, unexpected } = matchMicrodescs(parseMicrodescs(tampered), consensus.relays.map((r) => r.microdescDigest));
    expect(matched).toHaveLength(6);
    expect(unexpected).toBe(1);
  });

  it('parses microdescs without a TAP onion-key', () => {
    const doc =
      'ntor-onion-key ' + Buffer.alloc(32, 1).toString('base64').replace(/=+$/, '') + '\np reject 1-1024\n' +
      'ntor-onion-key ' + Buffer.alloc(32, 2).toString('base64') + '\nfamily-ids ed25519:abc\n';
    const two = parseMicrodescs(doc);
    expect(two).toHaveLength(2);
    expect(policyAllowsPort(two[0]!.ipv4Policy, 80)).toBe(false);
    expect(policyAllowsPort(two[0]!.ipv4Policy, 8080)).toBe(true);
    expect(two[1]!.familyIds).toEqual(['ed25519:abc']);
    expect(() => parseMicrodescs('onion-key\np accept 80\n')).toThrow(/ntor-onion-key/);
  });
});
