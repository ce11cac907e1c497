// The interface table (VPP's vnet_main interfaces): sw_if_index, names, admin/link state, IPv4
// addresses, per-interface counters and rx-mode. Index 0 is `local0`, as in VPP.

import type { PacketDevice } from '../../native/packet-device.js';
import { prefixMask } from '../wire/ipv4.js';
import { InterfaceCounters } from './counters.js';

export type RxMode = 'polling' | 'interrupt';

export interface InterfaceAddress {
  readonly addr: number;
  readonly len: number;
}

/** Upper bound on interfaces: counters are preallocated for this many. */
export const MAX_INTERFACES = 1024;

export class NetInterface {
  readonly swIfIndex: number;
  readonly name: string;
  /** The host interface's name (`veth0` for `host-veth0`); '' for local0. */
  readonly hostIfName: string;
  readonly device: PacketDevice | null;
  readonly mac: Uint8Array;
  mtu: number;
  adminUp = false;
  rxMode: RxMode = 'interrupt';
  readonly addresses: InterfaceAddress[] = [];
  /** Set by af-packet-input when the device signalled readiness. */
  rxPending = false;
  /** Host side of a veth pair created with `create veth-pair`, to delete with the interface. */
  vethHostName: string | undefined;

  constructor(swIfIndex: number, name: string, hostIfName: string, device: PacketDevice | null, mac: Uint8Array, mtu: number) {
    this.swIfIndex = swIfIndex;
    this.name = name;
    this.hostIfName = hostIfName;
    this.device = device;
    this.mac = mac;
    this.mtu = mtu;
  }

  get linkUp(): boolean {
    if (!this.device) return false;
    const s = this.device.linkState();
    return s.up && s.running;
  }

  /** Admin up and the carrier present: what `show interface` calls "up". */
  get isUp(): boolean {
    return this.adminUp && this.linkUp;
  }

  /** The first address whose subnet holds `ip`, else the first address; undefined without any. */
  sourceFor(ip: number): number | undefined {
    for (const a of this.addresses) {
      const m = prefixMask(a.len);
      if (((a.addr ^ ip) & m) >>> 0 === 0) return a.addr;
    }
    return this.addresses[0]?.addr;
  }
}

export class InterfaceTable {
  private readonly slots: (NetInterface | undefined)[] = [];
  private readonly byName = new Map<string, NetInterface>();
  readonly counters = new InterfaceCounters(MAX_INTERFACES);
  /** Our IPv4 addresses → the interface holding them (ip4-input's "is it for us"). */
  readonly localAddrs = new Map<number, number>();
  /** Directed broadcast addresses of our subnets (/30 and shorter). */
  readonly broadcastAddrs = new Map<number, number>();

  constructor() {
    this.add('local0', '', null, new Uint8Array(6), 0);
  }

  add(name: string, hostIfName: string, device: PacketDevice | null, mac: Uint8Array, mtu: number): NetInterface {
    if (this.byName.has(name)) throw new Error(`interface ${name} already exists`);
    let index = this.slots.findIndex((s) => s === undefined);
    if (index < 0) index = this.slots.length;
    if (index >= MAX_INTERFACES) throw new Error(`too many interfaces (max ${MAX_INTERFACES})`);
    const itf = new NetInterface(index, name, hostIfName, device, mac, mtu);
    this.slots[index] = itf;
    this.byName.set(name, itf);
    this.counters.reset(index);
    return itf;
  }

  remove(swIfIndex: number): void {
    const itf = this.slots[swIfIndex];
    if (!itf) return;
    for (const a of [...itf.addresses]) this.removeAddress(itf, a.addr, a.len);
    this.slots[swIfIndex] = undefined;
    this.byName.delete(itf.name);
  }

  get(swIfIndex: number): NetInterface | undefined {
    return this.slots[swIfIndex];
  }

  find(name: string): NetInterface | undefined {
    return this.byName.get(name);
  }

  /** Every interface in sw_if_index order. */
  all(): NetInterface[] {
    return this.slots.filter((s): s is NetInterface => s !== undefined);
  }

  /** Adds an address; throws if it is already configured anywhere. */
  addAddress(itf: NetInterface, addr: number, len: number): void {
    const owner = this.localAddrs.get(addr);
    if (owner !== undefined) throw new Error(`address in use on ${this.slots[owner]?.name ?? owner}`);
    itf.addresses.push({ addr, len });
    this.localAddrs.set(addr, itf.swIfIndex);
    if (len <= 30) this.broadcastAddrs.set((addr | ~prefixMask(len)) >>> 0, itf.swIfIndex);
  }

  /** Removes an address; false when the interface does not have it. */
  removeAddress(itf: NetInterface, addr: number, len: number): boolean {
    const i = itf.addresses.findIndex((a) => a.addr === addr && a.len === len);
    if (i < 0) return false;
    itf.addresses.splice(i, 1);
    this.localAddrs.delete(addr);
    const bcast = (addr | ~prefixMask(len)) >>> 0;
    if (this.broadcastAddrs.get(bcast) === itf.swIfIndex && !itf.addresses.some((a) => a.len === len && ((a.addr ^ addr) & prefixMask(len)) === 0)) {
      this.broadcastAddrs.delete(bcast);
    }
    return true;
  }
}
