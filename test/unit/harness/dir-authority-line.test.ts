import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDirAuthorityLine, parseDirAuthorityLine, type DirAuthorityEntry } from '../../harness/tornet/dir-authority-line.js';

const entry: DirAuthorityEntry = {
  nickname: 'auth0',
  address: '127.0.0.1',
  orPort: 5000,
  dirPort: 7000,
  v3ident: '0659DC7E78B8549E97FEFA33CA621A170071BE70',
  rsaFingerprint: 'AB0F30CA07076ACA0E1AC1CBD1AF3FEA7DAC35B7',
};

describe('DirAuthority line', () => {
  it('has the chutney/tor-manual shape', () => {
    expect(formatDirAuthorityLine(entry)).toBe(
      'DirAuthority auth0 orport=5000 no-v2 v3ident=0659DC7E78B8549E97FEFA33CA621A170071BE70 127.0.0.1:7000 AB0F30CA07076ACA0E1AC1CBD1AF3FEA7DAC35B7',
    );
  });

  it('normalises case and the spaced fingerprint tor prints', () => {
    const line = formatDirAuthorityLine({ ...entry, v3ident: entry.v3ident.toLowerCase(), rsaFingerprint: 'AB0F 30CA 0707 6ACA 0E1A C1CB D1AF 3FEA 7DAC 35B7' });
    expect(line.endsWith(' AB0F30CA07076ACA0E1AC1CBD1AF3FEA7DAC35B7')).toBe(true);
    expect(line).toContain('v3ident=0659DC7E78B8549E97FEFA33CA621A170071BE70');
  });

  it('parses lines written by hand, flags in any order, fingerprint spaced', () => {
    const parsed = parseDirAuthorityLine(
      'DirAuthority auth0 no-v2 v3ident=0659dc7e78b8549e97fefa33ca621a170071be70 orport=5000 127.0.0.1:7000 AB0F 30CA 0707 6ACA 0E1A C1CB D1AF 3FEA 7DAC 35B7',
    );
    expect(parsed).toEqual(entry);
  });

  it('rejects malformed input', () => {
    expect(() => formatDirAuthorityLine({ ...entry, nickname: 'bad nick' })).toThrow(RangeError);
    expect(() => formatDirAuthorityLine({ ...entry, orPort: 0 })).toThrow(RangeError);
    expect(() => formatDirAuthorityLine({ ...entry, v3ident: 'XYZ' })).toThrow(RangeError);
    expect(() => parseDirAuthorityLine('DirAuthority auth0 orport=5000 127.0.0.1:7000 ' + entry.rsaFingerprint)).toThrow(SyntaxError);
    expect(() => parseDirAuthorityLine('DirAuthority auth0 orport=5000 v3ident=' + entry.v3ident + ' 127.0.0.1:7000 ABCD')).toThrow(SyntaxError);
  });

  it('round-trips', () => {
    const hex40 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex').toUpperCase());
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9]{1,19}$/),
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 1, max: 65535 }),
        hex40,
        hex40,
        fc.ipV4(),
        (nickname, orPort, dirPort, v3ident, rsaFingerprint, address) => {
          const e = { nickname, orPort, dirPort, v3ident, rsaFingerprint, address };
          expect(parseDirAuthorityLine(formatDirAuthorityLine(e))).toEqual(e);
        },
      ),
    );
  });
});
