// The worker side shared by backends whose streams are kernel sockets (direct, external): the
// stream table, open timeouts and aborts, the ring pumps, the doorbell loop and the message loop.
// A backend supplies only how a stream's socket is opened and how names are resolved.

import type { Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { StreamEndReason } from '../socks/codes.js';
import { isBackendRequest, type BackendEvent, type BackendRequest, type BackendWorkerData, type ResolveAnswer, type StreamTarget } from './interface.js';
import { RingTable } from './ring-table.js';
import { SocketPump } from './socket-pump.js';

export type OpenRequest = Extract<BackendRequest, { type: 'open' }>;
export type ResolveRequest = Extract<BackendRequest, { type: 'resolve' }>;

export type SocketOpenResult =
  | {
      readonly ok: true;
      /** Connected and ready to carry the stream's bytes. */
      readonly socket: Socket;
      readonly bound?: StreamTarget | undefined;
      readonly sourcePort?: number | undefined;
      /** Stream bytes that arrived with the handshake. */
      readonly early?: Uint8Array | undefined;
    }
  | { readonly ok: false; readonly reason: number; readonly onionCode?: number | undefined };

export interface SocketBackendSpec<C> {
  /** Why the config cannot run (the worker then reports `fatal` and exits), or undefined. */
  readonly configProblem: (config: unknown) => string | undefined;
  /** How long an open may take before it fails with TIMEOUT. */
  readonly openTimeoutMs: (config: C) => number;
  /** Opens a stream's socket; must release everything when `signal` aborts. */
  readonly open: (config: C, m: OpenRequest, signal: AbortSignal) => Promise<SocketOpenResult>;
  readonly resolve: (config: C, m: ResolveRequest, signal: AbortSignal) => Promise<ResolveAnswer>;
}

interface Stream {
  readonly id: number;
  readonly slot: number;
  readonly abort: AbortController;
  pump?: SocketPump;
  timer?: NodeJS.Timeout | undefined;
}

function post(e: BackendEvent): void {
  parentPort!.postMessage(e);
}

/** The worker's main: call it from the backend's worker script. */
export function runSocketBackendWorker<C>(spec: SocketBackendSpec<C>): void {
  void serve(spec).catch((err: unknown) => post({ type: 'fatal', message: String(err) }));
}

async function serve<C>(spec: SocketBackendSpec<C>): Promise<void> {
  const data = workerData as BackendWorkerData<C>;
  const problem = spec.configProblem(data.config);
  if (problem) {
    post({ type: 'fatal', message: problem });
    parentPort!.close();
    return;
  }
  const config = data.config;
  const table = RingTable.attach(data.table);
  if (data.dataplaneEventFd !== undefined) {
    const { loadNative } = await import('../native/binding.js');
    const native = loadNative();
    const fd = data.dataplaneEventFd;
    table.doorbell('dataplane').setWakeHook(() => native.eventfdSignal(fd));
  }
  const bySlot = new Map<number, Stream>();
  const byId = new Map<number, Stream>();
  const resolving = new Map<number, AbortController>();
  const bell = table.doorbell('backend');
  let running = true;

  const forget = (s: Stream): void => {
    bySlot.delete(s.slot);
    byId.delete(s.id);
    if (s.timer) clearTimeout(s.timer);
  };

  /** Ends a stream that never opened; safe to call twice (timer and error can both fire). */
  const fail = (s: Stream, reason: number, onionCode?: number): void => {
    if (byId.get(s.id) !== s) return;
    forget(s);
    s.abort.abort();
    const ep = table.endpoint(s.slot, 'backend');
    ep.reset();
    ep.release();
    post({ type: 'failed', id: s.id, reason, onionCode });
  };

  const open = async (m: OpenRequest): Promise<void> => {
    if (m.slot >= table.slots || table.generation(m.slot) !== m.generation || bySlot.has(m.slot)) {
      post({ type: 'failed', id: m.id, reason: StreamEndReason.INTERNAL });
      return;
    }
    const s: Stream = { id: m.id, slot: m.slot, abort: new AbortController() };
    bySlot.set(m.slot, s);
    byId.set(m.id, s);
    s.timer = setTimeout(() => fail(s, StreamEndReason.TIMEOUT), spec.openTimeoutMs(config));
    const r = await spec.open(config, m, s.abort.signal).catch((): SocketOpenResult => ({ ok: false, reason: StreamEndReason.INTERNAL }));
    if (byId.get(s.id) !== s) {
      if (r.ok) r.socket.destroy(); // aborted or timed out meanwhile
      return;
    }
    if (!r.ok) {
      fail(s, r.reason, r.onionCode);
      return;
    }
    clearTimeout(s.timer);
    s.timer = undefined;
    post({ type: 'connected', id: s.id, bound: r.bound, sourcePort: r.sourcePort });
    const ep = table.endpoint(s.slot, 'backend');
    if (r.early?.length) ep.write(r.early);
    s.pump = new SocketPump(ep, r.socket, (reason) => {
      forget(s);
      post({ type: 'closed', id: s.id, reason });
    });
    s.pump.start();
  };

  const resolve = async (m: ResolveRequest): Promise<void> => {
    const abort = new AbortController();
    resolving.set(m.id, abort);
    const answer = await spec.resolve(config, m, abort.signal).catch((): ResolveAnswer => ({ kind: 'error' }));
    if (resolving.get(m.id) === abort) {
      resolving.delete(m.id);
      post({ type: 'resolved', id: m.id, answer });
    }
  };

  const abortOne = (id: number): void => {
    const r = resolving.get(id);
    if (r) {
      resolving.delete(id);
      r.abort();
    }
    const s = byId.get(id);
    if (s && !s.pump) fail(s, StreamEndReason.MISC);
    else s?.pump?.abort(StreamEndReason.MISC);
  };

  const shutdown = (): void => {
    running = false;
    for (const s of [...bySlot.values()]) {
      if (s.pump) s.pump.abort(StreamEndReason.MISC);
      else fail(s, StreamEndReason.MISC);
    }
    for (const r of resolving.values()) r.abort();
    resolving.clear();
    bell.ring(0); // wake the ring loop so it sees `running` is false
    parentPort!.close();
  };

  parentPort!.on('message', (m: unknown) => {
    if (!isBackendRequest(m)) return;
    switch (m.type) {
      case 'open':
        return void open(m);
      case 'resolve':
        return void resolve(m);
      case 'abort':
        return abortOne(m.id);
      case 'shutdown':
        return shutdown();
    }
  });

  post({ type: 'ready' });
  while (running) {
    const ready = await bell.wait();
    for (const slot of ready) bySlot.get(slot)?.pump?.service();
  }
}
