// The IPv4 FIB of a host: connected prefixes, our own /32s (local) and static routes, with longest
// prefix match. One hash table per prefix length, probed from the longest length in use.

import { NONE } from '../../runtime/buffer-pool.js';
import { prefixMask } from '../wire/ipv4.js';

export type RouteKind = 'local' | 'connected' | 'static';

export interface Ip4Route {
  readonly prefix: number;
  readonly len: number;
  readonly kind: RouteKind;
  /** Outgoing (or, for local, owning) interface; NONE for a static route resolved through its next hop. */
  readonly swIfIndex: number;
  /** Next hop for static routes; 0 for connected/local (the destination itself is the next hop). */
  readonly nextHop: number;
}

/** Where a packet to some destination goes. */
export interface Ip4Resolution {
  readonly swIfIndex: number;
  readonly nextHop: number;
  readonly route: Ip4Route;
}

/** Static routes recurse through other static routes at most this deep. */
const MAX_RECURSION = 4;
/** Bounds the table against runaway configuration. */
export const MAX_ROUTES = 65536;

export class Ip4Fib {
  private readonly tables: Map<number, Ip4Route>[] = Array.from({ length: 33 }, () => new Map());
  /** Prefix lengths that hold at least one route, longest first. */
  private lengths: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds or replaces the route for route.prefix/len. */
  add(route: Ip4Route): void {
    const prefix = (route.prefix & prefixMask(route.len)) >>> 0;
    const table = this.tables[route.len]!;
    if (!table.has(prefix)) {
      if (this.count >= MAX_ROUTES) throw new Error(`FIB full (${MAX_ROUTES} routes)`);
      this.count++;
    }
    table.set(prefix, { ...route, prefix });
    this.refreshLengths();
  }

  /** Removes the route for prefix/len if its kind matches (any kind when omitted). */
  remove(prefix: number, len: number, kind?: RouteKind): boolean {
    const p = (prefix & prefixMask(len)) >>> 0;
    const table = this.tables[len]!;
    const r = table.get(p);
    if (!r || (kind && r.kind !== kind)) return false;
    table.delete(p);
    this.count--;
    this.refreshLengths();
    return true;
  }

  /** Removes every route through an interface (interface deleted). */
  removeInterface(swIfIndex: number): void {
    for (let len = 0; len <= 32; len++) {
      for (const [p, r] of this.tables[len]!) {
        if (r.swIfIndex === swIfIndex) {
          this.tables[len]!.delete(p);
          this.count--;
        }
      }
    }
    this.refreshLengths();
  }

  get(prefix: number, len: number): Ip4Route | undefined {
    return this.tables[len]!.get((prefix & prefixMask(len)) >>> 0);
  }

  /** Longest-prefix match. */
  lookup(dst: number): Ip4Route | undefined {
    const lengths = this.lengths;
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i]!;
      const r = this.tables[len]!.get((dst & prefixMask(len)) >>> 0);
      if (r) return r;
    }
    return undefined;
  }

  /** Interface and next hop for `dst`, following static routes to a connected prefix. */
  resolve(dst: number): Ip4Resolution | undefined {
    let route = this.lookup(dst);
    if (!route) return undefined;
    const first = route;
    let nextHop = dst;
    for (let depth = 0; depth < MAX_RECURSION; depth++) {
      if (route.kind !== 'static') return { swIfIndex: route.swIfIndex, nextHop, route: first };
      nextHop = route.nextHop;
      if (route.swIfIndex !== NONE) return { swIfIndex: route.swIfIndex, nextHop, route: first };
      const via = this.lookup(nextHop);
      if (!via || via === route) return undefined;
      route = via;
    }
    return undefined;
  }

  /** Every route, by prefix then length (for `show ip fib`). */
  routes(): Ip4Route[] {
    const out: Ip4Route[] = [];
    for (const t of this.tables) out.push(...t.values());
    return out.sort((a, b) => a.prefix - b.prefix || a.len - b.len);
  }

  private refreshLengths(): void {
    this.lengths = [];
    for (let len = 32; len >= 0; len--) if (this.tables[len]!.size > 0) this.lengths.push(len);
  }
}
