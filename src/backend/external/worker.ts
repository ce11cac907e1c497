// The external backend worker: each stream is a kernel TCP connection to a Tor SOCKS port, a SOCKS5
// handshake carrying the stream's isolation key as credentials, then bytes moved between that
// socket and the stream's rings. Tor does the anonymity; names are resolved by Tor (SOCKS5 with a
// domain name, or Tor's RESOLVE command), never here.

import { connect, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { StreamEndReason } from '../../socks/codes.js';
import { errnoToEndReason } from '../errno-reason.js';
import { isBackendRequest, type BackendEvent, type BackendRequest, type BackendWorkerData, type ResolveAnswer, type StreamTarget } from '../interface.js';
import { RingTable } from '../ring-table.js';
import { SocketPump } from '../socket-pump.js';
import { externalConfigProblem, type ExternalBackendConfig } from './config.js';
import { Socks5ClientHandshake, type HandshakeStep } from './handshake.js';

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 120_000;
/** Tor accepts any password; the username alone carries the key. */
const PASSWORD = 'onionplane';

interface Stream {
  readonly id: number;
  readonly slot: number;
  readonly socket: Socket;
  pump?: SocketPump;
  timer?: NodeJS.Timeout | undefined;
}

function post(e: BackendEvent): void {
  parentPort!.postMessage(e);
}

/** Opens a SOCKS connection and runs the handshake; resolves with the step that ended it. */
function socksHandshake(
  config: ExternalBackendConfig,
  hs: Socks5ClientHandshake,
  onSocket: (s: Socket) => void,
): Promise<{ socket: Socket; step: HandshakeStep }> {
  return new Promise((resolve) => {
    const socket = connect({ host: config.socksHost, port: config.socksPort, allowHalfOpen: true, noDelay: true });
    onSocket(socket);
    let settled = false;
    const settle = (step: HandshakeStep): void => {
      if (settled) return;
      settled = true;
      socket.off('data', onData);
      resolve({ socket, step });
    };
    const onData = (chunk: Buffer): void => {
      const step = hs.receive(chunk);
      if (step.status === 'continue') {
        if (step.send) socket.write(step.send);
      } else settle(step);
    };
    socket.on('data', onData);
    socket.once('connect', () => socket.write(hs.start()));
    socket.once('error', (e: NodeJS.ErrnoException) =>
      settle({ status: 'failed', reason: errnoToEndReason(e.code), detail: `SOCKS port: ${e.code ?? e.message}` }),
    );
    socket.once('end', () => settle({ status: 'failed', reason: StreamEndReason.TORPROTOCOL, detail: 'SOCKS port closed the connection' }));
  });
}

async function main(): Promise<void> {
  const data = workerData as BackendWorkerData<ExternalBackendConfig>;
  const problem = externalConfigProblem(data.config);
  if (problem) {
    post({ type: 'fatal', message: problem });
    parentPort!.close();
    return;
  }
  const config = data.config;
  const timeoutMs = config.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const table = RingTable.attach(data.table);
  if (data.dataplaneEventFd !== undefined) {
    const { loadNative } = await import('../../native/binding.js');
    const native = loadNative();
    const fd = data.dataplaneEventFd;
    table.doorbell('dataplane').setWakeHook(() => native.eventfdSignal(fd));
  }
  const bySlot = new Map<number, Stream>();
  const byId = new Map<number, Stream>();
  const pendingResolves = new Map<number, Socket>();
  const bell = table.doorbell('backend');
  let running = true;

  const forget = (s: Stream): void => {
    bySlot.delete(s.slot);
    byId.delete(s.id);
    if (s.timer) clearTimeout(s.timer);
  };

  const fail = (s: Stream, reason: number, onionCode?: number): void => {
    if (byId.get(s.id) !== s) return;
    forget(s);
    s.socket.destroy();
    const ep = table.endpoint(s.slot, 'backend');
    ep.reset();
    ep.release();
    post({ type: 'failed', id: s.id, reason, onionCode });
  };

  const open = async (m: Extract<BackendRequest, { type: 'open' }>): Promise<void> => {
    if (m.slot >= table.slots || table.generation(m.slot) !== m.generation || bySlot.has(m.slot)) {
      post({ type: 'failed', id: m.id, reason: StreamEndReason.INTERNAL });
      return;
    }
    const hs = new Socks5ClientHandshake('connect', m.target, m.isolationKey || 'default', PASSWORD);
    let stream: Stream | undefined;
    const { socket, step } = await socksHandshake(config, hs, (socket) => {
      stream = { id: m.id, slot: m.slot, socket };
      bySlot.set(m.slot, stream);
      byId.set(m.id, stream);
      stream.timer = setTimeout(() => fail(stream!, StreamEndReason.TIMEOUT), timeoutMs);
    });
    const s = stream!;
    if (byId.get(s.id) !== s) {
      socket.destroy(); // aborted or timed out meanwhile
      return;
    }
    if (step.status !== 'done') {
      fail(s, step.status === 'failed' ? step.reason : StreamEndReason.INTERNAL, step.status === 'failed' ? step.onionCode : undefined);
      return;
    }
    clearTimeout(s.timer);
    s.timer = undefined;
    const b = step.reply.bound;
    post({ type: 'connected', id: s.id, bound: b.kind === 'ipv4' && b.addr === '0.0.0.0' ? undefined : b, sourcePort: socket.localPort });
    const ep = table.endpoint(s.slot, 'backend');
    // Bytes the target sent right behind the reply belong to the stream.
    if (step.rest.length) ep.write(step.rest);
    s.pump = new SocketPump(ep, socket, (reason) => {
      forget(s);
      post({ type: 'closed', id: s.id, reason });
    });
    s.pump.start();
  };

  const resolve = async (m: Extract<BackendRequest, { type: 'resolve' }>): Promise<void> => {
    const target: StreamTarget = m.mode === 'forward' ? { kind: 'host', host: m.name, port: 0 } : /:/.test(m.name) ? { kind: 'ipv6', addr: m.name, port: 0 } : { kind: 'ipv4', addr: m.name, port: 0 };
    const hs = new Socks5ClientHandshake(m.mode === 'forward' ? 'resolve' : 'resolve_ptr', target, m.isolationKey || 'default', PASSWORD);
    const { socket, step } = await socksHandshake(config, hs, (sock) => pendingResolves.set(m.id, sock));
    socket.destroy();
    if (!pendingResolves.delete(m.id)) return;
    let answer: ResolveAnswer = { kind: 'error' };
    if (step.status === 'done') {
      const b = step.reply.bound;
      answer = b.kind === 'host' ? { kind: 'host', host: b.host } : { kind: b.kind, addr: b.addr };
    }
    post({ type: 'resolved', id: m.id, answer });
  };

  const shutdown = (): void => {
    running = false;
    for (const s of [...bySlot.values()]) {
      if (s.pump) s.pump.abort(StreamEndReason.MISC);
      else fail(s, StreamEndReason.MISC);
    }
    for (const sock of pendingResolves.values()) sock.destroy();
    pendingResolves.clear();
    bell.ring(0);
    parentPort!.close();
  };

  parentPort!.on('message', (m: unknown) => {
    if (!isBackendRequest(m)) return;
    switch (m.type) {
      case 'open':
        return void open(m);
      case 'resolve':
        return void resolve(m);
      case 'abort': {
        const sock = pendingResolves.get(m.id);
        if (sock) {
          pendingResolves.delete(m.id);
          sock.destroy();
        }
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
