import { inflateSync } from 'node:zlib';

/** Why a directory response was refused. */
export type DirResponseErrorKind = 'bad-response' | 'http-status' | 'too-large' | 'decompress' | 'truncated';

export class DirResponseError extends Error {
  readonly kind: DirResponseErrorKind;
  readonly status: number | undefined;
  constructor(kind: DirResponseErrorKind, message: string, status?: number) {
    super(message);
    this.name = 'DirResponseError';
    this.kind = kind;
    this.status = status;
  }
}

export interface DirResponse {
  readonly status: number;
  readonly reason: string;
  /** Header names lower-cased. */
  readonly headers: ReadonlyMap<string, string>;
  /** The body after Content-Encoding has been undone. */
  readonly body: Buffer;
}

export interface ResponseLimits {
  readonly maxHeaderBytes: number;
  /** Bound on both the received and the decompressed body. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_RESPONSE_LIMITS: ResponseLimits = { maxHeaderBytes: 16 * 1024, maxBodyBytes: 16 * 1024 * 1024 };

/**
 * Incremental HTTP/1.0 response reader: feed chunks as they arrive, then `finish()` at end of stream
 * (HTTP/1.0 directory responses end with the connection). Memory is bounded by the limits.
 */
export class DirResponseDecoder {
  private readonly limits: ResponseLimits;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private headerEnd = -1;

  constructor(limits: ResponseLimits = DEFAULT_RESPONSE_LIMITS) {
    this.limits = limits;
  }

  /** Throws DirResponseError('too-large') as soon as a bound is crossed. */
  feed(chunk: Uint8Array): void {
    this.chunks.push(Buffer.from(chunk));
    this.size += chunk.length;
    if (this.headerEnd < 0) {
      const all = Buffer.concat(this.chunks);
      this.chunks.length = 0;
      this.chunks.push(all);
      const idx = all.indexOf('\r\n\r\n');
      if (idx >= 0) this.headerEnd = idx + 4;
      else if (all.length > this.limits.maxHeaderBytes) throw new DirResponseError('too-large', 'response header too long');
    }
    const bodySoFar = this.headerEnd < 0 ? 0 : this.size - this.headerEnd;
    if (bodySoFar > this.limits.maxBodyBytes) throw new DirResponseError('too-large', `response body over ${this.limits.maxBodyBytes} bytes`);
  }

  /** Parse what was received; `requireOk` turns a non-200 status into an error. */
  finish(requireOk = true): DirResponse {
    const all = Buffer.concat(this.chunks);
    if (this.headerEnd < 0) throw new DirResponseError('truncated', 'connection closed before end of headers');
    return decodeResponse(all, this.limits, requireOk);
  }
}

const STATUS_RE = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/;

/** Decode a complete response (headers + body). */
export function decodeResponse(raw: Buffer, limits: ResponseLimits = DEFAULT_RESPONSE_LIMITS, requireOk = true): DirResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new DirResponseError('truncated', 'no end of headers');
  if (end > limits.maxHeaderBytes) throw new DirResponseError('too-large', 'response header too long');
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = STATUS_RE.exec(lines[0] ?? '');
  if (!m) throw new DirResponseError('bad-response', 'bad status line');
  const status = Number(m[1]);
  const reason = m[2] ?? '';
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const colon = l.indexOf(':');
    if (colon <= 0) throw new DirResponseError('bad-response', 'bad header line');
    headers.set(l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim());
  }
  if (requireOk && status !== 200) throw new DirResponseError('http-status', `HTTP ${status} ${reason}`, status);
  let body = raw.subarray(end + 4);
  const cl = headers.get('content-length');
  if (cl !== undefined) {
    const n = Number(cl);
    if (!/^\d+$/.test(cl) || body.length < n) throw new DirResponseError('truncated', 'body shorter than Content-Length');
    body = body.subarray(0, n);
  }
  if (body.length > limits.maxBodyBytes) throw new DirResponseError('too-large', 'response body too large');
  const enc = (headers.get('content-encoding') ?? 'identity').toLowerCase();
  if (enc === 'deflate') body = inflateBounded(body, limits.maxBodyBytes);
  else if (enc !== 'identity') throw new DirResponseError('decompress', `unsupported Content-Encoding ${enc}`);
  return { status, reason, headers, body: Buffer.from(body) };
}

/** Tor's "deflate" is a zlib stream; the output bound stops decompression bombs. */
function inflateBounded(data: Buffer, max: number): Buffer {
  try {
    return inflateSync(data, { maxOutputLength: max });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new DirResponseError('too-large', 'decompressed body too large');
    throw new DirResponseError('decompress', 'bad deflate data');
  }
}
