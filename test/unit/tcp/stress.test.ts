import { describe, expect, it } from 'vitest';
import { IP_A, IP_B, SimNet, rng } from './sim.js';
import { randomBytes, Receiver, Sender, sha256 } from './transfer.js';
import type { TcpConnection } from '../../../src/net/tcp/connection.js';
import type { TcpConfig } from '../../../src/net/tcp/config.js';
import type { SimTso } from './sim.js';

/**
 * Both directions at once: A→B `up`, B→A `down`, each side closing when its send is done. With `tso`, both
 * sides send TSO super-segments (cut into wire segments, or delivered whole, as `tso.segment` says).
 */
export function bidirectional(seed: number, keepLog = false, extra: Partial<TcpConfig> = {}, tso?: SimTso) {
  const r = rng(seed * 7919);
  const link = {
    delayMs: 1 + Math.floor(r() * 40), rate: 200 + Math.floor(r() * 3000), queueBytes: 20_000 + Math.floor(r() * 300_000),
    loss: r() * 0.05, reorder: r() * 0.05, dup: r() * 0.03,
  };
  const cfg: Partial<TcpConfig> = {
    ccAlgo: r() < 0.5 ? 'cubic' : 'newreno', sack: r() < 0.7, timestamps: r() < 0.7, windowScaling: r() < 0.8,
    rxFifoSize: [4096, 16384, 65536, 1 << 20][Math.floor(r() * 4)]!, txFifoSize: [4096, 65536][Math.floor(r() * 2)]!,
    ...extra,
  };
  const net = new SimNet(seed);
  net.keepLog = keepLog;
  const a = net.addStack(IP_A, cfg, tso);
  const b = net.addStack(IP_B, cfg, tso);
  net.setLink(IP_A, IP_B, link);
  net.setLink(IP_B, IP_A, link);
  const up = randomBytes(300_000 + Math.floor(r() * 500_000), seed), down = randomBytes(200_000 + Math.floor(r() * 300_000), seed + 1);
  const mk = (st: () => import('../../../src/net/tcp/stack.js').TcpStack, data: Uint8Array) => {
    const rx = new Receiver(st);
    rx.closeOnPeerClose = false;
    const tx = new Sender(st, data, false);
    let closedRx = false;
    const maybeClose = (c: TcpConnection) => { if (tx.sent === data.length && !closedRx) { closedRx = true; st().shutdownWrite(c); } };
    const h = {
      onAccept: (c: TcpConnection) => { rx.onAccept(c); tx.onAccept(c); maybeClose(c); },
      onConnected: (c: TcpConnection) => { rx.onConnected(c); tx.onConnected(c); maybeClose(c); },
      onRx: (c: TcpConnection) => rx.onRx(c),
      onTxSpace: (c: TcpConnection) => { tx.onTxSpace(c); maybeClose(c); },
      onPeerClosed: () => { rx.peerClosed = true; },
      onReset: () => { rx.reset = true; },
      onClosed: () => { rx.closed = true; },
    };
    return { rx, tx, h };
  };
  const A = mk(() => a, up), B = mk(() => b, down);
  b.listen(IP_B, 80, B.h);
  a.connect(IP_A, IP_B, 80, A.h, 0);
  net.run(3_600_000, () => A.rx.closed && B.rx.closed);
  return { A, B, up, down, link, cfg, net, a, b };
}

describe('randomised bidirectional transfers (loss/reorder/dup, random features and fifo sizes)', () => {
  // Seeds 4, 97, 452 once exposed bugs (ACK war after simultaneous RTOs; FIN on a SACK-shortened segment;
  // pure ACK at the right window edge rejected).
  // TCP_SEED0/TCP_SEED1 run a wider range when hunting.
  const seeds = process.env.TCP_SEED0
    ? Array.from({ length: Number(process.env.TCP_SEED1) - Number(process.env.TCP_SEED0) + 1 }, (_, i) => Number(process.env.TCP_SEED0) + i)
    : [1, 2, 3, 4, 5, 6, 7, 8, 97, 452];
  // Each seed also runs with tail loss probes, as the session layer configures the engine.
  // And with TSO both ways (super-segments cut into wire segments on even seeds, delivered whole on odd ones).
  const variants: [string, Partial<TcpConfig>, boolean][] = [['', {}, false], [' with TLP', { tailLossProbe: true }, false],
    [' with TLP and TSO', { tailLossProbe: true }, true]];
  for (const seed of seeds) for (const [label, extra, tso] of variants) {
    it(`seed ${seed}${label}`, () => {
      const { A, B, up, down, link, cfg } = bidirectional(seed, false, extra,
        tso ? { maxSegment: 65535 - 20, segment: seed % 2 === 0 } : undefined);
      const ctx = JSON.stringify({ link, cfg });
      expect(B.rx.received, ctx).toBe(up.length);
      expect(A.rx.received, ctx).toBe(down.length);
      expect(B.rx.hash.digest('hex')).toBe(sha256(up));
      expect(A.rx.hash.digest('hex')).toBe(sha256(down));
      expect(A.rx.closed && B.rx.closed, ctx).toBe(true);
      expect(A.rx.reset || B.rx.reset, ctx).toBe(false);
    });
  }
});
