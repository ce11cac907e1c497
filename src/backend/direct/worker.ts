// The direct backend worker: plain node:net connections from this host (NOT anonymous), bytes moved
// between kernel sockets and the shared rings. Started by startDirectBackend(); refuses to run unless
// its config carries the acknowledgement in config.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { connect, type Socket } from 'node:net';
import { promises as dns } from 'node:dns';
import { RingTable } from '../ring-table.js';
import { SocketPump } from '../socket-pump.js';
import { errnoToEndReason } from '../errno-reason.js';
import { isBackendRequest, type BackendEvent, type BackendRequest, type BackendWorkerData, type StreamTarget } from '../interface.js';
import { StreamEndReason } from '../../socks/codes.js';
import { directConfigProblem, type DirectBackendConfig } from './config.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

interface Stream {
  readonly id: number;
  readonly slot: number;
  readonly socket: Socket;
  pump?: SocketPump;
  connectTimer?: NodeJS.Timeout | undefined;
}

function post(e: BackendEvent): void {
  parentPort!.postMessage(e);
}

async function main(): Promise<void> {
  const data = workerData as BackendWorkerData<DirectBackendConfig>;
  const problem = directConfigProblem(data.config);
  if (problem) {
    post({ type: 'fatal', message: problem });
    parentPort!.close();
    return;
  }
  const table = RingTable.attach(data.table);
  if (data.dataplaneEventFd !== undefined) {
    const { loadNative } = await import('../../native/binding.js');
    const native = loadNative();
    const fd = data.dataplaneEventFd;
    table.doorbell('dataplane').setWakeHook(() => native.eventfdSignal(fd));
  }
  const connectTimeout = data.config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const bySlot = new Map<number, Stream>();
  const byId = new Map<number, Stream>();
  const resolving = new Set<number>();
  const bell = table.doorbell('backend');
  let running = true;

  const forget = (s: Stream) => {
    bySlot.delete(s.slot);
    byId.delete(s.id);
    if (s.connectTimer) clearTimeout(s.connectTimer);
  };

  const fail = (s: Stream, reason: number) => {
    if (byId.get(s.id) !== s) return; // already failed (timer and error can both fire)
    forget(s);
    s.socket.destroy();
    const ep = table.endpoint(s.slot, 'backend');
    ep.reset();
    ep.release();
    post({ type: 'failed', id: s.id, reason });
  };

  const open = (m: Extract<BackendRequest, { type: 'open' }>) => {
    if (m.slot >= table.slots || table.generation(m.slot) !== m.generation || bySlot.has(m.slot)) {
      post({ type: 'failed', id: m.id, reason: StreamEndReason.INTERNAL });
      return;
    }
    const t = m.target;
    const socket = connect({ host: t.kind === 'host' ? t.host : t.addr, port: t.port, allowHalfOpen: true, noDelay: true });
    const s: Stream = { id: m.id, slot: m.slot, socket };
    bySlot.set(m.slot, s);
    byId.set(m.id, s);
    s.connectTimer = setTimeout(() => fail(s, StreamEndReason.TIMEOUT), connectTimeout);
    const onError = (err: NodeJS.ErrnoException) => fail(s, errnoToEndReason(err.code));
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(s.connectTimer);
      s.connectTimer = undefined;
      socket.off('error', onError);
      const bound: StreamTarget | undefined =
        socket.localAddress && socket.localPort !== undefined
          ? socket.localFamily === 'IPv6'
            ? { kind: 'ipv6', addr: socket.localAddress, port: socket.localPort }
            : { kind: 'ipv4', addr: socket.localAddress, port: socket.localPort }
          : undefined;
      post({ type: 'connected', id: s.id, bound });
      s.pump = new SocketPump(table.endpoint(s.slot, 'backend'), socket, (reason) => {
        forget(s);
        post({ type: 'closed', id: s.id, reason });
      });
      s.pump.start();
    });
  };

  const resolve = async (m: Extract<BackendRequest, { type: 'resolve' }>) => {
    resolving.add(m.id);
    let answer: Extract<BackendEvent, { type: 'resolved' }>['answer'];
    try {
      if (m.mode === 'forward') {
        const r = await dns.lookup(m.name);
        answer = r.family === 6 ? { kind: 'ipv6', addr: r.address } : { kind: 'ipv4', addr: r.address };
      } else {
        const names = await dns.reverse(m.name);
        answer = names[0] ? { kind: 'host', host: names[0] } : { kind: 'error' };
      }
    } catch {
      answer = { kind: 'error' };
    }
    if (resolving.delete(m.id)) post({ type: 'resolved', id: m.id, answer });
  };

  const shutdown = () => {
    running = false;
    for (const s of [...bySlot.values()]) {
      if (s.pump) s.pump.abort(StreamEndReason.MISC);
      else fail(s, StreamEndReason.MISC);
    }
    resolving.clear();
    bell.ring(0); // wake the ring loop so it can see `running` is false
    parentPort!.close();
  };

  parentPort!.on('message', (m: unknown) => {
    if (!isBackendRequest(m)) return;
    switch (m.type) {
      case 'open':
        return open(m);
      case 'resolve':
        return void resolve(m);
      case 'abort': {
        resolving.delete(m.id);
        const s = byId.get(m.id);
        if (s && !s.pump) fail(s, StreamEndReason.MISC);
        else s?.pump?.abort(StreamEndReason.MISC);
        return;
      }
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

void main().catch((err: unknown) => post({ type: 'fatal', message: String(err) }));
