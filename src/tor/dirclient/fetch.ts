import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { encodeRequest, maxResponseBytes, type DirRequest } from './request.js';
import { DEFAULT_RESPONSE_LIMITS, DirResponseDecoder, DirResponseError, type DirResponse, type ResponseLimits } from './response.js';

/** Runtime glue: run one directory request over any duplex byte stream (TCP to a DirPort, or BEGIN_DIR). */

export interface FetchOptions {
  readonly compressed?: boolean;
  /** Default: DEFAULT_RESPONSE_LIMITS with the body bound of maxResponseBytes(req). */
  readonly limits?: ResponseLimits;
  /** Abort if the whole exchange takes longer (ms). */
  readonly timeoutMs?: number;
}

export class DirFetchError extends Error {
  readonly kind: 'io' | 'timeout';
  constructor(kind: 'io' | 'timeout', message: string) {
    super(message);
    this.name = 'DirFetchError';
    this.kind = kind;
  }
}

/** Opens a fresh stream to some directory server per request. */
export type DirStreamOpener = () => Promise<Duplex>;

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Write the request, read until the peer ends the stream, decode. The stream is destroyed afterwards.
 * Rejects with DirResponseError (HTTP status, size, encoding) or DirFetchError (io, timeout).
 */
export function fetchOverStream(stream: Duplex, req: DirRequest, opts: FetchOptions = {}): Promise<DirResponse> {
  const decoder = new DirResponseDecoder(opts.limits ?? { ...DEFAULT_RESPONSE_LIMITS, maxBodyBytes: maxResponseBytes(req) });
  return new Promise<DirResponse>((resolve, reject) => {
    let settled = false;
    const done = (err: Error | undefined, res?: DirResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.removeAllListeners('data');
      stream.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => done(new DirFetchError('timeout', 'directory request timed out')), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    stream.on('data', (chunk: Buffer) => {
      try {
        decoder.feed(chunk);
      } catch (e) {
        done(e as Error);
      }
    });
    stream.once('end', () => {
      try {
        done(undefined, decoder.finish());
      } catch (e) {
        done(e as Error);
      }
    });
    stream.once('error', (e) => done(new DirFetchError('io', e.message)));
    stream.once('close', () => done(new DirResponseError('truncated', 'stream closed before end')));
    stream.write(encodeRequest(req, opts.compressed ?? false));
  });
}

/** A stream opener for a plain TCP connection to a DirPort. */
export function dirPortOpener(host: string, port: number, connectTimeoutMs = 10_000): DirStreamOpener {
  return () =>
    new Promise<Duplex>((resolve, reject) => {
      const sock = connect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new DirFetchError('timeout', 'connect timed out'));
      }, connectTimeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(sock);
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(new DirFetchError('io', e.message));
      });
    });
}

/**
 * Open a stream with `open` and run one request on it. `timeoutMs` bounds the whole exchange, opening
 * included: a directory cache that hangs while its circuit is built counts as a timeout too.
 */
export async function fetchDir(open: DirStreamOpener, req: DirRequest, opts: FetchOptions = {}): Promise<DirResponse> {
  const started = Date.now();
  const budget = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const stream = await openWithin(open, budget);
  const left = Math.max(1, budget - (Date.now() - started));
  return fetchOverStream(stream, req, { ...opts, timeoutMs: left });
}

/** `open()`, rejected with a timeout after `ms`; a stream that arrives too late is destroyed. */
function openWithin(open: DirStreamOpener, ms: number): Promise<Duplex> {
  return new Promise<Duplex>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(new DirFetchError('timeout', 'directory stream not open in time'));
    }, ms);
    open().then(
      (stream) => {
        clearTimeout(timer);
        if (late) stream.destroy();
        else resolve(stream);
      },
      (e: unknown) => {
        clearTimeout(timer);
        if (!late) reject(e);
      },
    );
  });
}
