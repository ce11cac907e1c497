import { createServer, type Server } from 'node:net';
import { Duplex } from 'node:stream';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeResponse,
  dirPortOpener,
  DirResponseDecoder,
  DirResponseError,
  encodeRequest,
  fetchDir,
  fetchOverStream,
  MAX_MICRODESCS_PER_REQUEST,
  microdescRequests,
  requestPath,
  maxResponseBytes,
} from '../../../../src/tor/dirclient/index.js';

const V3 = '97AC406955C2994B0D85063B36CCE2EDC9A40FD6';
const SK = 'F78208B2B210D3D6C249E4F5004E423BE4E66F33';
const digest = (i: number) => Buffer.alloc(32, i);

function errKind(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DirResponseError) return e.kind;
    throw e;
  }
  return 'ok';
}

describe('directory requests', () => {
  it('encodes the paths C tor serves', () => {
    expect(requestPath({ kind: 'authcerts-all' })).toBe('/tor/keys/all');
    expect(requestPath({ kind: 'authcerts-fp', v3idents: [V3.toLowerCase(), SK] })).toBe(`/tor/keys/fp/${V3}+${SK}`);
    expect(requestPath({ kind: 'authcerts-fp-sk', pairs: [{ v3ident: V3, signingKeyDigest: SK }] })).toBe(`/tor/keys/fp-sk/${V3}-${SK}`);
    expect(requestPath({ kind: 'consensus-microdesc' }, true)).toBe('/tor/status-vote/current/consensus-microdesc.z');
    const p = requestPath({ kind: 'microdescs', digests: [digest(1), digest(2)] });
    expect(p).toBe(`/tor/micro/d/${digest(1).toString('base64').slice(0, 43)}-${digest(2).toString('base64').slice(0, 43)}`);
    expect(p).not.toContain('=');
    expect(encodeRequest({ kind: 'authcerts-all' }).toString()).toBe('GET /tor/keys/all HTTP/1.0\r\n\r\n');
    expect(() => requestPath({ kind: 'authcerts-fp', v3idents: ['XYZ'] })).toThrow(RangeError);
    expect(() => requestPath({ kind: 'microdescs', digests: [] })).toThrow(RangeError);
  });

  it('splits microdescriptor fetches into sorted batches of at most 92', () => {
    const ds = Array.from({ length: 200 }, (_, i) => digest(199 - (i % 200)));
    const reqs = microdescRequests([...ds, digest(5)]);
    expect(reqs.map((r) => (r.kind === 'microdescs' ? r.digests.length : 0))).toEqual([92, 92, 16]);
    const first = reqs[0]!;
    if (first.kind !== 'microdescs') throw new Error('kind');
    expect(first.digests[0]).toEqual(digest(0));
    expect(() => requestPath({ kind: 'microdescs', digests: Array.from({ length: MAX_MICRODESCS_PER_REQUEST + 1 }, (_, i) => digest(i)) })).toThrow();
  });
});

describe('directory responses', () => {
  const resp = (head: string, body: Buffer | string) => Buffer.concat([Buffer.from(head + '\r\n\r\n', 'latin1'), Buffer.from(body)]);

  it('decodes identity and deflate bodies', () => {
    const r = decodeResponse(resp('HTTP/1.0 200 OK\r\nContent-Encoding: identity', 'hello\n'));
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hello\n');
    const z = decodeResponse(resp('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: deflate', deflateSync('doc\n')));
    expect(z.body.toString()).toBe('doc\n');
    expect(z.headers.get('content-type')).toBe('text/plain');
  });

  it('refuses errors, bad framing, bombs and unknown encodings', () => {
    expect(errKind(() => decodeResponse(resp('HTTP/1.0 404 Not found', '')))).toBe('http-status');
    expect(decodeResponse(resp('HTTP/1.0 404 Not found', ''), undefined, false).status).toBe(404);
    expect(errKind(() => decodeResponse(Buffer.from('HTTP/1.0 200 OK\r\n')))).toBe('truncated');
    expect(errKind(() => decodeResponse(resp('SMTP 200', '')))).toBe('bad-response');
    expect(errKind(() => decodeResponse(resp('HTTP/1.0 200 OK\r\nContent-Encoding: x-zstd', 'x')))).toBe('decompress');
    expect(errKind(() => decodeResponse(resp('HTTP/1.0 200 OK\r\nContent-Encoding: deflate', 'notzlib')))).toBe('decompress');
    const bomb = deflateSync(Buffer.alloc(1 << 20));
    expect(errKind(() => decodeResponse(resp('HTTP/1.0 200 OK\r\nContent-Encoding: deflate', bomb), { maxHeaderBytes: 1024, maxBodyBytes: 65536 }))).toBe('too-large');
  });

  it('bounds header and body while streaming', () => {
    const d = new DirResponseDecoder({ maxHeaderBytes: 64, maxBodyBytes: 10 });
    expect(errKind(() => d.feed(Buffer.alloc(65, 0x41)))).toBe('too-large');
    const d2 = new DirResponseDecoder({ maxHeaderBytes: 64, maxBodyBytes: 10 });
    d2.feed(Buffer.from('HTTP/1.0 200 OK\r\n\r\n12345'));
    expect(errKind(() => d2.feed(Buffer.from('678901')))).toBe('too-large');
    const d3 = new DirResponseDecoder();
    for (const c of ['HTTP/1.0 2', '00 OK\r', '\n\r\nab', 'c']) d3.feed(Buffer.from(c));
    expect(d3.finish().body.toString()).toBe('abc');
  });
});

/** An in-memory duplex standing in for a BEGIN_DIR stream: answers one request with `reply`. */
function fakeDirStream(reply: (request: string) => Buffer): Duplex {
  let got = '';
  const d = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      got += chunk.toString('latin1');
      if (got.endsWith('\r\n\r\n')) {
        d.push(reply(got));
        d.push(null);
      }
      cb();
    },
  });
  return d;
}

describe('fetching over a stream', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((sock) => {
      let req = '';
      sock.on('data', (c) => {
        req += c.toString('latin1');
        if (!req.endsWith('\r\n\r\n')) return;
        const path = req.split(' ')[1]!;
        if (path === '/tor/keys/all.z') sock.end(Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\nContent-Encoding: deflate\r\n\r\n'), deflateSync('certs\n')]));
        else sock.end('HTTP/1.0 404 Not found\r\n\r\n');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('works over any duplex', async () => {
    let seen = '';
    const s = fakeDirStream((req) => {
      seen = req;
      return Buffer.from('HTTP/1.0 200 OK\r\n\r\nconsensus\n');
    });
    const r = await fetchOverStream(s, { kind: 'consensus-microdesc' });
    expect(seen).toBe('GET /tor/status-vote/current/consensus-microdesc HTTP/1.0\r\n\r\n');
    expect(r.body.toString()).toBe('consensus\n');
  });

  it('fetches from a DirPort over TCP on 127.0.0.1', async () => {
    const open = dirPortOpener('127.0.0.1', port);
    expect((await fetchDir(open, { kind: 'authcerts-all' }, { compressed: true })).body.toString()).toBe('certs\n');
    await expect(fetchDir(open, { kind: 'consensus-microdesc' })).rejects.toMatchObject({ kind: 'http-status', status: 404 });
  });

  it('times out and reports refused connections', async () => {
    const silent = new Duplex({ read() {}, write(_c, _e, cb) { cb(); } });
    await expect(fetchOverStream(silent, { kind: 'authcerts-all' }, { timeoutMs: 50 })).rejects.toMatchObject({ kind: 'timeout' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const p = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(fetchDir(dirPortOpener('127.0.0.1', p), { kind: 'authcerts-all' })).rejects.toMatchObject({ kind: 'io' });
  });
});

describe('response bounds per request kind', () => {
  it('refuses a certificate response larger than 1 MiB while streaming', async () => {
    const big = fakeDirStream(() => Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), Buffer.alloc(1024 * 1024 + 1, 0x41)]));
    await expect(fetchOverStream(big, { kind: 'authcerts-all' })).rejects.toMatchObject({ kind: 'too-large' });
    const ok = fakeDirStream(() => Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), Buffer.alloc(1024 * 1024 + 1, 0x41)]));
    expect((await fetchOverStream(ok, { kind: 'consensus-microdesc' })).body.length).toBe(1024 * 1024 + 1);
    expect(maxResponseBytes({ kind: 'microdescs', digests: [] })).toBe(2 * 1024 * 1024);
  });
});
