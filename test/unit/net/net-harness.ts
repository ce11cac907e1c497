// A net module on MemoryDevices driven by hand: no root, no timers, deterministic turns.

import { Main } from '../../../src/core/main.js';
import { MemoryDevice } from '../../../src/native/memory-device.js';
import { registerNetModule, type NetModule } from '../../../src/net/module.js';
import { ArpOperation, emitArp } from '../../../src/net/wire/arp.js';
import { emitEthernet, EtherType, parseMac, type MacAddress } from '../../../src/net/wire/ethernet.js';
import { emitIcmp, icmpReprLength, type IcmpRepr } from '../../../src/net/wire/icmp.js';
import { emitIpv4, IpProtocol, parseIp4 } from '../../../src/net/wire/ipv4.js';

export const OUR_MAC = parseMac('02:fe:00:00:00:01')!;
export const PEER_MAC = parseMac('02:00:00:00:00:02')!;
export const OUR_IP = parseIp4('10.9.0.1')!;
export const PEER_IP = parseIp4('10.9.0.2')!;

export class NetHarness {
  readonly main = new Main({ buffers: 2048 });
  readonly devices = new Map<string, MemoryDevice>();
  readonly net: NetModule;

  constructor() {
    this.net = registerNetModule(this.main, {
      openDevice: (ifname) => {
        const d = new MemoryDevice({ name: ifname, captureLimit: 10_000 });
        this.devices.set(ifname, d);
        return d;
      },
    });
  }

  async cli(line: string): Promise<string> {
    return this.main.cli.execute(line, { main: this.main, origin: 'test' });
  }

  /** Creates host-<ifname> with OUR_MAC and 10.9.0.1/24, admin up, and forgets the gratuitous ARP. */
  async standard(ifname = 'veth0'): Promise<MemoryDevice> {
    await this.cli(`create host-interface name ${ifname} hw-addr 02:fe:00:00:00:01`);
    await this.cli(`set interface ip address host-${ifname} 10.9.0.1/24`);
    await this.cli(`set interface state host-${ifname} up`);
    this.run();
    const dev = this.devices.get(ifname)!;
    dev.takeTransmitted();
    return dev;
  }

  /** Marks every interface readable and runs the graph until nothing is pending. */
  run(): void {
    for (const itf of this.net.hostInterfaces) itf.rxPending = true;
    this.main.graph.interrupt(this.net.nodes.afPacketInput);
    this.main.graph.drain();
  }

  error(node: string, name: string): number {
    const e = this.main.graph.errors;
    return e.get(e.find(node, name));
  }

  close(): void {
    this.main.graph.stop();
    this.net.shutdown();
  }
}

export function ethernetFrame(dst: MacAddress, src: MacAddress, etherType: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  emitEthernet({ dst, src, etherType }, f);
  f.set(payload, 14);
  return f;
}

export function arpFrame(op: number, senderHw: MacAddress, senderIp: number, targetHw: MacAddress, targetIp: number, dst?: MacAddress): Uint8Array {
  const p = new Uint8Array(28);
  emitArp({ operation: op, senderHw, senderIp, targetHw, targetIp }, p);
  const bcast = new Uint8Array(6).fill(0xff);
  return ethernetFrame(dst ?? (op === ArpOperation.REQUEST ? bcast : OUR_MAC), senderHw, EtherType.ARP, p);
}

export function ipv4Packet(src: number, dst: number, protocol: number, payload: Uint8Array, ttl = 64): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  emitIpv4({ src, dst, protocol, payloadLen: payload.length, ttl, ident: 7 }, p);
  p.set(payload, 20);
  return p;
}

export function icmpPacket(src: number, dst: number, repr: IcmpRepr): Uint8Array {
  const m = new Uint8Array(icmpReprLength(repr));
  emitIcmp(repr, m);
  return ipv4Packet(src, dst, IpProtocol.ICMP, m);
}

export function echoRequestFrame(seq: number, data = new Uint8Array(56).fill(0xab), dst = OUR_IP): Uint8Array {
  return ethernetFrame(OUR_MAC, PEER_MAC, EtherType.IPV4, icmpPacket(PEER_IP, dst, { kind: 'echo-request', ident: 0x4242, seq, data }));
}
