// The shim's stream sockets (tcpConnect, readSpans/writeSpans in place in shared memory, dupFd,
// shutdownWrite, closeStream with reset) and FdWatch event masks, against kernel TCP on 127.0.0.1, with
// node:net sockets handed over by detachSocket.
import { constants } from 'node:os';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { detachSocket } from '../../../src/backend/detach-socket.js';
import { loadNative } from '../../../src/native/binding.js';
import { FdEvent, watchFd } from '../../../src/native/fd-watch.js';

const native = loadNative();
const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** A server whose accepted socket the test drives, and a connected client. */
async function pair(): Promise<{ peer: Socket; client: Socket }> {
  let peer!: Socket;
  const accepted = new Promise<void>((r) => {
    const server = createServer({ allowHalfOpen: true }, (s) => {
      peer = s;
      r();
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
  });
  await new Promise<void>((r) => servers[servers.length - 1]!.once('listening', r));
  const port = (servers[servers.length - 1]!.address() as { port: number }).port;
  const client = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await new Promise<void>((r) => client.once('connect', r));
  await accepted;
  return { peer, client };
}

/** Waits until `fd` reports one of `events`; resolves with the mask. */
function ready(fd: number, events: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = watchFd(fd, (status, ev) => {
      w.stop();
      if (status < 0) reject(new Error(`poll status ${status}`));
      else resolve(ev);
    }, events);
  });
}

describe('stream socket I/O in place (native shim)', () => {
  it('a detached socket keeps its connection and the bytes node:net had buffered; spans read and write across a wrap', async () => {
    const { peer, client } = await pair();
    // Bytes that arrive before the handover: node:net reads them; detachSocket must give them back.
    const arrived = new Promise<void>((r) => client.once('readable', () => r()));
    peer.write('early-');
    await arrived;
    const d = detachSocket(client);
    expect(d).toBeDefined();
    const fd = d!.fd;
    try {
      expect(Buffer.from(d!.buffered ?? new Uint8Array()).toString()).toBe('early-');
      const sab = new Uint8Array(new SharedArrayBuffer(64));
      // Read "0123456789" into two spans: 6 bytes at the end of the buffer, the rest at its start.
      peer.write('0123456789');
      expect(await ready(fd, FdEvent.READABLE)).toBe(FdEvent.READABLE);
      expect(native.readSpans(fd, sab, 58, 6, 0, 10)).toBe(10);
      expect(Buffer.from(sab.subarray(58, 64)).toString() + Buffer.from(sab.subarray(0, 4)).toString()).toBe('0123456789');
      expect(native.readSpans(fd, sab, 0, 10, 0, 0)).toBe(-constants.errno.EAGAIN);
      // Write two spans as one stream.
      const got = new Promise<string>((r) => peer.once('data', (c: Buffer) => r(c.toString())));
      sab.set(Buffer.from('world'), 0);
      sab.set(Buffer.from('hello '), 40);
      expect(await ready(fd, FdEvent.WRITABLE)).toBe(FdEvent.WRITABLE);
      expect(native.writeSpans(fd, sab, 40, 6, 0, 5)).toBe(11);
      expect(await got).toBe('hello world');
      // Half-close: the peer sees the end and can still answer; then our read sees its end.
      const ended = new Promise<void>((r) => peer.once('end', () => r()));
      peer.resume();
      expect(native.shutdownWrite(fd)).toBe(0);
      await ended;
      peer.end('bye');
      let text = '';
      for (;;) {
        await ready(fd, FdEvent.READABLE);
        const n = native.readSpans(fd, sab, 0, 64, 0, 0);
        if (n === 0) break;
        expect(n).toBeGreaterThan(0);
        text += Buffer.from(sab.subarray(0, n)).toString();
      }
      expect(text).toBe('bye');
    } finally {
      native.closeStream(fd, false);
    }
  });

  it('closeStream with reset sends a RST; writes to a reset connection return -errno instead of throwing', async () => {
    const { peer, client } = await pair();
    const d = detachSocket(client)!;
    const peerError = new Promise<string>((r) => peer.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? '')));
    expect(native.closeStream(d.fd, true)).toBe(0);
    expect(await peerError).toBe('ECONNRESET');

    const second = await pair();
    const d2 = detachSocket(second.client)!;
    try {
      second.peer.resetAndDestroy();
      // A RST raises POLLERR: the watch reports an error status and SO_ERROR says why (FdPump's path).
      const status = await new Promise<number>((r) => {
        const w = watchFd(d2.fd, (st) => {
          w.stop();
          r(st);
        });
      });
      expect(status).toBeLessThan(0);
      expect(native.socketError(d2.fd)).toBe(constants.errno.ECONNRESET);
      expect(native.socketError(d2.fd)).toBe(0); // read and cleared
      const sab = new Uint8Array(new SharedArrayBuffer(16));
      expect(native.readSpans(d2.fd, sab, 0, 16, 0, 0)).toBe(0); // the reset connection reads as ended
      const w = native.writeSpans(d2.fd, sab, 0, 16, 0, 0);
      expect([-constants.errno.EPIPE, -constants.errno.ECONNRESET]).toContain(w);
    } finally {
      native.closeStream(d2.fd, false);
    }
  });

  it('tcpConnect: connects without blocking (writable, SO_ERROR 0, local address), reports a refusal through SO_ERROR', async () => {
    const server = createServer((s) => s.end('hi'));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const fd = native.tcpConnect('127.0.0.1', port);
    expect(fd).toBeGreaterThan(2);
    try {
      expect(await ready(fd, FdEvent.WRITABLE)).toBe(FdEvent.WRITABLE);
      expect(native.socketError(fd)).toBe(0);
      const local = native.localAddress(fd);
      expect(local?.family).toBe(4);
      expect(local?.addr).toBe('127.0.0.1');
      expect(local?.port).toBeGreaterThan(0);
      await ready(fd, FdEvent.READABLE);
      const sab = new Uint8Array(new SharedArrayBuffer(8));
      expect(native.readSpans(fd, sab, 0, 8, 0, 0)).toBe(2);
      expect(Buffer.from(sab.subarray(0, 2)).toString()).toBe('hi');
    } finally {
      native.closeStream(fd, false);
    }
    // Nothing listens on the port once the server is closed: the refusal arrives as SO_ERROR.
    await new Promise<void>((r) => server.close(() => r()));
    servers.splice(servers.indexOf(server), 1);
    const refused = native.tcpConnect('127.0.0.1', port);
    try {
      if (refused >= 0) {
        await new Promise<void>((r) => {
          const w = watchFd(refused, () => {
            w.stop();
            r();
          }, FdEvent.WRITABLE);
        });
        expect(native.socketError(refused)).toBe(constants.errno.ECONNREFUSED);
      } else expect(refused).toBe(-constants.errno.ECONNREFUSED);
    } finally {
      if (refused >= 0) native.closeStream(refused, false);
    }
    expect(() => native.tcpConnect('localhost', 80)).toThrow(TypeError); // names are resolved by the caller
  });

  it('setEvents changes what a watch reports; bad spans are argument errors', async () => {
    const { peer, client } = await pair();
    const d = detachSocket(client)!;
    try {
      const seen: number[] = [];
      const w = watchFd(d.fd, (_s, ev) => seen.push(ev), 0);
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([]); // no events asked for
      expect(w.setEvents(FdEvent.WRITABLE)).toBe(0);
      await new Promise((r) => setTimeout(r, 20));
      w.setEvents(0);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((e) => e === FdEvent.WRITABLE)).toBe(true);
      w.stop();
      const sab = new Uint8Array(new SharedArrayBuffer(16));
      expect(() => native.readSpans(d.fd, sab, 10, 10, 0, 0)).toThrow(TypeError);
      expect(() => native.writeSpans(d.fd, sab, -1, 1, 0, 0)).toThrow(TypeError);
    } finally {
      native.closeStream(d.fd, false);
      peer.destroy();
    }
  });
});
