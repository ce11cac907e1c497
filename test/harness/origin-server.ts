// An HTTP origin on 127.0.0.1 for end-to-end tests and benchmarks:
//   GET  /bytes/<n>        n deterministic bytes (the AES-256-CTR keystream of a fixed key), so a client can
//                          check a download by sha256 without the test holding the content
//   POST|PUT /upload       consumes the body, answers JSON {"bytes": n, "sha256": "<hex>"}
//   GET  /health           "ok"

import { createCipheriv, createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const KEY = createHash('sha256').update('onionplane origin-server deterministic content').digest();
const CHUNK = 64 * 1024;
/** Largest body GET /bytes serves (16 GiB): a typo must not stream forever. */
export const MAX_BYTES = 16 * 1024 ** 3;
/** Upload records kept in memory (oldest dropped first). */
export const MAX_UPLOAD_RECORDS = 1000;

/** `length` bytes of the content stream starting at byte `offset`. */
export function deterministicBytes(offset: number, length: number): Buffer {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`bad range ${offset}+${length}`);
  }
  const block = Math.floor(offset / 16);
  const skip = offset - block * 16;
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(BigInt(block), 8);
  const cipher = createCipheriv('aes-256-ctr', KEY, iv);
  return cipher.update(Buffer.alloc(skip + length)).subarray(skip);
}

function* chunksOf(n: number): Generator<Buffer> {
  for (let off = 0; off < n; off += CHUNK) yield deterministicBytes(off, Math.min(CHUNK, n - off));
}

/** sha256 (hex) of what GET /bytes/<n> returns. */
export function deterministicBytesSha256(n: number): string {
  const h = createHash('sha256');
  for (const c of chunksOf(n)) h.update(c);
  return h.digest('hex');
}

export interface UploadRecord {
  bytes: number;
  sha256: string;
}

export interface OriginServer {
  port: number;
  host: '127.0.0.1';
  url(path: string): string;
  stop(): Promise<void>;
  uploads: UploadRecord[];
}

function serveBytes(res: http.ServerResponse, n: number, headOnly: boolean): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
  if (headOnly) return void res.end();
  const chunks = chunksOf(n);
  const pump = (): void => {
    for (;;) {
      const next = chunks.next();
      if (next.done) return void res.end();
      if (!res.write(next.value)) return void res.once('drain', pump);
    }
  };
  res.on('error', () => undefined);
  pump();
}

function receiveUpload(req: http.IncomingMessage, res: http.ServerResponse, uploads: UploadRecord[]): void {
  const h = createHash('sha256');
  let bytes = 0;
  req.on('data', (c: Buffer) => {
    h.update(c);
    bytes += c.length;
  });
  req.on('end', () => {
    const record = { bytes, sha256: h.digest('hex') };
    uploads.push(record);
    if (uploads.length > MAX_UPLOAD_RECORDS) uploads.shift();
    const body = JSON.stringify(record);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  });
  req.on('error', () => res.destroy());
}

function reply(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

export async function startOriginServer(port = 0): Promise<OriginServer> {
  const uploads: UploadRecord[] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const bytesMatch = /^\/bytes\/(\d{1,12})$/.exec(path);
    if (bytesMatch && (req.method === 'GET' || req.method === 'HEAD')) {
      const n = Number(bytesMatch[1]);
      if (n > MAX_BYTES) return reply(res, 413, `at most ${MAX_BYTES} bytes\n`);
      return serveBytes(res, n, req.method === 'HEAD');
    }
    if (path === '/upload' && (req.method === 'POST' || req.method === 'PUT')) return receiveUpload(req, res, uploads);
    if (path === '/health' && req.method === 'GET') return reply(res, 200, 'ok\n');
    reply(res, 404, 'not found\n');
  });
  // Tor streams can sit idle for a while under load; don't let Node's defaults cut them.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  return {
    port: actual,
    host: '127.0.0.1',
    uploads,
    url: (p: string) => `http://127.0.0.1:${actual}${p.startsWith('/') ? p : `/${p}`}`,
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
