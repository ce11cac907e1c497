// ip4-arp: holds packets whose next hop is not resolved yet in the neighbour table's bounded
// queues and sends the first ARP request; ip4-neighbor-process retries and gives up.

import type { InternalNodeDesc } from '../../runtime/node.js';
import { OPAQUE_MAC_HI, OPAQUE_MAC_LO, OPAQUE_NEXT_HOP } from '../buffer-opaque.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { ip4ToString } from '../wire/ipv4.js';
import { dropPacket } from './drop.js';

const NEXT_REWRITE = 0;

const ERR_REQUEST_SENT = 0;
const ERR_ENTRY_QUEUE_FULL = 1;
const ERR_PENDING_LIMIT = 2;
const ERR_TABLE_FULL = 3;
const ERR_NO_SOURCE = 4;
const ERR_NO_BUFFERS = 5;
const ERR_NO_INTERFACE = 6;

export function ip4ArpNode(net: NetMain): InternalNodeDesc {
  const { interfaces, neighbors } = net;
  return {
    name: NodeName.IP4_ARP,
    type: 'internal',
    next: [NodeName.IP4_REWRITE],
    errors: [
      { name: 'requests-sent', description: 'ARP requests sent', severity: 'info' },
      { name: 'entry-queue-full', description: 'packets waiting for this neighbour exceed the limit', severity: 'warn' },
      { name: 'pending-limit', description: 'packets waiting for ARP exceed the limit', severity: 'warn' },
      { name: 'table-full', description: 'neighbour table full', severity: 'error' },
      { name: 'no-source', description: 'no address on the interface to ARP from', severity: 'error' },
      { name: 'no-buffers', description: 'no buffer for an ARP request', severity: 'error' },
      { name: 'no-interface', description: 'output interface deleted', severity: 'warn' },
    ],
    formatTrace: (r) => `resolving ${ip4ToString(r as number)}`,
    fn: (node, vector, count) => {
      const pool = node.buffers;
      const now = net.now();
      let queued = false;
      for (let i = 0; i < count; i++) {
        const bi = vector[i]!;
        const sw = pool.txInterface[bi]!;
        const nextHop = pool.opaque[bi * 4 + OPAQUE_NEXT_HOP]!;
        if (node.isTraced(bi)) node.addTrace(bi, nextHop);
        const itf = interfaces.get(sw);
        if (!itf) {
          dropPacket(net, node, bi, ERR_NO_INTERFACE);
          continue;
        }
        const r = neighbors.queue(sw, nextHop, bi, now);
        switch (r.kind) {
          case 'resolved':
            pool.opaque[bi * 4 + OPAQUE_MAC_HI] = r.neighbor.macHi;
            pool.opaque[bi * 4 + OPAQUE_MAC_LO] = r.neighbor.macLo;
            node.enqueue(NEXT_REWRITE, bi);
            break;
          case 'queued':
            queued = true;
            if (r.sendRequest) {
              const src = itf.sourceFor(nextHop);
              if (src === undefined) node.countError(ERR_NO_SOURCE);
              else if (net.sendArpRequest(itf, src, nextHop)) node.countError(ERR_REQUEST_SENT);
              else node.countError(ERR_NO_BUFFERS);
            }
            break;
          case 'entry-queue-full':
            dropPacket(net, node, bi, ERR_ENTRY_QUEUE_FULL);
            break;
          case 'pending-limit':
            dropPacket(net, node, bi, ERR_PENDING_LIMIT);
            break;
          case 'table-full':
            dropPacket(net, node, bi, ERR_TABLE_FULL);
            break;
        }
      }
      if (queued) net.graph.signalProcess(net.nodes.neighborProcess);
    },
  };
}
