// The direct backend worker: plain TCP connections from this host (NOT anonymous), bytes moved between
// kernel sockets and the shared rings. Started by startDirectBackend(); refuses to run unless its config
// carries the acknowledgement in config.ts. Connections are opened by the shim (numeric address, after a
// name lookup here), so a stream's socket is the ring pump's from its first byte.
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { loadNative } from '../../native/binding.js';
import { FdEvent, watchFd } from '../../native/fd-watch.js';
import { errnoNumberToEndReason, errnoToEndReason } from '../errno-reason.js';
import type { ResolveAnswer, StreamTarget } from '../interface.js';
import { runSocketBackendWorker, type Cancellation, type SocketOpenResult } from '../socket-worker.js';
import { directConfigProblem, type DirectBackendConfig } from './config.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

const failed = (errno: number): SocketOpenResult => ({ ok: false, reason: errnoNumberToEndReason(errno) });

/** The address to connect to: the target's own, or what the system resolver says its name is. */
async function addressOf(t: StreamTarget): Promise<string | { error: string }> {
  if (t.kind !== 'host') return t.addr;
  if (isIP(t.host)) return t.host;
  try {
    return (await dns.lookup(t.host)).address;
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code ?? 'ENOTFOUND' };
  }
}

async function open(t: StreamTarget, cancel: Cancellation): Promise<SocketOpenResult> {
  const addr = await addressOf(t);
  if (typeof addr !== 'string') return { ok: false, reason: errnoToEndReason(addr.error) };
  if (cancel.cancelled) return { ok: false, reason: errnoToEndReason('ECANCELED') };
  const native = loadNative();
  const fd = native.tcpConnect(addr, t.port);
  if (fd < 0) return failed(-fd);
  return new Promise<SocketOpenResult>((resolve) => {
    // Writable once the connect finished; SO_ERROR says whether it worked. The stream's pump takes the watch
    // over (and sets what it polls for) before the loop turns again.
    let settled = false;
    const watch = watchFd(fd, () => {
      if (settled) return;
      settled = true;
      const err = native.socketError(fd);
      if (err !== 0) {
        watch.stop();
        native.closeStream(fd, false);
        return resolve(failed(err));
      }
      cancel.onCancel(() => undefined); // from here the stream's pump owns the descriptor
      const local = native.localAddress(fd);
      const bound: StreamTarget | undefined = local ? { kind: local.family === 6 ? 'ipv6' : 'ipv4', addr: local.addr, port: local.port } : undefined;
      resolve({ ok: true, fd, watch, bound });
    }, FdEvent.WRITABLE);
    cancel.onCancel(() => {
      watch.stop();
      native.closeStream(fd, true);
    });
  });
}

runSocketBackendWorker<DirectBackendConfig>({
  configProblem: directConfigProblem,
  openTimeoutMs: (c) => c.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  open: (_c, m, cancel) => open(m.target, cancel),
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
