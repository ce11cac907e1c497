import { describe, expect, it } from 'vitest';
import { NetDocError, tokenize } from '../../../../src/tor/netdoc/index.js';

function errorOf(f: () => unknown): NetDocError {
  try {
    f();
  } catch (e) {
    if (e instanceof NetDocError) return e;
    throw e;
  }
  throw new Error('expected NetDocError');
}

describe('netdoc tokenizer', () => {
  it('splits keyword lines, arguments and objects with offsets', () => {
    const doc = 'a 1 2\nb-c\tx  y\nkey\n-----BEGIN SIG NATURE-----\nAAEC\nAw==\n-----END SIG NATURE-----\nz\n';
    const items = tokenize(doc);
    expect(items.map((i) => i.keyword)).toEqual(['a', 'b-c', 'key', 'z']);
    expect(items[0]!.args).toEqual(['1', '2']);
    expect(items[1]!.args).toEqual(['x', 'y']);
    expect(items[2]!.object?.label).toBe('SIG NATURE');
    expect([...items[2]!.object!.body]).toEqual([0, 1, 2, 3]);
    expect(items[3]!.line).toBe(8);
    expect(doc.slice(items[2]!.start, items[2]!.end)).toBe('key\n-----BEGIN SIG NATURE-----\nAAEC\nAw==\n-----END SIG NATURE-----\n');
    expect(items[2]!.lineEnd).toBe(items[2]!.start + 4);
  });

  it('drops the obsolete opt prefix', () => {
    expect(tokenize('opt foo bar\n')[0]).toMatchObject({ keyword: 'foo', args: ['bar'] });
  });

  it('reports the line of malformed input', () => {
    expect(errorOf(() => tokenize('a\nb\n c\n')).line).toBe(3);
    expect(errorOf(() => tokenize('a\nb\n\n')).line).toBe(3);
    expect(errorOf(() => tokenize('a\nk\n-----BEGIN X-----\nAA\n-----END Y-----\n')).line).toBe(5);
    expect(errorOf(() => tokenize('a\nk\n-----BEGIN X-----\nA*A\n-----END X-----\n')).line).toBe(4);
    expect(errorOf(() => tokenize('a\nk\n-----BEGIN X-----\nAA\n')).reason).toBe('malformed');
    expect(errorOf(() => tokenize('a\nb\r\n')).line).toBe(2);
    expect(errorOf(() => tokenize('a\nno-newline')).reason).toBe('malformed');
    expect(errorOf(() => tokenize('a\n-----END X-----\n')).line).toBe(2);
  });

  it('enforces size limits', () => {
    const limits = { maxBytes: 100, maxLineLength: 10, maxItems: 3, maxArgs: 2, maxObjectBytes: 6 };
    expect(errorOf(() => tokenize('x'.repeat(101), limits)).reason).toBe('too-large');
    expect(errorOf(() => tokenize('a\nabcdefghijk\n', limits))).toMatchObject({ reason: 'too-large', line: 2 });
    expect(errorOf(() => tokenize('a\nb\nc\nd\n', limits))).toMatchObject({ reason: 'too-large', line: 4 });
    expect(errorOf(() => tokenize('a 1 2 3\n', limits)).reason).toBe('too-large');
    expect(errorOf(() => tokenize('k\n-----BEGIN X-----\nAAAAAAAA\nAAAAAAAA\n-----END X-----\n', { ...limits, maxLineLength: 100 })).reason).toBe('too-large');
  });
});
