// arp-input: answers requests for our addresses on the receiving interface, learns the sender when
// the packet is for us (and refreshes known senders otherwise, RFC 826's merge), and releases
// packets that waited in ip4-arp for the sender's address.

import type { InternalNodeDesc } from '../../runtime/node.js';
import { OPAQUE_MAC_HI, OPAQUE_MAC_LO } from '../buffer-opaque.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { ARP_PACKET_LEN, ArpCheck, ArpOperation, ArpPacket } from '../wire/arp.js';
import { ETHERNET_HEADER_LEN, formatMac, macHi, macLo } from '../wire/ethernet.js';
import { ip4ToString } from '../wire/ipv4.js';
import { dropPacket } from './drop.js';

const NEXT_OUTPUT = 0;
const NEXT_REWRITE = 1;

const ERR_TRUNCATED = 0;
const ERR_UNSUPPORTED = 1;
const ERR_BAD_OPERATION = 2;
const ERR_REPLY_SENT = 3;
const ERR_REPLY_RECEIVED = 4;
const ERR_NOT_FOR_US = 5;
const ERR_GRATUITOUS = 6;
const ERR_ADDRESS_CONFLICT = 7;
const ERR_NO_INTERFACE = 8;

interface ArpTrace {
  readonly operation: number;
  readonly senderHw: string;
  readonly senderIp: number;
  readonly targetHw: string;
  readonly targetIp: number;
}

export function arpInputNode(net: NetMain): InternalNodeDesc {
  const arp = new ArpPacket(new Uint8Array(0));
  return {
    name: NodeName.ARP_INPUT,
    type: 'internal',
    next: [NodeName.INTERFACE_OUTPUT, NodeName.IP4_REWRITE],
    errors: [
      { name: 'truncated', description: 'ARP packet too short', severity: 'error' },
      { name: 'unsupported', description: 'ARP not Ethernet/IPv4', severity: 'error' },
      { name: 'bad-operation', description: 'ARP operation not request or reply', severity: 'error' },
      { name: 'replies-sent', description: 'ARP replies sent', severity: 'info' },
      { name: 'replies-received', description: 'ARP replies received', severity: 'info' },
      { name: 'not-for-us', description: 'ARP target is not our address', severity: 'info' },
      { name: 'gratuitous', description: 'gratuitous ARP received', severity: 'info' },
      { name: 'address-conflict', description: 'ARP sender uses our address', severity: 'warn' },
      { name: 'no-interface', description: 'receive interface deleted', severity: 'warn' },
    ],
    formatTrace: (r) => {
      const t = r as ArpTrace;
      const op = t.operation === ArpOperation.REQUEST ? 'request' : t.operation === ArpOperation.REPLY ? 'reply' : `op ${t.operation}`;
      return `${op}, type ethernet/IP4, address size 6/4\n  ${t.senderHw}/${ip4ToString(t.senderIp)} -> ${t.targetHw}/${ip4ToString(t.targetIp)}`;
    },
    fn: (node, vector, count) => {
      const pool = node.buffers;
      const buf = pool.arena;
      const { interfaces, neighbors } = net;
      const now = net.now();
      for (let i = 0; i < count; i++) {
        const bi = vector[i]!;
        const off = pool.current[bi]!;
        arp.reset(buf, off, pool.length[bi]!);
        const check = arp.check();
        if (check !== ArpCheck.OK) {
          dropPacket(net, node, bi, check === ArpCheck.TRUNCATED ? ERR_TRUNCATED : check === ArpCheck.UNSUPPORTED ? ERR_UNSUPPORTED : ERR_BAD_OPERATION);
          continue;
        }
        if (node.isTraced(bi)) {
          const rec: ArpTrace = {
            operation: arp.operation,
            senderHw: formatMac(buf, arp.senderHwOffset),
            senderIp: arp.senderIp,
            targetHw: formatMac(buf, arp.targetHwOffset),
            targetIp: arp.targetIp,
          };
          node.addTrace(bi, rec);
        }
        const sw = pool.rxInterface[bi]!;
        const itf = interfaces.get(sw);
        if (!itf) {
          dropPacket(net, node, bi, ERR_NO_INTERFACE);
          continue;
        }
        const senderIp = arp.senderIp;
        const targetIp = arp.targetIp;
        if (interfaces.localAddrs.has(senderIp)) {
          dropPacket(net, node, bi, ERR_ADDRESS_CONFLICT);
          continue;
        }
        const forUs = interfaces.localAddrs.get(targetIp) === sw;
        // A probe (sender 0.0.0.0, RFC 5227) teaches nothing.
        if (senderIp !== 0) {
          const hwOff = arp.senderHwOffset;
          const released = neighbors.learn(sw, senderIp, macHi(buf, hwOff), macLo(buf, hwOff), now, forUs);
          if (released) {
            for (const w of released) {
              pool.opaque[w * 4 + OPAQUE_MAC_HI] = macHi(buf, hwOff);
              pool.opaque[w * 4 + OPAQUE_MAC_LO] = macLo(buf, hwOff);
              node.enqueue(NEXT_REWRITE, w);
            }
          }
        }
        if (senderIp === targetIp) {
          dropPacket(net, node, bi, ERR_GRATUITOUS);
        } else if (!forUs) {
          dropPacket(net, node, bi, ERR_NOT_FOR_US);
        } else if (arp.operation === ArpOperation.REPLY) {
          dropPacket(net, node, bi, ERR_REPLY_RECEIVED);
        } else {
          // Turn the request into the reply in place, then rebuild the Ethernet header before it.
          buf.copyWithin(arp.targetHwOffset, arp.senderHwOffset, arp.senderHwOffset + 10);
          arp.senderHw = itf.mac;
          arp.senderIp = targetIp;
          arp.operation = ArpOperation.REPLY;
          const eth = off - ETHERNET_HEADER_LEN;
          buf.copyWithin(eth, eth + 6, eth + 12);
          buf.set(itf.mac, eth + 6);
          pool.current[bi] = eth;
          pool.length[bi] = ETHERNET_HEADER_LEN + ARP_PACKET_LEN;
          pool.txInterface[bi] = sw;
          node.countError(ERR_REPLY_SENT);
          node.enqueue(NEXT_OUTPUT, bi);
        }
      }
    },
  };
}
