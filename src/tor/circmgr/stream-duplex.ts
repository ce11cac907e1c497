// A connected Tor stream as a Node Duplex, for callers that want ordinary streams (directory fetches,
// TorClient.connect). Reads are bounded: the stream's SENDMEs follow the readable buffer's free space,
// so a consumer that stops reading stops the exit. Tor streams have no half-close: ending our side only
// stops writing; the stream ends when the exit ends it or the Duplex is destroyed.
import { Duplex } from 'node:stream';
import { EndReason, endReasonName } from '../cell/relay/end.js';
import type { Stream, StreamEvent } from '../proto/stream.js';

/** A Tor stream that ended with a reason other than DONE. */
export class TorStreamError extends Error {
  readonly code = 'ETORSTREAM';
  constructor(readonly reason: number, readonly detail?: string) {
    super(`tor stream ended: ${endReasonName(reason)}${detail ? ` (${detail})` : ''}`);
    this.name = 'TorStreamError';
  }
}

/** Bytes a duplex may hold unread: one full stream window (500 × 498) plus slack. */
export const STREAM_DUPLEX_BUFFER = 512 * 1024;

/** The sink half: hand these to the circuit manager before the stream exists. */
export interface DuplexSink {
  freeSpace(): number;
  onEvent(e: StreamEvent): void;
  /** Call once the stream is connected. */
  attach(stream: Stream): Duplex;
}

export function streamDuplexSink(capacity = STREAM_DUPLEX_BUFFER, nowFn: () => number = Date.now): DuplexSink {
  let stream: Stream | undefined;
  let ended = false;
  let pendingWrite: { data: Uint8Array; cb: (e?: Error | null) => void } | undefined;
  // Events that arrive before attach() (same TLS read as CONNECTED) are replayed in order.
  const early: StreamEvent[] = [];

  const d = new Duplex({
    readableHighWaterMark: capacity,
    writableHighWaterMark: 64 * 1024,
    read() {
      stream?.notifyConsumed(nowFn());
    },
    write(chunk: Buffer, _enc, cb) {
      pendingWrite = { data: new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), cb };
      flush();
    },
    final(cb) {
      cb(); // no half-close in Tor: keep reading until the exit ends the stream
    },
    destroy(err, cb) {
      if (paceTimer !== undefined) clearTimeout(paceTimer);
      paceTimer = undefined;
      if (stream && stream.state !== 'closed') stream.end(EndReason.DONE, nowFn());
      const w = pendingWrite;
      pendingWrite = undefined;
      w?.cb(err ?? new Error('stream destroyed'));
      cb(err);
    },
  });

  let paceTimer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    const w = pendingWrite;
    if (!w || !stream) return;
    if (stream.state === 'closed') {
      pendingWrite = undefined;
      w.cb(new TorStreamError(EndReason.DESTROY, 'stream closed'));
      return;
    }
    // The exit's XON rate advisory paces uploads; a timer resumes once it allows a cell again.
    const now = nowFn();
    const allowed = stream.uploadAllowance(now);
    const n = allowed >= w.data.length ? stream.write(w.data, now) : stream.write(w.data.subarray(0, allowed), now);
    if (n === w.data.length) {
      pendingWrite = undefined;
      w.cb();
    } else {
      w.data = w.data.subarray(n);
      const at = stream.writableBytes > 0 ? stream.uploadResumeAt(now) : null;
      if (at !== null && paceTimer === undefined) {
        paceTimer = setTimeout(() => {
          paceTimer = undefined;
          flush();
        }, Math.max(1, Math.ceil(at - now)));
      }
    }
  };

  const handle = (e: StreamEvent): void => {
    if (e.type === 'data') d.push(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength));
    else if (e.type === 'writable') flush();
    else if (e.type === 'end' && !ended) {
      ended = true;
      if (e.reason === EndReason.DONE && e.remote) d.push(null);
      else d.destroy(new TorStreamError(e.reason, e.error?.message));
      const w = pendingWrite;
      pendingWrite = undefined;
      w?.cb(new TorStreamError(e.reason));
    }
  };

  return {
    freeSpace: () => Math.max(0, capacity - d.readableLength),
    onEvent: (e) => {
      if (stream) handle(e);
      else early.push(e);
    },
    attach(s) {
      stream = s;
      for (const e of early.splice(0)) handle(e);
      return d;
    },
  };
}
