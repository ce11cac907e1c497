import { createHash } from 'node:crypto';
import { connect as tcpConnect, isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import type { ExpectedRelayIdentity } from '../cert/certs-validation.js';
import type { ChannelInfo } from '../proto/channel-handshake.js';
import { Channel } from '../proto/channel.js';
import { ipToBytes } from '../proto/addr.js';
import { loadNative } from '../../native/binding.js';

/**
 * C tor leaves Nagle on, so a relay's next small cell waits for our ACK of its previous one, and
 * Linux delays the ACKs of a connection that looks interactive by up to 40 ms: a stream's first
 * response cell could sit at the guard that long. After each read we ask for the ACK now
 * (TCP_QUICKACK). Null when the native shim is not built: then the kernel's default applies.
 */
let quickAck: ((fd: number) => void) | null | undefined;
function quickAckFn(): ((fd: number) => void) | null {
  if (quickAck === undefined) {
    try {
      const n = loadNative();
      quickAck = (fd) => n.tcpQuickAck(fd);
    } catch {
      quickAck = null;
    }
  }
  return quickAck;
}

function socketFd(s: Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}

export interface TlsChannelOptions {
  /** The relay's ORPort address: an IP literal (we never resolve names for Tor connections). */
  readonly host: string;
  readonly port: number;
  /** The identities the relay must prove in CERTS. */
  readonly expected: ExpectedRelayIdentity;
  /** Give up if the link handshake is not done by then (default 20 s). */
  readonly handshakeTimeoutMs?: number;
  /** Clock for the engine (default Date.now). */
  readonly now?: () => number;
}

/** An open channel bound to its TLS socket. */
export interface TlsChannel {
  readonly channel: Channel;
  readonly info: ChannelInfo;
  /** SHA-256 of the relay's TLS leaf certificate (what CERTS type 5 certified). */
  readonly tlsCertSha256: Uint8Array;
  /** The clock the engine is driven with. */
  readonly now: () => number;
  close(): void;
}

/**
 * Open TLS to an ORPort (no CA or hostname checks: the CERTS cell authenticates the relay, bound to
 * the TLS certificate's SHA-256) and run the link handshake. Runtime glue: the only place that
 * touches sockets and reads the clock for the proto engines.
 */
export function openTlsChannel(opts: TlsChannelOptions): Promise<TlsChannel> {
  const now = opts.now ?? Date.now;
  const peer = ipToBytes(opts.host);
  if (!peer || isIP(opts.host) === 0) return Promise.reject(new Error('ORPort address must be an IP literal'));
  return new Promise<TlsChannel>((resolve, reject) => {
    let settled = false;
    let channel: Channel | null = null;
    const raw = tcpConnect({ host: opts.host, port: opts.port });
    raw.setNoDelay(true);
    const socket = tls.connect({ socket: raw, rejectUnauthorized: false, servername: undefined });
    // Cells sent in one tick (a burst of DATA, SENDMEs after a read) go out as one TLS write: one
    // record and one syscall instead of one per 514-byte cell. Uncorked before any I/O, so no delay.
    let corked = false;
    const uncork = (): void => {
      corked = false;
      socket.uncork();
    };
    const timer = setTimeout(() => fail(new Error('link handshake timed out')), opts.handshakeTimeoutMs ?? 20_000);
    const fail = (e: Error): void => {
      clearTimeout(timer);
      const first = !settled;
      settled = true;
      channel?.close();
      socket.destroy();
      if (first) reject(e);
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      const leaf = socket.getPeerX509Certificate();
      if (!leaf) return fail(new Error('relay presented no TLS certificate'));
      const tlsCertSha256 = new Uint8Array(createHash('sha256').update(leaf.raw).digest());
      const ch = new Channel({
        expected: opts.expected,
        tlsCertSha256,
        peerAddr: peer,
        send: (bytes) => {
          if (socket.destroyed) return;
          if (!corked) {
            corked = true;
            socket.cork();
            process.nextTick(uncork);
          }
          socket.write(bytes);
        },
        onClose: (error) => {
          if (!settled) fail(new Error(`link handshake failed: ${error?.code ?? 'closed'} ${error?.message ?? ''}`.trim()));
          socket.destroy();
        },
      });
      channel = ch;
      ch.onEvent = (e) => {
        if (e.type !== 'open') return;
        clearTimeout(timer);
        settled = true;
        socket.removeListener('error', fail);
        socket.on('error', () => ch.close());
        // The caller may now replace ch.onEvent; socket teardown rides on onClose.
        resolve({
          channel: ch,
          info: e.info,
          tlsCertSha256,
          now,
          close: () => {
            ch.close();
            socket.end();
            socket.destroy();
          },
        });
      };
      const ack = quickAckFn();
      const fd = socketFd(raw);
      socket.on('data', (d: Buffer) => {
        if (ack && fd >= 0) {
          try {
            ack(fd);
          } catch {
            // the socket is closing: its 'close' follows
          }
        }
        ch.receive(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), now());
      });
      socket.on('close', () => ch.close());
      ch.start(now());
    });
  });
}
