import { describe, expect, it } from 'vitest';
import { IP_A, IP_B, SimNet } from './sim.js';
import { randomBytes, Receiver, Sender, sha256 } from './transfer.js';
import { TcpCounter } from '../../../src/net/tcp/counters.js';
import type { TcpConfig } from '../../../src/net/tcp/config.js';

function transfer(size: number, seed: number, link: Partial<import('./sim.js').LinkParams>, cfg: Partial<TcpConfig> = {}, limitMs = 600_000) {
  const net = new SimNet(seed);
  net.keepLog = false;
  const a = net.addStack(IP_A, cfg);
  const b = net.addStack(IP_B, cfg);
  net.setLink(IP_A, IP_B, link);
  net.setLink(IP_B, IP_A, { ...link, rate: 0 });
  const data = randomBytes(size, seed);
  const rx = new Receiver(() => b);
  expect(b.listen(IP_B, 80, rx).ok).toBe(true);
  const tx = new Sender(() => a, data);
  const r = a.connect(IP_A, IP_B, 80, tx, net.now);
  expect(r.ok).toBe(true);
  net.run(limitMs, () => tx.closed && rx.closed && a.connectionCount === 0);
  return { net, a, b, rx, tx, data };
}

describe('TCP bulk transfer over a simulated link', () => {
  it('transfers 1 MB on a clean link and closes both sides', () => {
    const { rx, tx, data, a, b, net } = transfer(1 << 20, 1, { delayMs: 10, rate: 1000, queueBytes: 1 << 22 });
    expect(net.dropped).toBe(0);
    expect(rx.received).toBe(data.length);
    expect(rx.hash.digest('hex')).toBe(sha256(data));
    expect(tx.closed && rx.closed).toBe(true);
    expect(a.counters[TcpCounter.Retransmits]).toBe(0);
    expect(b.connectionCount).toBe(0);
    expect(net.now).toBeLessThan(10_000);
  });

  for (const cc of ['cubic', 'newreno'] as const) {
    for (const sack of [true, false]) {
      it(`transfers 2 MB with 2% loss, reordering and duplication (${cc}, sack=${sack})`, () => {
        const { rx, tx, data, a } = transfer(2 << 20, 7, { delayMs: 20, rate: 2000, queueBytes: 150_000, loss: 0.02, reorder: 0.02, dup: 0.01 },
          { ccAlgo: cc, sack });
        expect(rx.received).toBe(data.length);
        expect(rx.hash.digest('hex')).toBe(sha256(data));
        expect(tx.closed).toBe(true);
        expect(a.counters[TcpCounter.Retransmits]).toBeGreaterThan(0);
        expect(a.counters[TcpCounter.FastRetransmits]).toBeGreaterThan(0);
      });
    }
  }
});
