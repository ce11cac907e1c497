// HTTP/1.0 helpers for tests that talk to the origin server over a Tor stream.
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';

/** GET `path` over `s`; returns the status, the body's length and its sha256. */
export async function httpGet(s: Duplex, path: string): Promise<{ status: number; bytes: number; sha256: string }> {
  s.write(`GET ${path} HTTP/1.0\r\nHost: origin\r\n\r\n`);
  let head = Buffer.alloc(0);
  let status = 0;
  let bytes = 0;
  const h = createHash('sha256');
  for await (const chunk of s as AsyncIterable<Buffer>) {
    if (status === 0) {
      head = Buffer.concat([head, chunk]);
      const i = head.indexOf('\r\n\r\n');
      if (i < 0) continue;
      status = Number(/^HTTP\/1\.[01] (\d+)/.exec(head.subarray(0, i).toString('latin1'))?.[1] ?? -1);
      const body = head.subarray(i + 4);
      bytes += body.length;
      h.update(body);
    } else {
      bytes += chunk.length;
      h.update(chunk);
    }
  }
  return { status, bytes, sha256: h.digest('hex') };
}

/** POSTs `body` to the origin's /upload over `s`; returns what the origin counted: length and sha256. */
export async function httpUpload(s: Duplex, body: Uint8Array): Promise<{ bytes: number; sha256: string }> {
  s.write(`POST /upload HTTP/1.0\r\nContent-Length: ${body.length}\r\n\r\n`);
  s.write(body);
  let resp = '';
  for await (const c of s as AsyncIterable<Buffer>) resp += c.toString('latin1');
  return JSON.parse(resp.slice(resp.indexOf('\r\n\r\n') + 4)) as { bytes: number; sha256: string };
}

/** Splits a whole HTTP response into its header text and body. */
export function httpSplit(raw: Uint8Array): { head: string; body: Uint8Array } {
  const i = Buffer.from(raw).indexOf('\r\n\r\n');
  if (i < 0) throw new Error('no HTTP header end');
  return { head: Buffer.from(raw.subarray(0, i)).toString('latin1'), body: raw.subarray(i + 4) };
}
