// A fixed set of named counters described by a descriptor table (name, description, severity), the
// shape the runtime registers and `show` commands print. Names outside the table are refused, so every
// counted failure has a description.

export type CounterSeverity = 'error' | 'warn' | 'info';

export interface TorCounterDescriptor {
  readonly name: string;
  readonly description: string;
  readonly severity: CounterSeverity;
}

export interface CounterRow extends TorCounterDescriptor {
  readonly count: number;
}

export class CounterSet<Name extends string> {
  private readonly counts = new Map<Name, number>();

  constructor(readonly descriptors: readonly (TorCounterDescriptor & { readonly name: Name })[]) {
    for (const d of descriptors) this.counts.set(d.name, 0);
  }

  bump(name: Name, n = 1): void {
    const c = this.counts.get(name);
    if (c !== undefined) this.counts.set(name, c + n);
  }

  get(name: Name): number {
    return this.counts.get(name) ?? 0;
  }

  /** Every counter with its description, in table order. */
  rows(): CounterRow[] {
    return this.descriptors.map((d) => ({ ...d, count: this.counts.get(d.name) ?? 0 }));
  }

  /** name -> count, for JSON status messages. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
