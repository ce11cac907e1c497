// ip4-neighbor-process: retries ARP for incomplete neighbours and, after the last try, drops the
// packets that waited for them.

import type { ProcessNodeDesc } from '../../runtime/node.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { dropPacket } from './drop.js';

const ERR_UNRESOLVED = 0;
const ERR_RETRIES = 1;

export function ip4NeighborProcessNode(net: NetMain): ProcessNodeDesc {
  return {
    name: NodeName.IP4_NEIGHBOR_PROCESS,
    type: 'process',
    errors: [
      { name: 'unresolved', description: 'neighbour did not answer ARP', severity: 'error' },
      { name: 'retries', description: 'ARP requests retried', severity: 'info' },
    ],
    fn: (node, now) => {
      const r = net.neighbors.expire(now);
      for (const bi of r.dropped) dropPacket(net, node, bi, ERR_UNRESOLVED);
      for (const n of r.retry) {
        const itf = net.interfaces.get(n.swIfIndex);
        const src = itf?.sourceFor(n.ip);
        if (itf && src !== undefined && net.sendArpRequest(itf, src, n.ip)) node.countError(ERR_RETRIES);
      }
      return r.nextDue === undefined ? undefined : Math.max(1, r.nextDue - now);
    },
  };
}
