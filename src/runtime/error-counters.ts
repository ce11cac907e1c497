// Error counters: every node's error descriptors get a global index; counts live in one array.
// `clear errors` snapshots the current counts, as VPP does, so `show errors` reports since the clear.

import type { ErrorCounterDesc } from './node.js';

export interface ErrorCounterRow {
  readonly index: number;
  readonly node: string;
  readonly name: string;
  readonly description: string;
  readonly severity: ErrorCounterDesc['severity'];
  readonly count: number;
}

export class ErrorCounters {
  private counts = new Float64Array(64);
  private cleared = new Float64Array(64);
  private readonly descs: { node: string; desc: ErrorCounterDesc }[] = [];

  /** Registers a node's errors; returns the global index of its first counter. */
  register(node: string, errors: readonly ErrorCounterDesc[]): number {
    const base = this.descs.length;
    const seen = new Set<string>();
    for (const desc of errors) {
      if (seen.has(desc.name)) throw new Error(`node ${node}: duplicate error counter ${desc.name}`);
      seen.add(desc.name);
      this.descs.push({ node, desc });
    }
    if (this.descs.length > this.counts.length) {
      const size = Math.max(this.descs.length, this.counts.length * 2);
      const counts = new Float64Array(size);
      counts.set(this.counts);
      const cleared = new Float64Array(size);
      cleared.set(this.cleared);
      this.counts = counts;
      this.cleared = cleared;
    }
    return base;
  }

  increment(index: number, n = 1): void {
    this.counts[index] = this.counts[index]! + n;
  }

  /** Count since the last clear. */
  get(index: number): number {
    return this.counts[index]! - this.cleared[index]!;
  }

  /** Count since start (for the API and metrics, which must be monotonic). */
  total(index: number): number {
    return this.counts[index]!;
  }

  find(node: string, name: string): number {
    const i = this.descs.findIndex((d) => d.node === node && d.desc.name === name);
    if (i < 0) throw new Error(`no error counter ${node}/${name}`);
    return i;
  }

  clear(): void {
    this.cleared.set(this.counts.subarray(0, this.cleared.length));
  }

  rows(): ErrorCounterRow[] {
    return this.descs.map((d, index) => ({
      index,
      node: d.node,
      name: d.desc.name,
      description: d.desc.description,
      severity: d.desc.severity,
      count: this.get(index),
    }));
  }

  describe(index: number): { node: string; desc: ErrorCounterDesc } | undefined {
    return this.descs[index];
  }
}
