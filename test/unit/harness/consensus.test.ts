import { describe, expect, it } from 'vitest';
import { missingRelays, parseConsensusSummary } from '../../harness/tornet/consensus.js';

// Shape of a private-network ns consensus (trimmed; identities are base64 of 20 bytes).
const ID_A = Buffer.alloc(20, 0xaa);
const ID_B = Buffer.alloc(20, 0xbb);
const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
const TEXT = [
  'network-status-version 3',
  'vote-status consensus',
  'valid-after 2026-11-22 02:11:15',
  'fresh-until 2026-11-22 02:11:25',
  'valid-until 2026-11-22 02:11:45',
  'params AuthDirMaxServersPerAddr=0 sendme_accept_min_version=1',
  'dir-source auth0 0659DC7E78B8549E97FEFA33CA621A170071BE70 127.0.0.1 127.0.0.1 7000 5000',
  `r auth0 ${b64(ID_A)} AAAAAAAAAAAAAAAAAAAAAAAAAAA 2038-01-01 00:00:00 127.0.0.1 5000 7000`,
  's Authority Exit Fast Guard HSDir Running Stable V2Dir Valid',
  'v Tor 0.4.9.11',
  `r relay0 ${b64(ID_B)} AAAAAAAAAAAAAAAAAAAAAAAAAAA 2038-01-01 00:00:00 127.0.0.1 5001 0`,
  's Fast Guard HSDir Stable V2Dir',
  'directory-footer',
  'bandwidth-weights Wbd=0',
  'directory-signature 0659DC7E78B8549E97FEFA33CA621A170071BE70 0000',
  '',
].join('\n');

describe('parseConsensusSummary', () => {
  it('reads validity, params and every r/s pair', () => {
    const s = parseConsensusSummary(TEXT);
    expect(s.validAfter).toBe('2026-11-22 02:11:15');
    expect(s.freshUntil).toBe('2026-11-22 02:11:25');
    expect(s.validUntil).toBe('2026-11-22 02:11:45');
    expect(s.params).toEqual({ AuthDirMaxServersPerAddr: 0, sendme_accept_min_version: 1 });
    expect(s.relays).toEqual([
      { nickname: 'auth0', rsaFingerprint: 'AA'.repeat(20), address: '127.0.0.1', orPort: 5000, dirPort: 7000, flags: ['Authority', 'Exit', 'Fast', 'Guard', 'HSDir', 'Running', 'Stable', 'V2Dir', 'Valid'] },
      { nickname: 'relay0', rsaFingerprint: 'BB'.repeat(20), address: '127.0.0.1', orPort: 5001, dirPort: 0, flags: ['Fast', 'Guard', 'HSDir', 'Stable', 'V2Dir'] },
    ]);
  });

  it('counts a relay as missing until it is Running and Valid', () => {
    const s = parseConsensusSummary(TEXT);
    expect(missingRelays(s, ['AA'.repeat(20), 'bb'.repeat(20), 'CC'.repeat(20)])).toEqual(['bb'.repeat(20), 'CC'.repeat(20)]);
    expect(missingRelays(s, ['aa'.repeat(20)])).toEqual([]);
  });
});

describe('directory cache readiness', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { cacheReady, cachedConsensusValidAfter, cachedMicrodescCount } = await import('../../harness/tornet/dir-cache.js');

  it('needs a consensus at least as new as the complete one and a microdesc per relay', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onionplane-dircache-unit-'));
    try {
      expect(cachedConsensusValidAfter(dir)).toBeUndefined();
      expect(cacheReady(dir, '2026-11-22 02:11:15', 2)).toBe(false);
      fs.writeFileSync(path.join(dir, 'cached-microdesc-consensus'), 'network-status-version 3 microdesc\nvalid-after 2026-11-22 02:11:05\n');
      const md = 'onion-key\nntor-onion-key AAAA\nid ed25519 BBBB\n';
      fs.writeFileSync(path.join(dir, 'cached-microdescs'), md);
      fs.writeFileSync(path.join(dir, 'cached-microdescs.new'), md);
      expect(cachedMicrodescCount(dir)).toBe(2);
      expect(cacheReady(dir, '2026-11-22 02:11:15', 2)).toBe(false); // older consensus
      fs.writeFileSync(path.join(dir, 'cached-microdesc-consensus'), 'valid-after 2026-11-22 02:11:25\n');
      expect(cacheReady(dir, '2026-11-22 02:11:15', 2)).toBe(true);
      expect(cacheReady(dir, '2026-11-22 02:11:15', 3)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
