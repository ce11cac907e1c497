// The worker side shared by backends whose streams are kernel sockets (direct, external): the
// stream table, open deadlines and aborts, the ring pumps, the doorbell loop and the control loop.
// A backend supplies only how a stream's socket is opened and how names are resolved.
//
// A connection rate multiplies every per-stream cost here, so those stay flat: streams sit in an array
// by slot, open deadlines form one list in deadline order (every open has the same timeout) under a
// single timer, cancellation is a flag and one hook instead of an AbortController, and control
// messages come and go through the shared-memory control rings (control-ring.ts), not postMessage.

import type { Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { StreamEndReason } from '../socks/codes.js';
import { decodeRequest, encodeEvent } from './control-codec.js';
import { ControlChannel } from './control-ring.js';
import { isBackendRequest, type BackendEvent, type BackendRequest, type BackendWorkerData, type ResolveAnswer, type StreamTarget } from './interface.js';
import { RingTable } from './ring-table.js';
import { loadNative } from '../native/binding.js';
import type { FdWatcher } from '../native/fd-watch.js';
import { detachSocket, type DetachedSocket } from './detach-socket.js';
import { FdPump } from './fd-pump.js';

export type OpenRequest = Extract<BackendRequest, { type: 'open' }>;
export type ResolveRequest = Extract<BackendRequest, { type: 'resolve' }>;

export type SocketOpenResult =
  | ({
      readonly ok: true;
      readonly bound?: StreamTarget | undefined;
      readonly sourcePort?: number | undefined;
      /** Stream bytes that arrived with the handshake. */
      readonly early?: Uint8Array | undefined;
    } & (
      /** Connected through node:net (its descriptor is taken over: detach-socket.ts). */
      | { readonly socket: Socket }
      /** A connected descriptor of the backend's own, with the watch that saw it connect. */
      | { readonly fd: number; readonly watch: FdWatcher }
    ))
  | { readonly ok: false; readonly reason: number; readonly onionCode?: number | undefined };

/** Gives up a connected stream socket nobody will use (aborted or timed out while opening). */
function dropOpened(r: Extract<SocketOpenResult, { ok: true }>): void {
  if ('socket' in r) r.socket.destroy();
  else {
    r.watch.stop();
    loadNative().closeStream(r.fd, true);
  }
}

/** How an open or resolve learns it was given up (timeout, abort, shutdown). */
export class Cancellation {
  cancelled = false;
  private hook: (() => void) | undefined;

  /** Runs `fn` when cancelled (at once if it already is); one hook per operation, the last one set wins. */
  onCancel(fn: () => void): void {
    if (this.cancelled) fn();
    else this.hook = fn;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    const h = this.hook;
    this.hook = undefined;
    h?.();
  }
}

export interface SocketBackendSpec<C> {
  /** Why the config cannot run (the worker then reports `fatal` and exits), or undefined. */
  readonly configProblem: (config: unknown) => string | undefined;
  /** How long an open may take before it fails with TIMEOUT. */
  readonly openTimeoutMs: (config: C) => number;
  /** Opens a stream's socket; must release everything when `cancel` fires. */
  readonly open: (config: C, m: OpenRequest, cancel: Cancellation) => Promise<SocketOpenResult>;
  readonly resolve: (config: C, m: ResolveRequest, cancel: Cancellation) => Promise<ResolveAnswer>;
}

class Stream extends Cancellation {
  pump: FdPump | undefined = undefined;
  /** When the open times out (performance.now() ms); the pending-open list is in this order. */
  deadline = 0;
  prev: Stream | undefined = undefined;
  next: Stream | undefined = undefined;
  pending = false;

  constructor(
    readonly id: number,
    readonly slot: number,
  ) {
    super();
  }
}

/** Streams still opening, oldest first; one timer for the oldest deadline. */
class OpenDeadlines {
  private head: Stream | undefined;
  private tail: Stream | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly onExpired: (s: Stream) => void) {}

  /** Deadlines must not decrease from one add to the next (same timeout for every open). */
  add(s: Stream, deadline: number): void {
    s.deadline = deadline;
    s.pending = true;
    s.prev = this.tail;
    s.next = undefined;
    if (this.tail) this.tail.next = s;
    else this.head = s;
    this.tail = s;
    if (!this.timer) this.arm(deadline - performance.now());
  }

  remove(s: Stream): void {
    if (!s.pending) return;
    s.pending = false;
    if (s.prev) s.prev.next = s.next;
    else this.head = s.next;
    if (s.next) s.next.prev = s.prev;
    else this.tail = s.prev;
    s.prev = s.next = undefined;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.fire, Math.max(1, ms));
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    while (this.head && this.head.deadline <= now) {
      const s = this.head;
      this.remove(s);
      this.onExpired(s);
    }
    if (this.head) this.arm(this.head.deadline - now);
  };
}

/** The worker's main: call it from the backend's worker script. */
export function runSocketBackendWorker<C>(spec: SocketBackendSpec<C>): void {
  const data = workerData as BackendWorkerData<C>;
  if (!data.control) {
    parentPort!.postMessage({ type: 'fatal', message: 'backend worker started without control rings' } satisfies BackendEvent);
    parentPort!.close();
    return;
  }
  const control = new ControlChannel<BackendEvent, BackendRequest>(data.control, 'backend', encodeEvent, decodeRequest);
  void serve(spec, data, control).catch((err: unknown) => {
    control.send({ type: 'fatal', message: String(err) });
    parentPort!.close();
  });
}

async function serve<C>(spec: SocketBackendSpec<C>, data: BackendWorkerData<C>, control: ControlChannel<BackendEvent, BackendRequest>): Promise<void> {
  const post = (e: BackendEvent): void => control.send(e);
  const problem = spec.configProblem(data.config);
  if (problem) {
    post({ type: 'fatal', message: problem });
    parentPort!.close();
    return;
  }
  const config = data.config;
  const openTimeoutMs = spec.openTimeoutMs(config);
  const table = RingTable.attach(data.table);
  if (data.dataplaneEventFd !== undefined) {
    const native = loadNative();
    const fd = data.dataplaneEventFd;
    table.doorbell('dataplane').setWakeHook(() => native.eventfdSignal(fd));
  }
  const bySlot: (Stream | undefined)[] = new Array<Stream | undefined>(table.slots).fill(undefined);
  const byId = new Map<number, Stream>();
  const resolving = new Map<number, Cancellation>();
  const bell = table.doorbell('backend');
  let running = true;

  const forget = (s: Stream): void => {
    if (bySlot[s.slot] === s) bySlot[s.slot] = undefined;
    byId.delete(s.id);
    deadlines.remove(s);
  };

  /** Ends a stream that never opened; safe to call twice (deadline and error can both fire). */
  const fail = (s: Stream, reason: number, onionCode?: number): void => {
    if (byId.get(s.id) !== s) return;
    forget(s);
    s.cancel();
    const ep = table.endpoint(s.slot, 'backend');
    ep.reset();
    ep.release();
    post({ type: 'failed', id: s.id, reason, onionCode });
  };

  const deadlines = new OpenDeadlines((s) => fail(s, StreamEndReason.TIMEOUT));

  const openFailed = (): SocketOpenResult => ({ ok: false, reason: StreamEndReason.INTERNAL });

  const open = async (m: OpenRequest): Promise<void> => {
    if (m.slot >= table.slots || table.generation(m.slot) !== m.generation || bySlot[m.slot] !== undefined) {
      post({ type: 'failed', id: m.id, reason: StreamEndReason.INTERNAL });
      return;
    }
    const s = new Stream(m.id, m.slot);
    bySlot[m.slot] = s;
    byId.set(m.id, s);
    deadlines.add(s, performance.now() + openTimeoutMs);
    const r = await spec.open(config, m, s).catch(openFailed);
    if (s.cancelled) {
      if (r.ok) dropOpened(r); // aborted or timed out meanwhile
      return;
    }
    if (!r.ok) {
      fail(s, r.reason, r.onionCode);
      return;
    }
    // From here the stream's bytes move in place between the kernel socket and the rings.
    const detached: DetachedSocket | undefined = 'socket' in r ? detachSocket(r.socket) : { fd: r.fd, buffered: undefined };
    if (!detached) {
      dropOpened(r);
      fail(s, StreamEndReason.INTERNAL);
      return;
    }
    deadlines.remove(s);
    post({ type: 'connected', id: s.id, bound: r.bound, sourcePort: r.sourcePort });
    const ep = table.endpoint(s.slot, 'backend');
    const parts = [r.early, detached.buffered].filter((p): p is Uint8Array => p !== undefined && p.length > 0);
    const head = parts.length === 0 ? undefined : parts.length === 1 ? parts[0] : Buffer.concat(parts);
    s.pump = new FdPump(ep, detached.fd, (reason) => {
      forget(s);
      post({ type: 'closed', id: s.id, reason });
    }, head, 'fd' in r ? r.watch : undefined);
    s.pump.start();
  };

  const resolve = async (m: ResolveRequest): Promise<void> => {
    const cancel = new Cancellation();
    resolving.set(m.id, cancel);
    const answer = await spec.resolve(config, m, cancel).catch((): ResolveAnswer => ({ kind: 'error' }));
    if (resolving.get(m.id) === cancel) {
      resolving.delete(m.id);
      post({ type: 'resolved', id: m.id, answer });
    }
  };

  const abortOne = (id: number): void => {
    const r = resolving.get(id);
    if (r) {
      resolving.delete(id);
      r.cancel();
    }
    const s = byId.get(id);
    if (s && !s.pump) fail(s, StreamEndReason.MISC);
    else s?.pump?.abort(StreamEndReason.MISC);
  };

  const shutdown = (): void => {
    running = false;
    for (const s of [...byId.values()]) {
      if (s.pump) s.pump.abort(StreamEndReason.MISC);
      else fail(s, StreamEndReason.MISC);
    }
    for (const r of resolving.values()) r.cancel();
    resolving.clear();
    deadlines.stop();
    bell.ring(0); // wake the ring loop so it sees `running` is false
    control.stop();
    parentPort!.close();
  };

  const handle = (m: BackendRequest): void => {
    if (!running) return;
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
  };
  void control.run(handle);
  // The open port keeps this thread alive while it serves; requests sent by message are served too.
  parentPort!.on('message', (m: unknown) => {
    if (isBackendRequest(m)) handle(m);
  });

  post({ type: 'ready' });
  while (running) {
    // The port listener keeps this thread alive; a pending doorbell wait need not.
    const ready = await bell.wait(undefined, false);
    for (const slot of ready) bySlot[slot]?.pump?.service();
  }
}
