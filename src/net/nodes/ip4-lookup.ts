// ip4-lookup: routes locally originated packets (echo replies, ICMP errors, TCP via ip4Output):
// longest-prefix match to an interface and next hop, source address fill, then ip4-rewrite when
// the neighbour is known (or the destination is a broadcast) and ip4-arp when it is not.

import type { InternalNodeDesc } from '../../runtime/node.js';
import { OPAQUE_MAC_HI, OPAQUE_MAC_LO, OPAQUE_NEXT_HOP } from '../buffer-opaque.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { IPV4_BROADCAST, Ipv4Packet, ip4ToString } from '../wire/ipv4.js';
import { dropPacket } from './drop.js';

const NEXT_REWRITE = 0;
const NEXT_ARP = 1;
const NEXT_LOCAL = 2;

const ERR_NO_ROUTE = 0;
const ERR_NO_SOURCE = 1;

interface LookupTrace {
  readonly dst: number;
  readonly nextHop: number;
  readonly interfaceName: string;
}

export function ip4LookupNode(net: NetMain): InternalNodeDesc {
  const ip = new Ipv4Packet(new Uint8Array(0));
  const { interfaces, fib, neighbors } = net;
  const { localAddrs, broadcastAddrs } = interfaces;
  return {
    name: NodeName.IP4_LOOKUP,
    type: 'internal',
    next: [NodeName.IP4_REWRITE, NodeName.IP4_ARP, NodeName.IP4_LOCAL],
    errors: [
      { name: 'no-route', description: 'no route to destination', severity: 'error' },
      { name: 'no-source', description: 'no source address on the outgoing interface', severity: 'error' },
    ],
    formatTrace: (r) => {
      const t = r as LookupTrace;
      return t.interfaceName ? `${ip4ToString(t.dst)} via ${ip4ToString(t.nextHop)} ${t.interfaceName}` : `${ip4ToString(t.dst)}: local`;
    },
    fn: (node, vector, count) => {
      const pool = node.buffers;
      const buf = pool.arena;
      const opaque = pool.opaque;
      for (let i = 0; i < count; i++) {
        const bi = vector[i]!;
        ip.reset(buf, pool.current[bi]!, pool.length[bi]!);
        const dst = ip.dst;
        if (localAddrs.has(dst)) {
          if (ip.src === 0) {
            ip.src = dst;
            ip.fillChecksum();
          }
          if (node.isTraced(bi)) node.addTrace(bi, { dst, nextHop: dst, interfaceName: '' } satisfies LookupTrace);
          node.enqueue(NEXT_LOCAL, bi);
          continue;
        }
        const res = fib.resolve(dst);
        const itf = res && interfaces.get(res.swIfIndex);
        if (!res || !itf) {
          dropPacket(net, node, bi, ERR_NO_ROUTE);
          continue;
        }
        const nextHop = res.nextHop;
        if (ip.src === 0) {
          const src = itf.sourceFor(nextHop);
          if (src === undefined) {
            dropPacket(net, node, bi, ERR_NO_SOURCE);
            continue;
          }
          ip.src = src;
          ip.fillChecksum();
        }
        pool.txInterface[bi] = itf.swIfIndex;
        if (node.isTraced(bi)) node.addTrace(bi, { dst, nextHop, interfaceName: itf.name } satisfies LookupTrace);
        if (dst === IPV4_BROADCAST || broadcastAddrs.get(dst) === itf.swIfIndex) {
          opaque[bi * 4 + OPAQUE_MAC_HI] = 0xffffffff;
          opaque[bi * 4 + OPAQUE_MAC_LO] = 0xffff;
          node.enqueue(NEXT_REWRITE, bi);
          continue;
        }
        const nb = neighbors.resolved(itf.swIfIndex, nextHop);
        if (nb) {
          opaque[bi * 4 + OPAQUE_MAC_HI] = nb.macHi;
          opaque[bi * 4 + OPAQUE_MAC_LO] = nb.macLo;
          node.enqueue(NEXT_REWRITE, bi);
        } else {
          opaque[bi * 4 + OPAQUE_NEXT_HOP] = nextHop;
          node.enqueue(NEXT_ARP, bi);
        }
      }
    },
  };
}
