// Dropping from a net node: the drop also counts against the packet's interface (`show interface`
// drops), the RX one when known, else the TX one.

import { NONE } from '../../runtime/buffer-pool.js';
import type { NodeRuntime } from '../../runtime/node-runtime.js';
import { InterfaceCounter } from '../interface/counters.js';
import type { NetMain } from '../net-main.js';

export function dropPacket(net: NetMain, node: NodeRuntime, bi: number, code: number): void {
  const pool = node.buffers;
  const rx = pool.rxInterface[bi]!;
  const sw = rx !== NONE ? rx : pool.txInterface[bi]!;
  if (sw !== NONE && net.interfaces.get(sw)) net.interfaces.counters.add(sw, InterfaceCounter.DROPS);
  node.drop(bi, code);
}
