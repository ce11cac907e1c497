import type { Relay } from './relay.js';

/**
 * Two relays are one family when each declares the other (`family`), or when they share a family-id
 * (family-ids are certified by a family key, so one side suffices).
 */
export function sameFamily(a: Relay, b: Relay): boolean {
  if (a.rsaIdHex === b.rsaIdHex) return true;
  if (a.declaredFamily.has(b.rsaIdHex) && b.declaredFamily.has(a.rsaIdHex)) return true;
  if (a.familyIds.size > 0 && b.familyIds.size > 0) for (const id of a.familyIds) if (b.familyIds.has(id)) return true;
  return false;
}

/** Same IPv4 /16 (C tor's default EnforceDistinctSubnets granularity). */
export function sameSubnet16(a: Pick<Relay, 'subnet16'>, b: Pick<Relay, 'subnet16'>): boolean {
  return a.subnet16 === b.subnet16;
}

/** May `a` and `b` appear in the same circuit? */
export function mayShareCircuit(a: Relay, b: Relay, enforceDistinctSubnets: boolean): boolean {
  if (sameFamily(a, b)) return false;
  if (enforceDistinctSubnets && sameSubnet16(a, b)) return false;
  return true;
}
