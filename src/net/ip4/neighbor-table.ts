// IPv4 neighbours (ARP cache): resolved entries and incomplete ones holding a bounded queue of
// packets that wait for resolution. Pure state: time comes in as `now` (ms); buffers are indices.

export type NeighborState = 'incomplete' | 'reachable';

export interface Neighbor {
  readonly swIfIndex: number;
  readonly ip: number;
  state: NeighborState;
  /** MAC as two words (bytes 0-3, 4-5), what ip4-rewrite writes; zero while incomplete. */
  macHi: number;
  macLo: number;
  /** When the entry was created or last confirmed. */
  updatedAt: number;
  /** Configured by hand: never replaced by ARP. */
  isStatic: boolean;
  /** Buffers waiting for resolution, oldest first. */
  readonly pending: number[];
  requestsSent: number;
  lastRequestAt: number;
}

export interface NeighborLimits {
  /** Entries in the table, resolved and incomplete. */
  readonly maxEntries: number;
  /** Packets held per incomplete entry (Linux: 3; VPP holds 1). */
  readonly maxPendingPerEntry: number;
  /** Packets held across all entries. */
  readonly maxPendingTotal: number;
  /** Requests sent for an entry before it is given up. */
  readonly maxRequests: number;
  /** Between requests for the same entry, ms. */
  readonly retryIntervalMs: number;
}

export const DEFAULT_NEIGHBOR_LIMITS: NeighborLimits = {
  maxEntries: 4096,
  maxPendingPerEntry: 4,
  maxPendingTotal: 1024,
  maxRequests: 3,
  retryIntervalMs: 1000,
};

export type QueueResult =
  /** Held; send an ARP request now when `sendRequest`. */
  | { readonly kind: 'queued'; readonly sendRequest: boolean }
  /** Already resolved meanwhile: send the packet. */
  | { readonly kind: 'resolved'; readonly neighbor: Neighbor }
  | { readonly kind: 'entry-queue-full' }
  | { readonly kind: 'pending-limit' }
  | { readonly kind: 'table-full' };

export interface ExpireResult {
  /** Buffers of entries given up: drop them. */
  readonly dropped: number[];
  /** Entries that need another request now. */
  readonly retry: Neighbor[];
  /** Earliest time something needs attention again, or undefined if nothing is incomplete. */
  readonly nextDue: number | undefined;
}

const key = (swIfIndex: number, ip: number): number => swIfIndex * 0x1_0000_0000 + ip;

export class NeighborTable {
  private readonly entries = new Map<number, Neighbor>();
  private pendingTotal = 0;

  constructor(readonly limits: NeighborLimits = DEFAULT_NEIGHBOR_LIMITS) {}

  get size(): number {
    return this.entries.size;
  }

  get pendingPackets(): number {
    return this.pendingTotal;
  }

  lookup(swIfIndex: number, ip: number): Neighbor | undefined {
    return this.entries.get(key(swIfIndex, ip));
  }

  /** A resolved neighbour, or undefined (the data-path question). */
  resolved(swIfIndex: number, ip: number): Neighbor | undefined {
    const n = this.entries.get(key(swIfIndex, ip));
    return n && n.state === 'reachable' ? n : undefined;
  }

  /**
   * Records ip → mac (from ARP, or by hand when `isStatic`). Creates the entry only when `create`
   * (traffic for us, RFC 826's merge rule); otherwise just refreshes an existing one. Returns the
   * buffers that waited for it (to send now), or undefined when nothing was recorded.
   */
  learn(swIfIndex: number, ip: number, macHi: number, macLo: number, now: number, create: boolean, isStatic = false): number[] | undefined {
    const k = key(swIfIndex, ip);
    let n = this.entries.get(k);
    if (!n) {
      if (!create || this.entries.size >= this.limits.maxEntries) return undefined;
      n = newEntry(swIfIndex, ip, now);
      this.entries.set(k, n);
    } else if (n.isStatic && !isStatic) {
      return [];
    }
    n.state = 'reachable';
    n.macHi = macHi;
    n.macLo = macLo;
    n.updatedAt = now;
    n.isStatic = n.isStatic || isStatic;
    n.requestsSent = 0;
    const waiting = n.pending.splice(0);
    this.pendingTotal -= waiting.length;
    return waiting;
  }

  /** Holds a packet for an unresolved neighbour. */
  queue(swIfIndex: number, ip: number, bi: number, now: number): QueueResult {
    const k = key(swIfIndex, ip);
    let n = this.entries.get(k);
    if (n && n.state === 'reachable') return { kind: 'resolved', neighbor: n };
    if (!n) {
      if (this.entries.size >= this.limits.maxEntries) return { kind: 'table-full' };
      n = newEntry(swIfIndex, ip, now);
      this.entries.set(k, n);
    }
    if (n.pending.length >= this.limits.maxPendingPerEntry) return { kind: 'entry-queue-full' };
    if (this.pendingTotal >= this.limits.maxPendingTotal) return { kind: 'pending-limit' };
    n.pending.push(bi);
    this.pendingTotal++;
    const sendRequest = n.requestsSent === 0;
    if (sendRequest) {
      n.requestsSent = 1;
      n.lastRequestAt = now;
    }
    return { kind: 'queued', sendRequest };
  }

  /** Retries and gives up incomplete entries whose time has come. */
  expire(now: number): ExpireResult {
    const dropped: number[] = [];
    const retry: Neighbor[] = [];
    let nextDue: number | undefined;
    const { retryIntervalMs, maxRequests } = this.limits;
    for (const [k, n] of this.entries) {
      if (n.state !== 'incomplete') continue;
      const due = n.lastRequestAt + retryIntervalMs;
      if (due <= now) {
        if (n.requestsSent >= maxRequests) {
          dropped.push(...n.pending);
          this.pendingTotal -= n.pending.length;
          this.entries.delete(k);
          continue;
        }
        n.requestsSent++;
        n.lastRequestAt = now;
        retry.push(n);
      }
      const next = n.lastRequestAt + retryIntervalMs;
      nextDue = nextDue === undefined ? next : Math.min(nextDue, next);
    }
    return { dropped, retry, nextDue };
  }

  /** Removes one entry; returns its waiting buffers. */
  remove(swIfIndex: number, ip: number): number[] {
    const k = key(swIfIndex, ip);
    const n = this.entries.get(k);
    if (!n) return [];
    this.entries.delete(k);
    this.pendingTotal -= n.pending.length;
    return n.pending;
  }

  /** Removes every entry of an interface; returns their waiting buffers. */
  removeInterface(swIfIndex: number): number[] {
    const out: number[] = [];
    for (const n of [...this.entries.values()]) if (n.swIfIndex === swIfIndex) out.push(...this.remove(swIfIndex, n.ip));
    return out;
  }

  all(): Neighbor[] {
    return [...this.entries.values()].sort((a, b) => a.swIfIndex - b.swIfIndex || a.ip - b.ip);
  }
}

function newEntry(swIfIndex: number, ip: number, now: number): Neighbor {
  return {
    swIfIndex,
    ip,
    state: 'incomplete',
    macHi: 0,
    macLo: 0,
    updatedAt: now,
    isStatic: false,
    pending: [],
    requestsSent: 0,
    lastRequestAt: now,
  };
}
