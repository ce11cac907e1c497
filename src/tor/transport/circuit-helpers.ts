import type { Connected } from '../cell/relay/connected.js';
import { endReasonName } from '../cell/relay/end.js';
import { destroyReasonName } from '../cell/destroy.js';
import type { NtorRelayKey } from '../crypto/ntor.js';
import type { Circuit, ExtendTarget } from '../proto/circuit.js';
import type { Stream } from '../proto/stream.js';
import type { TlsChannel } from './tls-channel.js';
import type { ProtoError } from '../proto/errors.js';

/**
 * Promise-shaped helpers over the proto engines, for tests and simple callers: build a circuit,
 * extend it, open streams with a bounded receive buffer. No policy and no retries.
 */

function circuitFailure(what: string, reason: number, error: ProtoError | null): Error {
  return new Error(`${what}: circuit closed (${destroyReasonName(reason)})${error ? ` ${error.code}: ${error.message}` : ''}`);
}

function awaitCircuit(circ: Circuit, what: string, done: (e: { type: string }) => boolean): Promise<Circuit> {
  return new Promise((resolve, reject) => {
    circ.onEvent = (e) => {
      if (e.type === 'closed') reject(circuitFailure(what, e.reason, e.error));
      else if (e.type === 'truncated') reject(new Error(`${what}: truncated (${destroyReasonName(e.reason)})`));
      else if (done(e)) resolve(circ);
    };
  });
}

/** One-hop CREATE_FAST circuit (directory use). */
export function buildFastCircuit(ch: TlsChannel): Promise<Circuit> {
  const c = ch.channel.createCircuitFast(ch.now());
  if (!c.ok) return Promise.reject(new Error(c.error.message));
  return awaitCircuit(c.value, 'CREATE_FAST', (e) => e.type === 'open');
}

/** One-hop ntor circuit to the channel's relay. */
export function buildNtorCircuit(ch: TlsChannel, relay: NtorRelayKey): Promise<Circuit> {
  const c = ch.channel.createCircuit(relay, ch.now());
  if (!c.ok) return Promise.reject(new Error(c.error.message));
  return awaitCircuit(c.value, 'CREATE2', (e) => e.type === 'open');
}

export function extendCircuit(circ: Circuit, target: ExtendTarget, nowMs = Date.now()): Promise<Circuit> {
  const p = awaitCircuit(circ, 'EXTEND2', (e) => e.type === 'extended');
  const r = circ.extend(target, nowMs);
  if (!r.ok) return Promise.reject(new Error(r.error.message));
  return p;
}

/** A stream with a bounded receive buffer whose free space drives the stream's SENDMEs. */
export class StreamConnection {
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  private ended: { reason: number; remote: boolean; error: ProtoError | null } | null = null;
  private waiter: (() => void) | null = null;
  connected: Connected | null = null;

  constructor(
    readonly stream: Stream,
    readonly capacity: number,
  ) {}

  /** @internal wired by openStreamConnection */
  handle(e: Parameters<Stream['onEvent']>[0]): void {
    if (e.type === 'data') {
      this.chunks.push(e.data);
      this.buffered += e.data.length;
    } else if (e.type === 'connected') {
      this.connected = e.connected;
    } else if (e.type === 'end') {
      this.ended = { reason: e.reason, remote: e.remote, error: e.error };
    }
    this.wake();
  }

  get freeSpace(): number {
    return this.capacity - this.buffered;
  }

  get endReason(): string | null {
    return this.ended ? endReasonName(this.ended.reason) : null;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private wait(): Promise<void> {
    return new Promise((r) => (this.waiter = r));
  }

  /** Next chunk of data, or null at end of stream. */
  async read(): Promise<Uint8Array | null> {
    while (this.chunks.length === 0) {
      if (this.ended) return null;
      await this.wait();
    }
    const c = this.chunks.shift()!;
    this.buffered -= c.length;
    this.stream.notifyConsumed(Date.now());
    return c;
  }

  /** Write everything, waiting for window space. */
  async write(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      if (this.ended || this.stream.state === 'closed') throw new Error(`stream ended (${this.endReason})`);
      const n = this.stream.write(data.subarray(off), Date.now());
      off += n;
      if (off < data.length) await this.wait();
    }
  }

  end(): void {
    this.stream.end();
  }
}

async function openStreamConnection(
  make: (freeSpace: () => number) => { ok: true; value: Stream } | { ok: false; error: ProtoError },
  capacity: number,
): Promise<StreamConnection> {
  let conn: StreamConnection | null = null;
  const s = make(() => (conn ? conn.freeSpace : capacity));
  if (!s.ok) throw new Error(s.error.message);
  const c = new StreamConnection(s.value, capacity);
  conn = c;
  await new Promise<void>((resolve, reject) => {
    s.value.onEvent = (e) => {
      c.handle(e);
      if (e.type === 'connected') {
        s.value.onEvent = (ev) => c.handle(ev);
        resolve();
      } else if (e.type === 'end') {
        reject(new Error(`stream refused: ${endReasonName(e.reason)}${e.error ? ` (${e.error.message})` : ''}`));
      }
    };
  });
  return c;
}

/** Default receive buffer: a full stream window (500 cells × 498 bytes) plus slack. */
export const DEFAULT_STREAM_BUFFER = 256 * 1024;

export function openDirStream(circ: Circuit, capacity = DEFAULT_STREAM_BUFFER): Promise<StreamConnection> {
  return openStreamConnection((freeSpace) => circ.beginDir({ freeSpace }, Date.now()), capacity);
}

export function openExitStream(circ: Circuit, host: string, port: number, capacity = DEFAULT_STREAM_BUFFER, flags = 0): Promise<StreamConnection> {
  return openStreamConnection((freeSpace) => circ.beginStream(host, port, { freeSpace, flags }, Date.now()), capacity);
}

/** Read a stream to its end (bounded by `maxBytes`). */
export async function readToEnd(conn: StreamConnection, maxBytes = 64 * 1024 * 1024): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for (let c = await conn.read(); c; c = await conn.read()) {
    n += c.length;
    if (n > maxBytes) throw new Error('stream exceeded maxBytes');
    parts.push(c);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** HTTP/1.0 GET over a directory stream; returns the raw response (headers + body). */
export async function httpGetOverDirStream(circ: Circuit, path: string): Promise<Uint8Array> {
  const conn = await openDirStream(circ);
  await conn.write(new Uint8Array(Buffer.from(`GET ${path} HTTP/1.0\r\n\r\n`, 'ascii')));
  return readToEnd(conn);
}
