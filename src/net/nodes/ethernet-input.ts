// ethernet-input: checks the frame is ours (our MAC, or broadcast/multicast), strips the Ethernet
// header and dispatches by EtherType: ARP, IPv4; IPv6 and the rest are counted and dropped.

import type { InternalNodeDesc } from '../../runtime/node.js';
import { InterfaceCounter } from '../interface/counters.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { ETHERNET_HEADER_LEN, EtherType, formatMac, isGroupMac, macEquals } from '../wire/ethernet.js';
import { dropPacket } from './drop.js';

const NEXT_ARP = 0;
const NEXT_IP4 = 1;

const ERR_RUNT = 0;
const ERR_MAC_MISMATCH = 1;
const ERR_IP6 = 2;
const ERR_UNKNOWN_TYPE = 3;
const ERR_NO_INTERFACE = 4;

interface EthernetTrace {
  readonly dst: string;
  readonly src: string;
  readonly etherType: number;
}

const TYPE_NAMES: Record<number, string> = { 0x0800: 'IP4', 0x0806: 'ARP', 0x86dd: 'IP6', 0x8100: 'VLAN' };

export function ethernetInputNode(net: NetMain): InternalNodeDesc {
  const { counters } = net.interfaces;
  return {
    name: NodeName.ETHERNET_INPUT,
    type: 'internal',
    next: [NodeName.ARP_INPUT, NodeName.IP4_INPUT],
    errors: [
      { name: 'runt', description: 'frame shorter than an Ethernet header', severity: 'error' },
      { name: 'l3-mac-mismatch', description: 'destination MAC is not ours', severity: 'info' },
      { name: 'ip6', description: 'IPv6 not supported', severity: 'info' },
      { name: 'unknown-ethertype', description: 'unknown ethernet type', severity: 'info' },
      { name: 'no-interface', description: 'receive interface deleted', severity: 'warn' },
    ],
    formatTrace: (r) => {
      const t = r as EthernetTrace;
      const type = TYPE_NAMES[t.etherType] ?? `0x${t.etherType.toString(16).padStart(4, '0')}`;
      return `${type}: ${t.src} -> ${t.dst}`;
    },
    fn: (node, vector, count) => {
      const pool = node.buffers;
      const buf = pool.arena;
      for (let i = 0; i < count; i++) {
        const bi = vector[i]!;
        const off = pool.current[bi]!;
        const sw = pool.rxInterface[bi]!;
        if (pool.length[bi]! < ETHERNET_HEADER_LEN) {
          dropPacket(net, node, bi, ERR_RUNT);
          continue;
        }
        const type = (buf[off + 12]! << 8) | buf[off + 13]!;
        if (node.isTraced(bi)) {
          const rec: EthernetTrace = { dst: formatMac(buf, off), src: formatMac(buf, off + 6), etherType: type };
          node.addTrace(bi, rec);
        }
        const itf = net.interfaces.get(sw);
        if (!itf) {
          dropPacket(net, node, bi, ERR_NO_INTERFACE);
          continue;
        }
        if (!isGroupMac(buf, off) && !macEquals(buf, off, itf.mac)) {
          dropPacket(net, node, bi, ERR_MAC_MISMATCH);
          continue;
        }
        if (type === EtherType.IPV4) {
          counters.add(sw, InterfaceCounter.IP4);
          pool.advance(bi, ETHERNET_HEADER_LEN);
          node.enqueue(NEXT_IP4, bi);
        } else if (type === EtherType.ARP) {
          pool.advance(bi, ETHERNET_HEADER_LEN);
          node.enqueue(NEXT_ARP, bi);
        } else if (type === EtherType.IPV6) {
          counters.add(sw, InterfaceCounter.IP6);
          dropPacket(net, node, bi, ERR_IP6);
        } else {
          dropPacket(net, node, bi, ERR_UNKNOWN_TYPE);
        }
      }
    },
  };
}
