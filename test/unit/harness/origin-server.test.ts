import { createHash } from 'node:crypto';
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicBytes, deterministicBytesSha256, startOriginServer, type OriginServer } from '../../harness/origin-server.js';

function request(method: string, url: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('deterministic content', () => {
  it('is the same stream however it is sliced', () => {
    const whole = deterministicBytes(0, 4096);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 0, max: 4096 }), (a, b) => {
        const [off, end] = a <= b ? [a, b] : [b, a];
        expect(deterministicBytes(off, end - off).equals(whole.subarray(off, end))).toBe(true);
      }),
    );
  });

  it('is stable across runs (pinned digest) and not trivially patterned', () => {
    expect(deterministicBytesSha256(0)).toBe(createHash('sha256').digest('hex'));
    const first = deterministicBytes(0, 64);
    expect(new Set(first).size).toBeGreaterThan(32);
    expect(deterministicBytesSha256(100_000)).toBe(createHash('sha256').update(deterministicBytes(0, 100_000)).digest('hex'));
    // Pinned so that a change of the generator (which would break stored benchmark expectations) is noticed.
    expect(deterministicBytesSha256(1000)).toBe('ce397d284d9ed6d3d4228b59b23852a2953840883ee47803cfbf815d80246dda');
  });

  it('rejects bad ranges', () => {
    expect(() => deterministicBytes(-1, 1)).toThrow(RangeError);
    expect(() => deterministicBytes(0, 1.5)).toThrow(RangeError);
  });
});

describe('startOriginServer', () => {
  let origin: OriginServer;
  beforeAll(async () => {
    origin = await startOriginServer();
  });
  afterAll(() => origin.stop());

  it('serves n deterministic bytes on GET /bytes/<n>', async () => {
    for (const n of [0, 1, 65_535, 65_536, 200_001]) {
      const r = await request('GET', origin.url(`/bytes/${n}`));
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(n);
      expect(createHash('sha256').update(r.body).digest('hex')).toBe(deterministicBytesSha256(n));
    }
    expect(origin.host).toBe('127.0.0.1');
    expect(origin.url('bytes/1')).toBe(`http://127.0.0.1:${origin.port}/bytes/1`);
  });

  it('reports size and sha256 of uploads (POST and PUT)', async () => {
    const body = deterministicBytes(7, 123_457);
    const sha = createHash('sha256').update(body).digest('hex');
    for (const method of ['POST', 'PUT']) {
      const r = await request(method, origin.url('/upload'), body);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body.toString())).toEqual({ bytes: body.length, sha256: sha });
    }
    expect(origin.uploads.slice(-2)).toEqual([
      { bytes: body.length, sha256: sha },
      { bytes: body.length, sha256: sha },
    ]);
  });

  it('answers 404 elsewhere and 413 for absurd sizes', async () => {
    expect((await request('GET', origin.url('/nope'))).status).toBe(404);
    expect((await request('GET', origin.url('/upload'))).status).toBe(404);
    expect((await request('GET', origin.url('/bytes/999999999999'))).status).toBe(413);
    expect((await request('GET', origin.url('/health'))).body.toString()).toBe('ok\n');
  });
});
