// The embedded Tor backend worker (worker_threads entry): runs a TorClient and serves the backend
// contract. open -> TorClient stream, bytes pumped between the stream and the slot's rings;
// resolve -> RESOLVE / RESOLVE_PTR at an exit; status/newnym for the plugin. Started by
// startEmbeddedBackend() with BackendWorkerData<EmbeddedTorConfig>.
import { parentPort, workerData } from 'node:worker_threads';
import { RingTable } from '../../backend/ring-table.js';
import type { BackendRequest, BackendWorkerData, ResolveAnswer, StreamTarget } from '../../backend/interface.js';
import { toResolveAnswer } from './resolve-answer.js';
import { EndReason } from '../cell/relay/end.js';
import { StreamOpenError } from '../circmgr/circmgr.js';
import { TorClient } from '../client/tor-client.js';
import { embeddedConfigProblem, isEmbeddedRequest, type EmbeddedEvent, type EmbeddedTorConfig } from './messages.js';
import { RingStreamPump } from './ring-stream-pump.js';

/** Give up on an open (bootstrap, circuit builds and BEGIN retries included) after 2 minutes. */
const OPEN_TIMEOUT_MS = 120_000;

interface Pending {
  readonly id: number;
  readonly slot: number;
  aborted: boolean;
  /** Receives the stream's events from CONNECTED on. */
  sink?: RingStreamPump;
  /** Set once the stream is attached (the ring is in use). */
  pump?: RingStreamPump;
}

function post(e: EmbeddedEvent): void {
  parentPort!.postMessage(e);
}

function targetHost(t: StreamTarget): string {
  return t.kind === 'host' ? t.host : t.addr;
}

async function main(): Promise<void> {
  const data = workerData as BackendWorkerData<EmbeddedTorConfig>;
  const problem = embeddedConfigProblem(data.config);
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
  const cfg = data.config;
  const client = new TorClient(
    {
      dirAuthorities: cfg.dirAuthorities,
      testNetwork: cfg.testNetwork,
      dataDir: cfg.dataDir,
      cacheDir: cfg.cacheDir,
      safeLogging: cfg.safeLogging,
      congestionControl: cfg.congestionControl,
      conflux: cfg.conflux,
      preemptivePorts: cfg.preemptivePorts,
      preemptiveCircuits: cfg.preemptiveCircuits,
    },
    { log: (line) => post({ type: 'log', line }) },
  );
  client.onProgress((status) => post({ type: 'bootstrap', status }));
  const byId = new Map<number, Pending>();
  const bySlot = new Map<number, Pending>();
  const resolving = new Set<number>();
  const bell = table.doorbell('backend');
  let running = true;

  const forget = (p: Pending): void => {
    if (byId.get(p.id) === p) byId.delete(p.id);
    if (bySlot.get(p.slot) === p) bySlot.delete(p.slot);
  };

  const failOpen = (p: Pending, reason: number): void => {
    forget(p);
    p.sink?.cancel();
    const ep = table.endpoint(p.slot, 'backend');
    ep.reset();
    ep.release();
    post({ type: 'failed', id: p.id, reason });
  };

  const open = (m: Extract<BackendRequest, { type: 'open' }>): void => {
    if (m.slot >= table.slots || table.generation(m.slot) !== m.generation || bySlot.has(m.slot) || byId.has(m.id)) {
      post({ type: 'failed', id: m.id, reason: EndReason.INTERNAL });
      return;
    }
    const p: Pending = { id: m.id, slot: m.slot, aborted: false };
    byId.set(m.id, p);
    bySlot.set(m.slot, p);
    const pump = new RingStreamPump(table.endpoint(m.slot, 'backend'), (reason) => {
      forget(p);
      post({ type: 'closed', id: p.id, reason });
    });
    p.sink = pump;
    // Like C tor's SocksTimeout: a stream that cannot be attached and connected in time fails.
    const deadline = setTimeout(() => {
      if (p.pump || p.aborted) return;
      p.aborted = true;
      failOpen(p, EndReason.TIMEOUT);
    }, OPEN_TIMEOUT_MS);
    client.openStream(targetHost(m.target), m.target.port, m.isolationKey, pump).then(
      (opened) => {
        clearTimeout(deadline);
        if (p.aborted || !running) {
          opened.stream.end(EndReason.DONE);
          return;
        }
        p.pump = pump;
        post({ type: 'connected', id: p.id, circuit: String(opened.record.circuit) });
        pump.attach(opened.stream);
      },
      (e: unknown) => {
        clearTimeout(deadline);
        if (p.aborted) return;
        failOpen(p, e instanceof StreamOpenError ? e.reason : EndReason.MISC);
      },
    );
  };

  const resolve = (m: Extract<BackendRequest, { type: 'resolve' }>): void => {
    resolving.add(m.id);
    const q = m.mode === 'forward' ? client.resolve(m.name, m.isolationKey) : client.resolvePtr(m.name, m.isolationKey);
    q.then(
      (answers) => toResolveAnswer(answers, m.mode),
      (): ResolveAnswer => ({ kind: 'error' }),
    ).then((answer) => {
      if (resolving.delete(m.id)) post({ type: 'resolved', id: m.id, answer });
    });
  };

  const abort = (id: number): void => {
    resolving.delete(id);
    const p = byId.get(id);
    if (!p) return;
    if (p.pump) return p.pump.abort(EndReason.MISC);
    p.aborted = true;
    failOpen(p, EndReason.MISC);
  };

  const shutdown = async (): Promise<void> => {
    running = false;
    for (const p of [...byId.values()]) abort(p.id);
    resolving.clear();
    await client.close();
    bell.ring(0);
    parentPort!.close();
  };

  parentPort!.on('message', (m: unknown) => {
    if (!isEmbeddedRequest(m)) return;
    switch (m.type) {
      case 'open':
        return open(m);
      case 'resolve':
        return resolve(m);
      case 'abort':
        return abort(m.id);
      case 'status':
        return post({ type: 'status', id: m.id, status: client.status() });
      case 'newnym':
        return client.newnym();
      case 'shutdown':
        return void shutdown();
    }
  });

  // Streams opened before bootstrap finishes wait for it inside TorClient.
  client.start().catch((e: unknown) => post({ type: 'log', line: `bootstrap stopped: ${String(e)}` }));
  post({ type: 'ready' });
  while (running) {
    const ready = await bell.wait();
    for (const slot of ready) bySlot.get(slot)?.pump?.service();
  }
}

void main().catch((err: unknown) => post({ type: 'fatal', message: String(err) }));
