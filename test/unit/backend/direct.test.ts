// The direct backend worker against local 127.0.0.1 servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as connectTcp, createServer, type Server, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { RingTable, type BackendEvent, type StreamEndpoint } from '../../../src/backend/index.js';
import { DIRECT_ACKNOWLEDGEMENT, startDirectBackend } from '../../../src/backend/direct/index.js';
import { StreamEndReason } from '../../../src/socks/codes.js';
import { transpileTree } from './transpile.js';
import { EventFd } from '../../../src/native/eventfd.js';

let tree: { root: string; cleanup: () => void };
beforeAll(() => {
  tree = transpileTree(['src/backend', 'src/socks', 'src/native', 'src/tor/cell', 'src/tor/bytes']);
});
afterAll(() => tree.cleanup());

const ACK = { acknowledgement: DIRECT_ACKNOWLEDGEMENT, connectTimeoutMs: 3000 };

function start(table: RingTable, config: object, dataplaneEventFd?: number) {
  const backend = startDirectBackend(table, config, { workerUrl: join(tree.root, 'src/backend/direct/worker.js'), ...(dataplaneEventFd !== undefined ? { dataplaneEventFd } : {}) });
  const events: BackendEvent[] = [];
  const waiters: { pred: (e: BackendEvent) => boolean; resolve: (e: BackendEvent) => void }[] = [];
  backend.onEvent((e) => {
    events.push(e);
    for (const w of [...waiters]) if (w.pred(e)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(e);
    }
  });
  const next = (pred: (e: BackendEvent) => boolean) =>
    new Promise<BackendEvent>((resolve) => {
      const seen = events.find(pred);
      if (seen) resolve(seen);
      else waiters.push({ pred, resolve });
    });
  return { backend, events, next };
}

async function listen(onConn: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onConn);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** Read until EOF/reset on the dataplane side. */
async function drain(table: RingTable, ep: StreamEndpoint, onData?: (b: Uint8Array) => void): Promise<number> {
  const buf = new Uint8Array(64 * 1024);
  let total = 0;
  for (;;) {
    const n = ep.read(buf);
    if (n > 0) {
      total += n;
      onData?.(buf.subarray(0, n));
      continue;
    }
    if (ep.readEnded || ep.isReset) return total;
    if (ep.armRead()) await table.doorbell('dataplane').wait(10_000);
  }
}


describe('direct backend', () => {
  it('refuses to start without the acknowledgement', async () => {
    const table = RingTable.create({ slots: 2, capacity: 4096 });
    for (const cfg of [{}, { acknowledgement: 'yes' }]) {
      const b = start(table, cfg);
      const e = await b.next((x) => x.type === 'fatal' || x.type === 'ready');
      expect(e.type).toBe('fatal');
      expect((e as { message: string }).message).toContain(DIRECT_ACKNOWLEDGEMENT);
      await b.backend.close();
    }
  });

  it('connects, echoes 16 MB with optimistic data, half-closes both ways, reports closed', async () => {
    const { server, port } = await listen((s) => s.pipe(s)); // echo, FIN forwarded by pipe
    const table = RingTable.create({ slots: 4, capacity: 64 * 1024 });
    const b = start(table, ACK);
    await b.next((e) => e.type === 'ready');
    const slot = table.alloc()!;
    const ep = table.endpoint(slot, 'dataplane');
    const first = new Uint8Array(Buffer.from('optimistic '));
    expect(ep.write(first)).toBe(first.length); // before the stream is even opened
    b.backend.send({ type: 'open', id: 1, slot, generation: table.generation(slot), target: { kind: 'ipv4', addr: '127.0.0.1', port }, isolationKey: 'k' });
    const c = await b.next((e) => e.type === 'connected' || e.type === 'failed');
    expect(c).toMatchObject({ type: 'connected', id: 1, bound: { kind: 'ipv4', addr: '127.0.0.1' } });

    const TOTAL = 16 * 1024 * 1024;
    const sentHash = createHash('sha256').update(first);
    const gotHash = createHash('sha256');
    const chunk = new Uint8Array(32 * 1024);
    let pending: Uint8Array | undefined;
    let sent = 0;
    let got = 0;
    const inBuf = new Uint8Array(64 * 1024);
    const t0 = performance.now();
    for (;;) {
      let progress = false;
      for (;;) {
        if (!pending) {
          if (sent >= TOTAL) break;
          pending = chunk.subarray(0, Math.min(chunk.length, TOTAL - sent));
          randomFillSync(pending);
          sentHash.update(pending);
        }
        const n = ep.write(pending);
        if (n === 0) break;
        progress = true;
        sent += n;
        pending = n < pending.length ? pending.subarray(n) : undefined;
      }
      if (sent >= TOTAL && !pending && !ep.writeClosed) ep.shutdownWrite();
      for (let n; (n = ep.read(inBuf)) > 0; ) {
        got += n;
        gotHash.update(inBuf.subarray(0, n));
        progress = true;
      }
      if (ep.readEnded || ep.isReset) break;
      if (!progress) {
        let sleep = ep.armRead();
        if (pending || sent < TOTAL) sleep = ep.armWrite() && sleep;
        if (sleep) await table.doorbell('dataplane').wait(10_000);
      }
    }
    expect(ep.isReset).toBe(false);
    expect(got).toBe(TOTAL + first.length);
    const ms = performance.now() - t0;
    console.log(`direct echo: 16 MB each way via 127.0.0.1 in ${ms.toFixed(0)} ms (${(16 / (ms / 1000)).toFixed(0)} MB/s)`);
    expect(gotHash.digest('hex')).toBe(sentHash.digest('hex'));
    expect(await b.next((e) => e.type === 'closed')).toEqual({ type: 'closed', id: 1, reason: StreamEndReason.DONE });
    expect(ep.release()).toBe(true);
    await b.backend.close();
    server.close();
  }, 60_000);

  it('a slow reader back-pressures the remote sender; everything arrives after draining', async () => {
    const TOTAL = 48 * 1024 * 1024;
    let written = 0;
    let serverSide: Socket | undefined;
    const h = createHash('sha256');
    const { server, port } = await listen((s) => {
      serverSide = s;
      const chunk = Buffer.alloc(256 * 1024);
      const pump = () => {
        while (written < TOTAL) {
          const part = chunk.subarray(0, Math.min(chunk.length, TOTAL - written));
          randomFillSync(part);
          h.update(part);
          written += part.length;
          if (!s.write(Buffer.from(part))) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
    const table = RingTable.create({ slots: 4, capacity: 64 * 1024 });
    const b = start(table, ACK);
    await b.next((e) => e.type === 'ready');
    const slot = table.alloc()!;
    const ep = table.endpoint(slot, 'dataplane');
    b.backend.send({ type: 'open', id: 7, slot, generation: table.generation(slot), target: { kind: 'host', host: 'localhost', port }, isolationKey: '' });
    expect((await b.next((e) => e.type === 'connected' || e.type === 'failed')).type).toBe('connected');
    await new Promise((r) => setTimeout(r, 300));
    // Nothing read yet: the ring is full and the sender is stuck far short of the total.
    expect(ep.readable()).toBe(64 * 1024);
    const stuckAt = written;
    expect(stuckAt).toBeLessThan(TOTAL / 2);
    const g = createHash('sha256');
    const got = await drain(table, ep, (x) => g.update(x));
    expect(got).toBe(TOTAL);
    expect(g.digest('hex')).toBe(h.digest('hex'));
    ep.shutdownWrite();
    await b.next((e) => e.type === 'closed');
    expect(serverSide).toBeDefined();
    await b.backend.close();
    server.close();
  }, 60_000);

  it('connection refused maps to CONNECTREFUSED and frees the backend hold', async () => {
    const { server, port } = await listen(() => {});
    server.close(); // the port is now closed
    const table = RingTable.create({ slots: 1, capacity: 4096 });
    const b = start(table, ACK);
    await b.next((e) => e.type === 'ready');
    const slot = table.alloc()!;
    b.backend.send({ type: 'open', id: 3, slot, generation: table.generation(slot), target: { kind: 'ipv4', addr: '127.0.0.1', port }, isolationKey: '' });
    expect(await b.next((e) => e.type === 'failed')).toEqual({ type: 'failed', id: 3, reason: StreamEndReason.CONNECTREFUSED });
    expect(table.release(slot, 'dataplane')).toBe(true);
    await b.backend.close();
  });

  it('an open that hangs fails with TIMEOUT at its deadline; an aborted one with MISC; both free the backend hold', async () => {
    // A listener that never accepts, its accept queue filled: further connects hang in SYN-SENT.
    const py = spawn('python3', ['-c', "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)"], { stdio: ['ignore', 'pipe', 'inherit'] });
    const fillers: Socket[] = [];
    try {
      const port = await new Promise<number>((r) => py.stdout.once('data', (d) => r(Number(String(d).trim()))));
      for (let i = 0; i < 3; i++) {
        const c = connectTcp({ host: '127.0.0.1', port });
        c.on('error', () => undefined);
        fillers.push(c);
      }
      await new Promise((r) => setTimeout(r, 200));
      const table = RingTable.create({ slots: 4, capacity: 4096 });
      const b = start(table, { ...ACK, connectTimeoutMs: 700 });
      await b.next((e) => e.type === 'ready');
      const open = (id: number): number => {
        const slot = table.alloc()!;
        b.backend.send({ type: 'open', id, slot, generation: table.generation(slot), target: { kind: 'ipv4', addr: '127.0.0.1', port }, isolationKey: '' });
        return slot;
      };
      const t0 = performance.now();
      const timedOut = open(40);
      const aborted = open(41);
      b.backend.send({ type: 'abort', id: 41 });
      expect(await b.next((e) => e.type === 'failed' && e.id === 41)).toEqual({ type: 'failed', id: 41, reason: StreamEndReason.MISC });
      expect(table.release(aborted, 'dataplane')).toBe(true);
      expect(await b.next((e) => e.type === 'failed' && e.id === 40)).toEqual({ type: 'failed', id: 40, reason: StreamEndReason.TIMEOUT });
      expect(performance.now() - t0).toBeGreaterThan(600);
      expect(table.release(timedOut, 'dataplane')).toBe(true);
      // A later open still gets its own full deadline (one timer serves them in order).
      const t1 = performance.now();
      const late = open(42);
      expect(await b.next((e) => e.type === 'failed' && e.id === 42)).toEqual({ type: 'failed', id: 42, reason: StreamEndReason.TIMEOUT });
      expect(performance.now() - t1).toBeGreaterThan(600);
      expect(table.release(late, 'dataplane')).toBe(true);
      await b.backend.close();
    } finally {
      for (const c of fillers) c.destroy();
      py.kill();
    }
  }, 20_000);

  it('reset propagates both ways', async () => {
    const serverSockets: Socket[] = [];
    const serverErrors: string[] = [];
    const { server, port } = await listen((s) => {
      serverSockets.push(s);
      s.on('error', (e: NodeJS.ErrnoException) => serverErrors.push(e.code ?? ''));
    });
    const table = RingTable.create({ slots: 2, capacity: 4096 });
    const b = start(table, ACK);
    await b.next((e) => e.type === 'ready');
    const open = async (id: number) => {
      const slot = table.alloc()!;
      b.backend.send({ type: 'open', id, slot, generation: table.generation(slot), target: { kind: 'ipv4', addr: '127.0.0.1', port }, isolationKey: '' });
      expect((await b.next((e) => (e.type === 'connected' || e.type === 'failed') && e.id === id)).type).toBe('connected');
      return table.endpoint(slot, 'dataplane');
    };
    // Dataplane resets: the remote sees a connection reset.
    const a = await open(10);
    while (serverSockets.length < 1) await new Promise((r) => setTimeout(r, 5));
    const closedA = new Promise((r) => serverSockets[0]!.once('close', r));
    a.reset();
    await closedA;
    expect(serverErrors).toContain('ECONNRESET');
    expect(await b.next((e) => e.type === 'closed' && e.id === 10)).toMatchObject({ reason: StreamEndReason.CONNRESET });
    a.release();
    // Remote resets: the dataplane sees the ring reset and a CONNRESET close.
    const c = await open(11);
    while (serverSockets.length < 2) await new Promise((r) => setTimeout(r, 5));
    serverSockets[1]!.resetAndDestroy();
    await drain(table, c);
    expect(c.isReset).toBe(true);
    expect(await b.next((e) => e.type === 'closed' && e.id === 11)).toMatchObject({ reason: StreamEndReason.CONNRESET });
    c.release();
    expect(table.inUse()).toBe(0);
    await b.backend.close();
    server.close();
  });

  it('resolves names, answers unknown names with an error, drops aborted lookups', async () => {
    const table = RingTable.create({ slots: 1, capacity: 4096 });
    const b = start(table, ACK);
    await b.next((e) => e.type === 'ready');
    b.backend.send({ type: 'resolve', id: 20, mode: 'forward', name: 'localhost', isolationKey: '' });
    const r = await b.next((e) => e.type === 'resolved');
    expect(['127.0.0.1', '::1']).toContain((r as { answer: { addr: string } }).answer.addr);
    b.backend.send({ type: 'resolve', id: 21, mode: 'forward', name: 'no-such-name.invalid', isolationKey: '' });
    expect(await b.next((e) => e.type === 'resolved' && e.id === 21)).toMatchObject({ answer: { kind: 'error' } });
    b.backend.send({ type: 'resolve', id: 22, mode: 'forward', name: 'localhost', isolationKey: '' });
    b.backend.send({ type: 'abort', id: 22 });
    b.backend.send({ type: 'resolve', id: 23, mode: 'forward', name: 'localhost', isolationKey: '' });
    await b.next((e) => e.type === 'resolved' && e.id === 23);
    expect(b.events.some((e) => e.type === 'resolved' && e.id === 22)).toBe(false);
    await b.backend.close();
  });

  it('wakes a dataplane parked on an eventfd', async () => {
    const TOTAL = 4 * 1024 * 1024;
    const payload = Buffer.alloc(TOTAL);
    randomFillSync(payload);
    const { server, port } = await listen((s) => s.end(payload));
    const table = RingTable.create({ slots: 1, capacity: 16 * 1024 });
    const efd = new EventFd();
    let wakeups = 0;
    let wake: (() => void) | undefined;
    efd.onSignal(() => {
      wakeups++;
      wake?.();
    });
    try {
      const b = start(table, ACK, efd.fd);
      await b.next((e) => e.type === 'ready');
      const slot = table.alloc()!;
      const ep = table.endpoint(slot, 'dataplane');
      const bell = table.doorbell('dataplane');
      b.backend.send({ type: 'open', id: 30, slot, generation: table.generation(slot), target: { kind: 'ipv4', addr: '127.0.0.1', port }, isolationKey: '' });
      const h = createHash('sha256');
      const buf = new Uint8Array(64 * 1024);
      let got = 0;
      for (;;) {
        const n = ep.read(buf);
        if (n > 0) {
          got += n;
          h.update(buf.subarray(0, n));
          continue;
        }
        if (ep.readEnded || ep.isReset) break;
        if (ep.armRead() && bell.prepareToPark()) {
          await new Promise<void>((r) => (wake = r));
          bell.unpark();
        }
        bell.takeReady();
      }
      expect(got).toBe(TOTAL);
      expect(h.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
      expect(wakeups).toBeGreaterThan(0);
      ep.shutdownWrite();
      await b.next((e) => e.type === 'closed');
      await b.backend.close();
    } finally {
      efd.close();
      server.close();
    }
  }, 30_000);
});
