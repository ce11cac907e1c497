import { createServer, connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isNativeErrnoError, loadNative } from '../../../src/native/binding.js';

const fdOf = (s: Socket): number => (s as unknown as { _handle: { fd: number } })._handle.fd;

describe('tcpQuickAck (native shim)', () => {
  it('sets TCP_QUICKACK on a connected TCP socket and keeps it working', async () => {
    const server = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const c = connect({ host: '127.0.0.1', port });
    try {
      await new Promise<void>((r) => c.once('connect', r));
      const fd = fdOf(c);
      expect(fd).toBeGreaterThan(2);
      loadNative().tcpQuickAck(fd);
      const echoed = new Promise<Buffer>((r) => c.once('data', r));
      c.write('ping');
      expect((await echoed).toString()).toBe('ping');
      loadNative().tcpQuickAck(fd); // re-armed after a read, as the Tor channels do
    } finally {
      c.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('refuses what is not a TCP socket with the errno', () => {
    const n = loadNative();
    const efd = n.eventfdCreate();
    try {
      let caught: unknown;
      try {
        n.tcpQuickAck(efd);
      } catch (e) {
        caught = e;
      }
      expect(isNativeErrnoError(caught)).toBe(true);
      expect((caught as { code: string }).code).toBe('ENOTSOCK');
    } finally {
      n.closeFd(efd);
    }
  });
});
