// Channel manager (arti tor-chanmgr, C tor channel.c's channel_get_for_extend): at most one open
// channel per relay, reused by every circuit that starts there; each opened with the identities the
// consensus (or a DirAuthority line) promises, so a relay that cannot prove them is refused.
import { openTlsChannel, type TlsChannel, type TlsChannelOptions } from '../transport/tls-channel.js';
import { CounterSet, type TorCounterDescriptor } from './counter-set.js';

/** Where a channel goes and who must answer. */
export interface ChanTarget {
  /** RSA identity (20 bytes). */
  readonly rsaId: Uint8Array;
  /** Ed25519 identity (32 bytes), when the consensus/microdesc has one. */
  readonly ed25519Id?: Uint8Array | undefined;
  /** ORPort IP literal and port. */
  readonly addr: string;
  readonly port: number;
  readonly nickname?: string | undefined;
}

export type ChanFailureReason =
  | 'connect-refused'
  | 'connect-timeout'
  | 'connect-error'
  | 'tls-error'
  | 'handshake-timeout'
  | 'certs-invalid'
  | 'link-protocol'
  | 'closed-during-handshake';

export const CHAN_COUNTERS = [
  { name: 'opened', description: 'channels opened (link handshake done)', severity: 'info' },
  { name: 'reused', description: 'channel requests served by an open channel', severity: 'info' },
  { name: 'closed', description: 'open channels that closed', severity: 'info' },
  { name: 'connect-refused', description: 'TCP connection to the ORPort refused', severity: 'warn' },
  { name: 'connect-timeout', description: 'TCP connection or TLS to the ORPort timed out', severity: 'warn' },
  { name: 'connect-error', description: 'other TCP error reaching the ORPort', severity: 'warn' },
  { name: 'tls-error', description: 'TLS handshake with the relay failed', severity: 'warn' },
  { name: 'handshake-timeout', description: 'link handshake (VERSIONS/CERTS/NETINFO) not done in time', severity: 'warn' },
  { name: 'certs-invalid', description: 'relay failed to prove the expected RSA/Ed25519 identity (CERTS)', severity: 'error' },
  { name: 'link-protocol', description: 'link handshake protocol error (versions, undecodable cells)', severity: 'error' },
  { name: 'closed-during-handshake', description: 'connection closed before the link handshake finished', severity: 'warn' },
] as const satisfies readonly TorCounterDescriptor[];

export type ChanCounterName = (typeof CHAN_COUNTERS)[number]['name'];

export class ChannelOpenError extends Error {
  constructor(readonly reason: ChanFailureReason, message: string) {
    super(message);
    this.name = 'ChannelOpenError';
  }
}

/** Classify why openTlsChannel failed. */
export function classifyChannelError(e: unknown): ChanFailureReason {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code;
  const msg = err instanceof Error ? err.message : String(e);
  if (code === 'ECONNREFUSED') return 'connect-refused';
  if (code === 'ETIMEDOUT') return 'connect-timeout';
  if (msg.includes('timed out')) return 'handshake-timeout';
  if (msg.includes('CERTS_INVALID')) return 'certs-invalid';
  if (msg.includes('NO_COMMON_VERSION') || msg.includes('CELL_DECODE') || msg.includes('UNEXPECTED_CELL')) return 'link-protocol';
  if (msg.includes('link handshake failed')) return 'closed-during-handshake';
  if (code !== undefined && (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'EPROTO')) return 'tls-error';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'closed-during-handshake';
  return 'connect-error';
}

export interface ChanMgrOptions {
  /** Link handshake timeout (default 20 s). */
  readonly handshakeTimeoutMs?: number;
  /** Clock handed to the channel engines. */
  readonly clock?: () => number;
  /** Channel opener (tests may substitute). */
  readonly open?: (opts: TlsChannelOptions) => Promise<TlsChannel>;
}

export interface ChannelSummary {
  readonly relay: string;
  readonly nickname: string | undefined;
  readonly addr: string;
  readonly state: string;
  readonly linkVersion: number;
  readonly circuits: number;
  readonly openedAt: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

interface Entry {
  readonly target: ChanTarget;
  readonly chan: TlsChannel;
  readonly openedAt: number;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}

export class ChanMgr {
  readonly counters = new CounterSet<ChanCounterName>(CHAN_COUNTERS);
  private readonly open = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<TlsChannel>>();
  private readonly clock: () => number;
  private closed = false;

  constructor(private readonly opts: ChanMgrOptions = {}) {
    this.clock = opts.clock ?? Date.now;
  }

  /** An open channel to `target`: the existing one, one being opened, or a new one. */
  get(target: ChanTarget): Promise<TlsChannel> {
    if (this.closed) return Promise.reject(new Error('channel manager closed'));
    const key = hex(target.rsaId);
    const e = this.open.get(key);
    if (e && e.chan.channel.state === 'open') {
      this.counters.bump('reused');
      return Promise.resolve(e.chan);
    }
    const p = this.pending.get(key);
    if (p) {
      this.counters.bump('reused');
      return p;
    }
    const opening = this.connect(key, target).finally(() => this.pending.delete(key));
    this.pending.set(key, opening);
    return opening;
  }

  /** Open channels (for status listings). */
  list(): ChannelSummary[] {
    return [...this.open.entries()].map(([relay, e]) => ({
      relay,
      nickname: e.target.nickname,
      addr: `${e.target.addr}:${e.target.port}`,
      state: e.chan.channel.state,
      linkVersion: e.chan.info.linkVersion,
      circuits: e.chan.channel.circuitCount,
      openedAt: e.openedAt,
      bytesIn: e.chan.channel.counters.bytesIn,
      bytesOut: e.chan.channel.counters.bytesOut,
    }));
  }

  get size(): number {
    return this.open.size;
  }

  /** Close every channel and refuse new ones. */
  closeAll(): void {
    this.closed = true;
    for (const e of [...this.open.values()]) e.chan.close();
    this.open.clear();
  }

  private async connect(key: string, target: ChanTarget): Promise<TlsChannel> {
    const opener = this.opts.open ?? openTlsChannel;
    let chan: TlsChannel;
    try {
      chan = await opener({
        host: target.addr,
        port: target.port,
        expected: { rsaId: target.rsaId, ed25519Id: target.ed25519Id },
        handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
        now: this.clock,
      });
    } catch (e) {
      const reason = classifyChannelError(e);
      this.counters.bump(reason);
      throw new ChannelOpenError(reason, `channel to ${target.nickname ?? key.slice(0, 8)} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (this.closed) {
      chan.close();
      throw new Error('channel manager closed');
    }
    this.counters.bump('opened');
    const entry: Entry = { target, chan, openedAt: this.clock() };
    this.open.set(key, entry);
    // Keep the transport's handler (it tears the socket down) and forget the channel when it closes.
    const prev = chan.channel.onEvent;
    chan.channel.onEvent = (ev) => {
      prev(ev);
      if (ev.type === 'closed') {
        this.counters.bump('closed');
        if (this.open.get(key) === entry) this.open.delete(key);
      }
    };
    return chan;
  }
}
