// The net module's main state (VPP's vnet_main for this host stack): interfaces, FIB, neighbours,
// fault injectors, and the control-plane operations the CLI (and later the binary API and
// startup.conf) share. Graph nodes read this state on the data path.

import { randomBytes } from 'node:crypto';
import type { Main } from '../core/main.js';
import { NONE } from '../runtime/buffer-pool.js';
import type { Graph } from '../runtime/graph.js';
import type { PacketDevice } from '../native/packet-device.js';
import { deleteLink } from '../native/veth.js';
import { writeArpRequest } from './ip4/arp-request.js';
import { Ip4Fib } from './ip4/fib.js';
import { NeighborTable } from './ip4/neighbor-table.js';
import { InterfaceTable, type NetInterface, type RxMode } from './interface/interface-table.js';
import { FaultInjector, type FaultConfig } from './fault/fault-injector.js';
import { NodeName } from './node-names.js';
import { formatPrefix, ip4ToString, prefixMask } from './wire/ipv4.js';
import { macHi, macLo } from './wire/ethernet.js';
import { OPAQUE_MAC_HI, OPAQUE_MAC_LO } from './buffer-opaque.js';

export interface OpenDeviceOptions {
  readonly rxQueues: number;
}

/** Opens the packet device behind `create host-interface name <ifname>`. */
export type DeviceOpener = (ifname: string, opts: OpenDeviceOptions) => PacketDevice;

export type FaultDirection = 'rx' | 'tx';

export interface CreateHostInterfaceOptions {
  readonly hwAddr?: Uint8Array;
  readonly rxQueues?: number;
}

/** Node indices the module's code hands packets to from outside a node function. */
export interface NetNodeIndices {
  afPacketInput: number;
  ip4Lookup: number;
  interfaceOutput: number;
  ip4Rewrite: number;
  neighborProcess: number;
  faultProcess: number;
}

export class NetMain {
  readonly main: Main;
  readonly graph: Graph;
  readonly interfaces = new InterfaceTable();
  readonly fib = new Ip4Fib();
  readonly neighbors = new NeighborTable();
  /** Interfaces with a packet device, what af-packet-input walks. */
  hostInterfaces: NetInterface[] = [];
  /** Fault injectors by sw_if_index, one per direction. */
  readonly rxFaults: (FaultInjector | undefined)[] = [];
  readonly txFaults: (FaultInjector | undefined)[] = [];
  readonly nodes: NetNodeIndices = {
    afPacketInput: -1,
    ip4Lookup: -1,
    interfaceOutput: -1,
    ip4Rewrite: -1,
    neighborProcess: -1,
    faultProcess: -1,
  };
  /** Protocol number → node name that ip4-local hands packets to (tcp4-input, udp4-input, ...). */
  readonly ip4Protocols = new Map<number, string>([
    [6, NodeName.TCP4_INPUT],
    [17, NodeName.UDP4_INPUT],
  ]);
  /** Bumped when `ip4Protocols` changes so ip4-local re-resolves its table. */
  ip4ProtocolsVersion = 0;
  openDevice: DeviceOpener;

  constructor(main: Main, openDevice: DeviceOpener) {
    this.main = main;
    this.graph = main.graph;
    this.openDevice = openDevice;
  }

  /** The clock the net nodes use (ms, same base as the dispatcher's `now`). */
  now(): number {
    return performance.now();
  }

  /**
   * Sends a locally built IPv4 packet (current at its IPv4 header, checksum filled) through
   * ip4-lookup. A zero source address is filled with the outgoing interface's address.
   */
  ip4Output(bi: number): void {
    this.graph.enqueue(this.nodes.ip4Lookup, bi);
  }

  /** Lets a protocol layer receive packets for `protocol` from ip4-local at node `nodeName`. */
  registerIp4Protocol(protocol: number, nodeName: string): void {
    this.ip4Protocols.set(protocol, nodeName);
    this.ip4ProtocolsVersion++;
  }

  interfaceByName(name: string): NetInterface {
    const itf = this.interfaces.find(name);
    if (!itf) throw new Error(`unknown interface \`${name}'`);
    return itf;
  }

  createHostInterface(ifname: string, opts: CreateHostInterfaceOptions = {}): NetInterface {
    const name = `host-${ifname}`;
    if (this.interfaces.find(name)) throw new Error(`interface ${name} already exists`);
    const device = this.openDevice(ifname, { rxQueues: opts.rxQueues ?? 1 });
    // VPP gives a host interface its own random locally administered MAC unless told otherwise.
    const mac = opts.hwAddr ? Uint8Array.from(opts.hwAddr) : Uint8Array.of(0x02, 0xfe, ...randomBytes(4));
    let itf: NetInterface;
    try {
      itf = this.interfaces.add(name, ifname, device, mac, device.mtu);
    } catch (e) {
      device.close();
      throw e;
    }
    this.hostInterfaces = this.interfaces.all().filter((i) => i.device !== null);
    this.applyRxMode(itf);
    return itf;
  }

  deleteHostInterface(ifname: string): void {
    const itf = this.interfaceByName(`host-${ifname}`);
    this.deleteInterface(itf);
  }

  deleteInterface(itf: NetInterface): void {
    if (!itf.device) throw new Error(`${itf.name} is not a host interface`);
    itf.adminUp = false;
    itf.device.onReadable(null);
    this.setFault(itf, 'rx', null);
    this.setFault(itf, 'tx', null);
    this.freeAll(this.neighbors.removeInterface(itf.swIfIndex));
    this.fib.removeInterface(itf.swIfIndex);
    this.interfaces.remove(itf.swIfIndex);
    itf.device.close();
    this.hostInterfaces = this.interfaces.all().filter((i) => i.device !== null);
    this.updateInputState();
  }

  setAdminState(itf: NetInterface, up: boolean): void {
    if (itf.adminUp === up) return;
    itf.adminUp = up;
    // As VPP's af_packet does, admin state follows onto the host interface.
    if (itf.device) itf.device.setLinkUp(up);
    if (up) for (const a of itf.addresses) this.sendGratuitousArp(itf, a.addr);
  }

  addAddress(itf: NetInterface, addr: number, len: number): void {
    if (!itf.device) throw new Error(`${itf.name} cannot hold addresses`);
    if (len === 0) throw new Error('prefix length 0 is not an interface address');
    const p = { addr, len };
    for (const other of this.interfaces.all()) {
      for (const a of other.addresses) {
        const m = prefixMask(Math.min(a.len, len));
        if (other !== itf && ((a.addr ^ addr) & m) >>> 0 === 0) {
          throw new Error(`prefix ${formatPrefix(p)} overlaps ${formatPrefix(a)} on ${other.name}`);
        }
      }
    }
    this.interfaces.addAddress(itf, addr, len);
    if (len < 32) this.fib.add({ prefix: addr, len, kind: 'connected', swIfIndex: itf.swIfIndex, nextHop: 0 });
    this.fib.add({ prefix: addr, len: 32, kind: 'local', swIfIndex: itf.swIfIndex, nextHop: 0 });
    if (itf.adminUp) this.sendGratuitousArp(itf, addr);
  }

  deleteAddress(itf: NetInterface, addr: number, len: number): void {
    if (!this.interfaces.removeAddress(itf, addr, len)) {
      throw new Error(`${formatPrefix({ addr, len })} is not configured on ${itf.name}`);
    }
    this.fib.remove(addr, 32, 'local');
    const stillCovered = itf.addresses.some((a) => a.len === len && ((a.addr ^ addr) & prefixMask(len)) >>> 0 === 0);
    if (len < 32 && !stillCovered) this.fib.remove(addr, len, 'connected');
  }

  addRoute(prefix: number, len: number, nextHop: number, itf?: NetInterface): void {
    const existing = this.fib.get(prefix, len);
    if (existing && existing.kind !== 'static') {
      throw new Error(`${formatPrefix({ addr: prefix, len })} is a ${existing.kind} prefix`);
    }
    this.fib.add({ prefix, len, kind: 'static', swIfIndex: itf ? itf.swIfIndex : NONE, nextHop });
  }

  deleteRoute(prefix: number, len: number): void {
    if (!this.fib.remove(prefix, len, 'static')) {
      throw new Error(`no static route ${formatPrefix({ addr: prefix, len })}`);
    }
  }

  /** A neighbour configured by hand; packets that waited for it are sent. */
  setStaticNeighbor(itf: NetInterface, ip: number, mac: Uint8Array): void {
    const pool = this.graph.buffers;
    const hi = macHi(mac);
    const lo = macLo(mac);
    const waiting = this.neighbors.learn(itf.swIfIndex, ip, hi, lo, this.now(), true, true);
    if (waiting === undefined) throw new Error('neighbor table full');
    for (const bi of waiting) {
      pool.opaque[bi * 4 + OPAQUE_MAC_HI] = hi;
      pool.opaque[bi * 4 + OPAQUE_MAC_LO] = lo;
      this.graph.enqueue(this.nodes.ip4Rewrite, bi);
    }
  }

  setRxMode(itf: NetInterface, mode: RxMode): void {
    if (!itf.device) throw new Error(`${itf.name} has no rx queues`);
    itf.rxMode = mode;
    this.applyRxMode(itf);
  }

  /** Installs (or with null, removes) fault injection on one direction of an interface. */
  setFault(itf: NetInterface, dir: FaultDirection, config: FaultConfig | null): void {
    const table = dir === 'rx' ? this.rxFaults : this.txFaults;
    const old = table[itf.swIfIndex];
    if (old) {
      const held: number[] = [];
      old.drain(held);
      this.freeAll(held);
    }
    table[itf.swIfIndex] = config ? new FaultInjector(config) : undefined;
  }

  /** Broadcasts a gratuitous ARP request announcing `addr` on `itf`. */
  sendGratuitousArp(itf: NetInterface, addr: number): boolean {
    return this.sendArpRequest(itf, addr, addr);
  }

  /** Broadcasts "who has targetIp, tell senderIp" on `itf` through interface-output. */
  sendArpRequest(itf: NetInterface, senderIp: number, targetIp: number): boolean {
    const pool = this.graph.buffers;
    const bi = pool.alloc();
    if (bi === NONE) return false;
    writeArpRequest(pool, bi, itf.mac, senderIp, targetIp);
    pool.txInterface[bi] = itf.swIfIndex;
    this.graph.enqueue(this.nodes.interfaceOutput, bi);
    return true;
  }

  /** Closes every device (module shutdown). */
  /** Closes every device; veth pairs made by `create veth-pair` go with the process, as VPP's taps do. */
  async shutdown(): Promise<void> {
    const veths: string[] = [];
    for (const itf of this.hostInterfaces) {
      itf.device!.onReadable(null);
      itf.device!.close();
      if (itf.vethHostName) veths.push(itf.vethHostName);
    }
    this.hostInterfaces = [];
    await Promise.all(veths.map((name) => deleteLink(name).catch(() => undefined)));
  }

  describeRoute(dst: number): string {
    const r = this.fib.resolve(dst);
    if (!r) return `${ip4ToString(dst)}: no route`;
    return `${ip4ToString(dst)} via ${ip4ToString(r.nextHop)} ${this.interfaces.get(r.swIfIndex)?.name ?? r.swIfIndex}`;
  }

  private applyRxMode(itf: NetInterface): void {
    const dev = itf.device!;
    if (itf.rxMode === 'interrupt') {
      const input = this.nodes.afPacketInput;
      dev.onReadable(() => {
        itf.rxPending = true;
        this.graph.interrupt(input);
      });
    } else {
      dev.onReadable(null);
    }
    this.updateInputState();
  }

  private updateInputState(): void {
    const polling = this.hostInterfaces.some((i) => i.rxMode === 'polling');
    this.graph.setInputState(this.nodes.afPacketInput, polling ? 'polling' : 'interrupt');
  }

  private freeAll(buffers: number[]): void {
    for (const bi of buffers) this.graph.buffers.free(bi);
  }
}
