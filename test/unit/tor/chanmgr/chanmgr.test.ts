import { describe, expect, it } from 'vitest';
import { ChanMgr, classifyChannelError, type ChanTarget } from '../../../../src/tor/chanmgr/index.js';
import type { TlsChannel, TlsChannelOptions } from '../../../../src/tor/transport/index.js';
import type { ChannelEvent } from '../../../../src/tor/proto/index.js';

function fakeChannel(): TlsChannel & { fire(e: ChannelEvent): void } {
  const channel = {
    state: 'open' as string,
    circuitCount: 0,
    counters: { bytesIn: 1, bytesOut: 2 },
    onEvent: (_e: ChannelEvent) => {},
  };
  return {
    channel: channel as unknown as TlsChannel['channel'],
    info: { linkVersion: 5 } as TlsChannel['info'],
    tlsCertSha256: new Uint8Array(32),
    now: () => 0,
    close() {
      channel.state = 'closed';
      channel.onEvent({ type: 'closed', error: null });
    },
    fire(e: ChannelEvent) {
      if (e.type === 'closed') channel.state = 'closed';
      channel.onEvent(e);
    },
  };
}

const target = (n: number): ChanTarget => ({ rsaId: new Uint8Array(20).fill(n), addr: '127.0.0.1', port: 9000 + n, nickname: `r${n}` });

describe('ChanMgr', () => {
  it('opens one channel per relay with the expected identities and reuses it', async () => {
    const opened: TlsChannelOptions[] = [];
    const mgr = new ChanMgr({
      open: async (o) => {
        opened.push(o);
        return fakeChannel();
      },
    });
    const [a, b] = await Promise.all([mgr.get(target(1)), mgr.get(target(1))]);
    expect(a).toBe(b);
    expect(await mgr.get(target(1))).toBe(a);
    expect(opened).toHaveLength(1);
    expect(opened[0]!.expected.rsaId).toEqual(new Uint8Array(20).fill(1));
    await mgr.get({ ...target(2), ed25519Id: new Uint8Array(32).fill(9) });
    expect(opened[1]!.expected.ed25519Id).toEqual(new Uint8Array(32).fill(9));
    expect(mgr.counters.get('opened')).toBe(2);
    expect(mgr.counters.get('reused')).toBe(2);
    expect(mgr.list().map((c) => c.nickname).sort()).toEqual(['r1', 'r2']);
  });

  it('forgets a channel that closed and opens a new one next time', async () => {
    const chans: ReturnType<typeof fakeChannel>[] = [];
    const mgr = new ChanMgr({
      open: async () => {
        const c = fakeChannel();
        chans.push(c);
        return c;
      },
    });
    await mgr.get(target(1));
    chans[0]!.fire({ type: 'closed', error: null });
    expect(mgr.size).toBe(0);
    expect(await mgr.get(target(1))).toBe(chans[1]);
    expect(mgr.counters.get('closed')).toBe(1);
  });

  it('counts failures by reason', async () => {
    const errors: unknown[] = [
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      new Error('link handshake timed out'),
      new Error('link handshake failed: CERTS_INVALID identity mismatch'),
      new Error('link handshake failed: NO_COMMON_VERSION relay offers versions 3'),
    ];
    const mgr = new ChanMgr({ open: async () => Promise.reject(errors.shift()) });
    for (let i = 0; i < 4; i++) await expect(mgr.get(target(i))).rejects.toThrow(/channel to r/);
    expect(mgr.counters.get('connect-refused')).toBe(1);
    expect(mgr.counters.get('handshake-timeout')).toBe(1);
    expect(mgr.counters.get('certs-invalid')).toBe(1);
    expect(mgr.counters.get('link-protocol')).toBe(1);
    expect(mgr.counters.rows().every((r) => r.description.length > 0)).toBe(true);
    expect(classifyChannelError(Object.assign(new Error('x'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }))).toBe('tls-error');
  });

  it('closes every channel and refuses new ones after closeAll', async () => {
    const c = fakeChannel();
    const mgr = new ChanMgr({ open: async () => c });
    await mgr.get(target(1));
    mgr.closeAll();
    expect(c.channel.state).toBe('closed');
    await expect(mgr.get(target(1))).rejects.toThrow(/closed/);
  });
});
