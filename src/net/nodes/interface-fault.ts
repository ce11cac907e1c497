// interface-rx-fault / interface-tx-fault: apply an interface's fault injector (drop, duplicate,
// corrupt, reorder, delay) to frames entering from or leaving to its device. Held frames come back
// through interface-fault-process.

import { NONE } from '../../runtime/buffer-pool.js';
import type { InternalNodeDesc } from '../../runtime/node.js';
import type { NodeRuntime } from '../../runtime/node-runtime.js';
import { FaultVerdict, type FaultInjector } from '../fault/fault-injector.js';
import type { FaultDirection, NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.js';
import { dropPacket } from './drop.js';

const NEXT_ON = 0;

const ERR_DROPPED = 0;
const ERR_DUPLICATED = 1;
const ERR_CORRUPTED = 2;
const ERR_HELD = 3;
const ERR_QUEUE_FULL = 4;
const ERR_NO_BUFFERS = 5;

export const FAULT_ERRORS = [
  { name: 'dropped', description: 'fault injection: dropped', severity: 'info' },
  { name: 'duplicated', description: 'fault injection: duplicated', severity: 'info' },
  { name: 'corrupted', description: 'fault injection: corrupted', severity: 'info' },
  { name: 'held', description: 'fault injection: delayed or reordered', severity: 'info' },
  { name: 'queue-full', description: 'fault injection: delay queue full', severity: 'error' },
  { name: 'no-buffers', description: 'fault injection: no buffer to duplicate into', severity: 'error' },
] as const;

/** Copies a buffer's bytes and metadata into a new buffer; NONE when the pool is empty. */
function cloneBuffer(node: NodeRuntime, bi: number): number {
  const pool = node.buffers;
  const copy = pool.allocLike(bi); // a large (TSO) buffer needs a large copy
  if (copy === NONE) return NONE;
  const len = pool.length[bi]!;
  const from = pool.current[bi]!;
  pool.arena.copyWithin(pool.current[copy]!, from, from + len);
  pool.length[copy] = len;
  pool.rxInterface[copy] = pool.rxInterface[bi]!;
  pool.txInterface[copy] = pool.txInterface[bi]!;
  pool.flags[copy] = pool.flags[bi]! & ~1; // the copy is not traced
  pool.gsoSize[copy] = pool.gsoSize[bi]!;
  return copy;
}

export function interfaceFaultNode(net: NetMain, dir: FaultDirection): InternalNodeDesc {
  const table = dir === 'rx' ? net.rxFaults : net.txFaults;
  const held = (node: NodeRuntime, inj: FaultInjector, bi: number, now: number): void => {
    const v = inj.schedule(bi, now);
    if (v === FaultVerdict.PASS) node.enqueue(NEXT_ON, bi);
    else if (v === FaultVerdict.HELD) {
      node.countError(ERR_HELD);
      net.graph.signalProcess(net.nodes.faultProcess);
    } else dropPacket(net, node, bi, ERR_QUEUE_FULL);
  };
  return {
    name: dir === 'rx' ? NodeName.INTERFACE_RX_FAULT : NodeName.INTERFACE_TX_FAULT,
    type: 'internal',
    next: [dir === 'rx' ? NodeName.ETHERNET_INPUT : NodeName.AF_PACKET_OUTPUT],
    errors: FAULT_ERRORS,
    formatTrace: (r) => `fault injection (${dir}): ${r as string}`,
    fn: (node, vector, count) => {
      const pool = node.buffers;
      const now = net.now();
      for (let i = 0; i < count; i++) {
        const bi = vector[i]!;
        const sw = dir === 'rx' ? pool.rxInterface[bi]! : pool.txInterface[bi]!;
        const inj = table[sw];
        if (!inj) {
          if (node.isTraced(bi)) node.addTrace(bi, 'none');
          node.enqueue(NEXT_ON, bi);
          continue;
        }
        if (inj.shouldDrop()) {
          if (node.isTraced(bi)) node.addTrace(bi, 'drop');
          dropPacket(net, node, bi, ERR_DROPPED);
          continue;
        }
        if (inj.shouldDuplicate()) {
          const copy = cloneBuffer(node, bi);
          if (copy === NONE) node.countError(ERR_NO_BUFFERS);
          else {
            node.countError(ERR_DUPLICATED);
            held(node, inj, copy, now);
          }
        }
        const bit = inj.corruptBit(pool.length[bi]!, ETHERNET_HEADER_LEN);
        if (bit >= 0) {
          const at = pool.current[bi]! + (bit >>> 3);
          pool.arena[at] = pool.arena[at]! ^ (1 << (bit & 7));
          node.countError(ERR_CORRUPTED);
        }
        if (node.isTraced(bi)) node.addTrace(bi, bit >= 0 ? `corrupt bit ${bit}` : 'pass');
        held(node, inj, bi, now);
      }
    },
  };
}
