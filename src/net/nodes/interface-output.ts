// interface-output: sends L2 frames to their TX interface's device output (through its TX fault
// injector when one is set); frames for a down or deleted interface are dropped.

import type { InternalNodeDesc } from '../../runtime/node.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { dropPacket } from './drop.js';

const NEXT_DEVICE = 0;
const NEXT_TX_FAULT = 1;

const ERR_DOWN = 0;
const ERR_NO_INTERFACE = 1;

export function interfaceOutputNode(net: NetMain): InternalNodeDesc {
  const { interfaces } = net;
  return {
    name: NodeName.INTERFACE_OUTPUT,
    type: 'internal',
    next: [NodeName.AF_PACKET_OUTPUT, NodeName.INTERFACE_TX_FAULT],
    errors: [
      { name: 'interface-down', description: 'interface is admin down', severity: 'warn' },
      { name: 'no-interface', description: 'output interface deleted', severity: 'warn' },
    ],
    formatTrace: (r) => `${r as string}`,
    fn: (node, vector, count) => {
      const pool = node.buffers;
      for (let i = 0; i < count; i++) {
        const bi = vector[i]!;
        const sw = pool.txInterface[bi]!;
        const itf = interfaces.get(sw);
        if (node.isTraced(bi)) node.addTrace(bi, itf ? itf.name : `sw_if_index ${sw}`);
        if (!itf || !itf.device) {
          dropPacket(net, node, bi, ERR_NO_INTERFACE);
        } else if (!itf.adminUp) {
          dropPacket(net, node, bi, ERR_DOWN);
        } else {
          node.enqueue(net.txFaults[sw] ? NEXT_TX_FAULT : NEXT_DEVICE, bi);
        }
      }
    },
  };
}
