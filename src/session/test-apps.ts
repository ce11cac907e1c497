// Builtin test applications (like VPP's hs_apps echo server): echo, sink and source, used by
// `test tcp server` and by TCP tests and benchmarks against kernel peers.

import type { Session, SessionApp } from './session.js';

export type TestAppMode = { kind: 'echo' } | { kind: 'sink' } | { kind: 'source'; bytes: number };

export interface TestAppStats {
  accepted: number;
  closed: number;
  resets: number;
  bytesIn: number;
  bytesOut: number;
}

/** Deterministic bytes for `source` (the same generator the tests check: byte i = (i * 7 + 13) & 0xff). */
export function sourceByte(i: number): number {
  return (i * 7 + 13) & 0xff;
}

const CHUNK = 64 * 1024;
/** Marks an echo/sink session whose peer has sent FIN. */
const PEER_CLOSED = Symbol('peer-closed');

interface SourceState {
  sent: number;
  /** The peer sent FIN: close once everything is queued. */
  peerClosed: boolean;
  /** Our FIN was requested (half-close after the last byte). */
  finQueued: boolean;
}

export function createTestApp(name: string, mode: TestAppMode): { app: SessionApp; stats: TestAppStats } {
  const stats: TestAppStats = { accepted: 0, closed: 0, resets: 0, bytesIn: 0, bytesOut: 0 };
  const scratch = new Uint8Array(CHUNK);
  const pattern = new Uint8Array(CHUNK + 256);
  for (let i = 0; i < pattern.length; i++) pattern[i] = sourceByte(i);

  const pump = (s: Session): void => {
    if (mode.kind === 'echo') {
      // Echo only what fits: the rest stays in the rx fifo, so the peer's window closes.
      for (;;) {
        const room = s.txFifo.maxEnqueue;
        const avail = s.rxFifo.maxDequeue;
        const n = Math.min(room, avail, CHUNK);
        if (n === 0) break;
        s.read(scratch, 0, n);
        stats.bytesIn += n;
        stats.bytesOut += s.write(scratch, 0, n);
      }
      if (s.rxFifo.maxDequeue > 0) s.wantTxSpace(Math.min(CHUNK, s.txFifo.size / 2));
      else if (s.appData === PEER_CLOSED) s.close();
    } else if (mode.kind === 'sink') {
      // Like VPP's echo server without echo: count and drop, no copy.
      stats.bytesIn += s.discard(s.rxFifo.maxDequeue);
    }
  };

  const fill = (s: Session): void => {
    if (mode.kind !== 'source') return;
    const st = s.appData as SourceState;
    while (st.sent < mode.bytes) {
      const want = Math.min(CHUNK, mode.bytes - st.sent, s.txFifo.maxEnqueue);
      if (want === 0) break;
      // The pattern repeats every 256 bytes: start at the right phase.
      const n = s.write(pattern, st.sent & 0xff, want);
      st.sent += n;
      stats.bytesOut += n;
    }
    if (st.sent < mode.bytes) s.wantTxSpace(Math.min(CHUNK, s.txFifo.size / 2));
    else finish(s, st);
  };

  // A source half-closes after its last byte and keeps reading until the peer closes too.
  const finish = (s: Session, st: SourceState): void => {
    if (st.peerClosed) s.close();
    else if (!st.finQueued) {
      st.finQueued = true;
      s.shutdownWrite();
    }
  };

  const app: SessionApp = {
    name,
    onAccept: (s) => {
      stats.accepted++;
      if (mode.kind === 'source') {
        s.appData = { sent: 0, peerClosed: false, finQueued: false } satisfies SourceState;
        fill(s);
      }
    },
    onRx: (s) => {
      if (mode.kind === 'source') {
        // A source ignores what it is sent.
        let n;
        while ((n = s.read(scratch, 0, CHUNK)) > 0) stats.bytesIn += n;
      } else pump(s);
    },
    onTxSpace: (s) => (mode.kind === 'source' ? fill(s) : pump(s)),
    onPeerClosed: (s) => {
      // echo/sink: the peer is done sending; close once everything it sent was handled.
      if (mode.kind === 'source') {
        const st = s.appData as SourceState;
        let n;
        while ((n = s.read(scratch, 0, CHUNK)) > 0) stats.bytesIn += n;
        st.peerClosed = true;
        if (st.sent >= mode.bytes) s.close();
        return;
      }
      s.appData = PEER_CLOSED;
      pump(s);
      if (mode.kind === 'sink') s.close();
    },
    onReset: () => void stats.resets++,
    onClosed: () => void stats.closed++,
  };
  return { app, stats };
}
