import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  NetDocError,
  parseAuthCerts,
  parseDirAuthorityLine,
  parseMdConsensus,
  parseMicrodescs,
  parsePortPolicy,
  policyAllowsPort,
  tokenize,
} from '../../../../src/tor/netdoc/index.js';
import { fixture } from './fixtures.js';

/** Parsers face hostile bytes: they may refuse them only with a NetDocError, never anything else. */
function onlyNetDocErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof NetDocError)) throw e;
  }
}

const docs = {
  consensus: fixture('consensus-microdesc.txt'),
  certs: fixture('keys-all.txt'),
  mds: fixture('microdescs.txt'),
};

const mutation = (len: number) =>
  fc.array(
    fc.oneof(
      fc.record({ op: fc.constant('set' as const), at: fc.nat(len - 1), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('cut' as const), at: fc.nat(len - 1), n: fc.integer({ min: 1, max: 200 }) }),
      fc.record({ op: fc.constant('dup' as const), at: fc.nat(len - 1), n: fc.integer({ min: 1, max: 200 }) }),
    ),
    { minLength: 1, maxLength: 4 },
  );

function mutate(doc: Buffer, ops: { op: 'set' | 'cut' | 'dup'; at: number; byte?: number; n?: number }[]): Buffer {
  let b = Buffer.from(doc);
  for (const o of ops) {
    const at = Math.min(o.at, b.length - 1);
    if (o.op === 'set') b[at] = o.byte!;
    else if (o.op === 'cut') b = Buffer.concat([b.subarray(0, at), b.subarray(at + o.n!)]);
    else b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + o.n!), b.subarray(at)]);
  }
  return b;
}

describe('netdoc parsers under mutation', () => {
  it('consensus', () => {
    fc.assert(fc.property(mutation(docs.consensus.length), (ops) => onlyNetDocErrors(() => parseMdConsensus(mutate(docs.consensus, ops)))), { numRuns: 300 });
  });
  it('certificates', () => {
    fc.assert(fc.property(mutation(docs.certs.length), (ops) => onlyNetDocErrors(() => parseAuthCerts(mutate(docs.certs, ops)))), { numRuns: 300 });
  });
  it('microdescriptors', () => {
    fc.assert(fc.property(mutation(docs.mds.length), (ops) => onlyNetDocErrors(() => parseMicrodescs(mutate(docs.mds, ops)))), { numRuns: 300 });
  });
  it('arbitrary text and DirAuthority lines', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        onlyNetDocErrors(() => tokenize(s));
        onlyNetDocErrors(() => parseMdConsensus(s));
        onlyNetDocErrors(() => parseDirAuthorityLine(s));
      }),
      { numRuns: 500 },
    );
  });
});

describe('port policy matching', () => {
  it('agrees with a linear scan of the ranges', () => {
    const ranges = fc
      .uniqueArray(fc.integer({ min: 1, max: 65535 }), { minLength: 2, maxLength: 20 })
      .map((xs) => {
        const s = [...xs].sort((a, b) => a - b);
        const out: [number, number][] = [];
        for (let i = 0; i + 1 < s.length; i += 2) out.push([s[i]!, s[i + 1]!]);
        return out;
      })
      .filter((r) => r.length > 0);
    fc.assert(
      fc.property(ranges, fc.boolean(), fc.integer({ min: 1, max: 65535 }), (rs, accept, port) => {
        const p = parsePortPolicy(accept ? 'accept' : 'reject', rs.map(([a, b]) => `${a}-${b}`).join(','));
        const inAny = rs.some(([a, b]) => port >= a && port <= b);
        expect(policyAllowsPort(p, port)).toBe(accept ? inAny : !inAny);
      }),
      { numRuns: 500 },
    );
  });
});
