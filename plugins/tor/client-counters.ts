// The embedded Tor client's counters (channels, guards, circuits, streams, directory documents) as
// error counters of a `tor-client` node, so `show errors` tells an operator why circuits, handshakes,
// documents or streams fail. The worker keeps the counts; a status snapshot brings them over.

import { CHAN_COUNTERS } from '../../src/tor/chanmgr/chanmgr.js';
import { CIRC_COUNTERS, STREAM_COUNTERS } from '../../src/tor/circmgr/counters.js';
import { GUARD_COUNTERS } from '../../src/tor/guardmgr/guardmgr.js';
import { DIR_FETCH_COUNTERS } from '../../src/tor/dirmgr/counters.js';
import type { TorStatus } from '../../src/tor/client/tor-client.js';
import type { ErrorCounterDesc } from '../../src/runtime/node.js';
import type { NodeRuntime } from '../../src/runtime/node-runtime.js';

export const TOR_CLIENT_NODE = 'tor-client';

const DIR_REJECT_REASONS = [
  ['malformed', 'malformed directory documents rejected', 'error'],
  ['too-large', 'oversized directory documents rejected', 'error'],
  ['bad-signature', 'directory documents with a bad signature rejected', 'error'],
  ['no-quorum', 'consensuses without a signature quorum rejected', 'error'],
  ['expired', 'expired directory documents rejected', 'warn'],
  ['not-yet-valid', 'directory documents not yet valid rejected', 'warn'],
  ['digest-mismatch', 'microdescriptors not matching the consensus rejected', 'error'],
  ['wrong-identity', 'authority certificates with a wrong identity rejected', 'error'],
  ['unknown-authority', 'documents signed by unknown authorities rejected', 'warn'],
] as const;

type Group = 'chan' | 'guard' | 'circ' | 'stream';
const GROUPS: readonly [Group, readonly ErrorCounterDesc[]][] = [
  ['chan', CHAN_COUNTERS as readonly ErrorCounterDesc[]],
  ['guard', GUARD_COUNTERS as readonly ErrorCounterDesc[]],
  ['circ', CIRC_COUNTERS as readonly ErrorCounterDesc[]],
  ['stream', STREAM_COUNTERS as readonly ErrorCounterDesc[]],
];

/** Every counter, names prefixed by their group (`circ-timeout`, `dir-bad-signature`). */
export const TOR_CLIENT_COUNTERS: readonly ErrorCounterDesc[] = [
  ...GROUPS.flatMap(([g, descs]) => descs.map((d) => ({ ...d, name: `${g}-${d.name}` }))),
  ...DIR_REJECT_REASONS.map(([name, description, severity]) => ({ name: `dir-${name}`, description, severity })),
  { name: 'dir-fetch-error', description: 'directory fetches that failed', severity: 'warn' },
  ...DIR_FETCH_COUNTERS.map((d) => ({ ...d, name: `dir-${d.name}` })),
];

const INDEX = new Map(TOR_CLIENT_COUNTERS.map((d, i) => [d.name, i]));

/** Adds what the worker counted since the last snapshot to the node's counters. */
export class ClientCounterSync {
  private readonly last = new Float64Array(TOR_CLIENT_COUNTERS.length);

  apply(node: NodeRuntime, status: TorStatus): void {
    const c = status.counters;
    const totals = new Map<string, number>();
    for (const [g] of GROUPS) for (const row of c[g === 'chan' ? 'channel' : g === 'circ' ? 'circuit' : g]) totals.set(`${g}-${row.name}`, row.count);
    for (const [reason, n] of Object.entries(c.directory.rejected)) totals.set(`dir-${reason}`, n);
    totals.set('dir-fetch-error', c.directory.fetchErrors);
    for (const [name, n] of Object.entries(c.directory.fetches)) totals.set(`dir-${name}`, n);
    for (const [name, total] of totals) {
      const i = INDEX.get(name);
      if (i === undefined) continue;
      const d = total - this.last[i]!;
      if (d > 0) node.countError(i, d);
      this.last[i] = total;
    }
  }

  /** A new worker counts from zero again. */
  reset(): void {
    this.last.fill(0);
  }
}
