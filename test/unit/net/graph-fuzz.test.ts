// Random and mutated frames through the whole graph: nothing throws, every buffer is accounted for.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { echoRequestFrame, NetHarness, arpFrame, OUR_IP, PEER_IP, PEER_MAC } from './net-harness.js';

const seeds = [echoRequestFrame(1), arpFrame(1, PEER_MAC, PEER_IP, new Uint8Array(6), OUR_IP)];

const mutatedFrame = fc
  .record({
    base: fc.constantFrom(...seeds),
    flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
  })
  .map(({ base, flips, cut }) => {
    const f = base.slice();
    for (const { at, value } of flips) f[14 + (at % (f.length - 14))] = value;
    return cut === undefined ? f : f.subarray(0, cut % (f.length + 1));
  });

const randomFrame = fc.uint8Array({ minLength: 0, maxLength: 1600 });

describe('graph robustness', () => {
  it('survives mutated and random frames without leaking buffers', async () => {
    const h = new NetHarness();
    const dev = await h.standard();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(mutatedFrame, randomFrame), { minLength: 1, maxLength: 40 }), async (frames) => {
        for (const f of frames) dev.inject(f);
        expect(() => h.run()).not.toThrow();
        dev.takeTransmitted();
        const pool = h.main.graph.buffers;
        expect(pool.available + h.net.neighbors.pendingPackets).toBe(pool.capacity);
      }),
      { numRuns: 200 },
    );
    h.close();
  });
});
