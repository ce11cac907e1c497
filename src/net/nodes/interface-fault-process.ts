// interface-fault-process: releases frames the fault injectors held (delay, reorder) when due.

import { FRAME_SIZE } from '../../runtime/graph.js';
import type { ProcessNodeDesc } from '../../runtime/node.js';
import type { FaultInjector } from '../fault/fault-injector.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';

const NEXT_RX = 0;
const NEXT_TX = 1;

export function interfaceFaultProcessNode(net: NetMain): ProcessNodeDesc {
  const out = new Uint32Array(FRAME_SIZE);
  return {
    name: NodeName.INTERFACE_FAULT_PROCESS,
    type: 'process',
    next: [NodeName.ETHERNET_INPUT, NodeName.AF_PACKET_OUTPUT],
    fn: (node, now) => {
      let nextDue = Infinity;
      const releaseAll = (table: (FaultInjector | undefined)[], next: number): void => {
        for (const inj of table) {
          if (!inj) continue;
          let n: number;
          // A frame at a time per call keeps `out` bounded; loop until nothing more is due.
          while ((n = inj.release(now, out, 0)) > 0) for (let i = 0; i < n; i++) node.enqueue(next, out[i]!);
          const due = inj.nextDue();
          if (due !== undefined) nextDue = Math.min(nextDue, due);
        }
      };
      releaseAll(net.rxFaults, NEXT_RX);
      releaseAll(net.txFaults, NEXT_TX);
      return nextDue === Infinity ? undefined : Math.max(1, nextDue - now);
    },
  };
}
