// The worker config carries preemptiveCircuits / preemptivePorts (0 and [] turn predicted circuits
// off, as C tor's __DisablePredictedCircuits 1); out-of-range values are refused before the client starts.
import { describe, expect, it } from 'vitest';
import { embeddedConfigProblem } from '../../../../src/tor/worker/index.js';

describe('embedded worker config: preemptive circuits', () => {
  it('accepts predicted circuits off, the defaults, and small counts', () => {
    expect(embeddedConfigProblem({ preemptiveCircuits: 0, preemptivePorts: [] })).toBeUndefined();
    expect(embeddedConfigProblem({})).toBeUndefined();
    expect(embeddedConfigProblem({ preemptiveCircuits: 4, preemptivePorts: [80, 443, 22] })).toBeUndefined();
  });

  it('refuses counts and ports that are not bounded integers', () => {
    for (const n of [-1, 1.5, '2', 15, Number.NaN]) expect(embeddedConfigProblem({ preemptiveCircuits: n })).toMatch(/preemptiveCircuits/);
    for (const p of ['80', [0], [65536], [80.5], ['443'], Array.from({ length: 15 }, (_, i) => 1000 + i)]) {
      expect(embeddedConfigProblem({ preemptivePorts: p })).toMatch(/preemptivePorts/);
    }
  });
});
