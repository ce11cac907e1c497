// Predicted ports (C tor predict_ports.c): what streams asked for lately, forgotten after the
// prediction timeout, drawn again whenever the list runs empty; bounded.
import { describe, expect, it } from 'vitest';
import { MAX_PREDICTED_PORTS, PredictedPorts } from '../../../../src/tor/circmgr/predicted-ports.js';

const fixed = (x: number) => ({ next: () => x });
const MIN = 60_000;

describe('PredictedPorts', () => {
  it('starts with the seed and adds every port asked for, in least-recently-used order', () => {
    const p = new PredictedPorts([443], 0, fixed(0));
    p.noteUsed(80, 1000);
    p.noteUsed(22, 2000);
    p.noteUsed(443, 3000);
    expect(p.ports(3000)).toEqual([80, 22, 443]);
  });

  it('lasts base + a random share of base (30–60 min by default), per port since its last use', () => {
    const p = new PredictedPorts([443], 0, fixed(0.5));
    expect(p.predictionTimeoutMs).toBe(45 * MIN);
    p.noteUsed(80, 30 * MIN);
    expect(p.ports(45 * MIN)).toEqual([443, 80]);
    expect(p.ports(45 * MIN + 1)).toEqual([80]);
    expect(p.ports(75 * MIN + 1)).toEqual([]);
    // Predictive building goes on for the timeout after the last port noted.
    expect(p.remainingMs(30 * MIN)).toBe(45 * MIN);
    expect(p.remainingMs(60 * MIN)).toBe(15 * MIN);
    expect(p.remainingMs(80 * MIN)).toBe(0);
  });

  it('draws a new timeout only when the list has run empty, from the consensus base', () => {
    let base = 1800;
    let r = 0;
    const p = new PredictedPorts([443], 0, { next: () => r }, () => base);
    expect(p.predictionTimeoutMs).toBe(30 * MIN);
    r = 0.99;
    p.noteUsed(80, MIN); // not empty: the timeout stays
    expect(p.predictionTimeoutMs).toBe(30 * MIN);
    base = 600;
    r = 0.5;
    p.noteUsed(8080, 2 * 60 * MIN); // both expired: a new draw, 600 s + half of it
    expect(p.predictionTimeoutMs).toBe(15 * MIN);
    expect(p.ports(2 * 60 * MIN)).toEqual([8080]);
  });

  it(`keeps at most ${MAX_PREDICTED_PORTS} ports, forgetting the least recently used; ignores non-ports; remove() drops one`, () => {
    const p = new PredictedPorts([], 0, fixed(0));
    for (let port = 1; port <= MAX_PREDICTED_PORTS + 5; port++) p.noteUsed(port, port);
    const now = p.ports(100);
    expect(now).toHaveLength(MAX_PREDICTED_PORTS);
    expect(now[0]).toBe(6);
    for (const bad of [0, -1, 65536, 1.5, Number.NaN]) p.noteUsed(bad, 100);
    expect(p.ports(100)).toHaveLength(MAX_PREDICTED_PORTS);
    p.remove(6);
    expect(p.ports(100)[0]).toBe(7);
  });
});
