// The direct backend worker: plain node:net connections from this host (NOT anonymous), bytes moved
// between kernel sockets and the shared rings. Started by startDirectBackend(); refuses to run unless
// its config carries the acknowledgement in config.ts.
import { promises as dns } from 'node:dns';
import { connect } from 'node:net';
import { errnoToEndReason } from '../errno-reason.js';
import type { ResolveAnswer, StreamTarget } from '../interface.js';
import { runSocketBackendWorker, type SocketOpenResult } from '../socket-worker.js';
import { directConfigProblem, type DirectBackendConfig } from './config.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

runSocketBackendWorker<DirectBackendConfig>({
  configProblem: directConfigProblem,
  openTimeoutMs: (c) => c.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  open: (_c, m, cancel) =>
    new Promise<SocketOpenResult>((resolve) => {
      const t = m.target;
      const socket = connect({ host: t.kind === 'host' ? t.host : t.addr, port: t.port, allowHalfOpen: true, noDelay: true });
      cancel.onCancel(() => socket.destroy());
      const onError = (err: NodeJS.ErrnoException): void => resolve({ ok: false, reason: errnoToEndReason(err.code) });
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        const bound: StreamTarget | undefined =
          socket.localAddress && socket.localPort !== undefined
            ? { kind: socket.localFamily === 'IPv6' ? 'ipv6' : 'ipv4', addr: socket.localAddress, port: socket.localPort }
            : undefined;
        resolve({ ok: true, socket, bound });
      });
    }),
  resolve: async (_c, m): Promise<ResolveAnswer> => {
    try {
      if (m.mode === 'forward') {
        const r = await dns.lookup(m.name);
        return r.family === 6 ? { kind: 'ipv6', addr: r.address } : { kind: 'ipv4', addr: r.address };
      }
      const names = await dns.reverse(m.name);
      return names[0] ? { kind: 'host', host: names[0] } : { kind: 'error' };
    } catch {
      return { kind: 'error' };
    }
  },
});
