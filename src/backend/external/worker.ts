// The external backend worker: each stream is a kernel TCP connection to a Tor SOCKS port, a SOCKS5
// handshake carrying the stream's isolation key as credentials, then bytes moved between that
// socket and the stream's rings. Tor does the anonymity; names are resolved by Tor (SOCKS5 with a
// domain name, or Tor's RESOLVE command), never here.

import { connect, type Socket } from 'node:net';
import { StreamEndReason } from '../../socks/codes.js';
import { errnoToEndReason } from '../errno-reason.js';
import type { ResolveAnswer, StreamTarget } from '../interface.js';
import { runSocketBackendWorker, type Cancellation, type SocketOpenResult } from '../socket-worker.js';
import { externalConfigProblem, type ExternalBackendConfig } from './config.js';
import { Socks5ClientHandshake, type HandshakeStep } from './handshake.js';

/** As tor's SocksTimeout: the handshake includes Tor building a circuit and the exit connecting. */
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 120_000;
/** Tor accepts any password; the username alone carries the key. */
const PASSWORD = 'onionplane';

/** Opens a SOCKS connection and runs the handshake; resolves with the step that ended it. */
function socksHandshake(config: ExternalBackendConfig, hs: Socks5ClientHandshake, cancel: Cancellation): Promise<{ socket: Socket; step: HandshakeStep }> {
  return new Promise((resolve) => {
    const socket = connect({ host: config.socksHost, port: config.socksPort, allowHalfOpen: true, noDelay: true });
    cancel.onCancel(() => socket.destroy());
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

runSocketBackendWorker<ExternalBackendConfig>({
  configProblem: externalConfigProblem,
  openTimeoutMs: (c) => c.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
  open: async (config, m, cancel): Promise<SocketOpenResult> => {
    const hs = new Socks5ClientHandshake('connect', m.target, m.isolationKey || 'default', PASSWORD);
    const { socket, step } = await socksHandshake(config, hs, cancel);
    if (step.status !== 'done') {
      socket.destroy();
      return step.status === 'failed' ? { ok: false, reason: step.reason, onionCode: step.onionCode } : { ok: false, reason: StreamEndReason.INTERNAL };
    }
    const b = step.reply.bound;
    return {
      ok: true,
      socket,
      bound: b.kind === 'ipv4' && b.addr === '0.0.0.0' ? undefined : b,
      sourcePort: socket.localPort,
      early: step.rest,
    };
  },
  resolve: async (config, m, cancel): Promise<ResolveAnswer> => {
    const target: StreamTarget =
      m.mode === 'forward' ? { kind: 'host', host: m.name, port: 0 } : m.name.includes(':') ? { kind: 'ipv6', addr: m.name, port: 0 } : { kind: 'ipv4', addr: m.name, port: 0 };
    const hs = new Socks5ClientHandshake(m.mode === 'forward' ? 'resolve' : 'resolve_ptr', target, m.isolationKey || 'default', PASSWORD);
    const { socket, step } = await socksHandshake(config, hs, cancel);
    socket.destroy();
    if (step.status !== 'done') return { kind: 'error' };
    const b = step.reply.bound;
    return b.kind === 'host' ? { kind: 'host', host: b.host } : { kind: b.kind, addr: b.addr };
  },
});
