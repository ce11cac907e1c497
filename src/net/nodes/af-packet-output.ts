// af-packet-output: transmits frames in batches, one device call per run of frames for the same
// interface, straight from the buffer arena. Frames a full TX ring refuses are dropped and counted.

import { FRAME_SIZE } from '../../runtime/graph.js';
import type { InternalNodeDesc } from '../../runtime/node.js';
import type { TxBatch } from '../../native/packet-device.js';
import { InterfaceCounter } from '../interface/counters.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { dropPacket } from './drop.js';

const ERR_RING_FULL = 0;
const ERR_NO_INTERFACE = 1;

interface OutputTrace {
  readonly interfaceName: string;
  readonly length: number;
}

export function afPacketOutputNode(net: NetMain): InternalNodeDesc {
  const pool = net.graph.buffers;
  const batch: TxBatch = {
    data: pool.arena,
    offsets: new Uint32Array(FRAME_SIZE),
    lengths: new Uint32Array(FRAME_SIZE),
    count: 0,
  };
  const run = new Uint32Array(FRAME_SIZE);
  const { interfaces } = net;
  const { counters } = interfaces;
  return {
    name: NodeName.AF_PACKET_OUTPUT,
    type: 'internal',
    isOutput: true,
    errors: [
      { name: 'tx-ring-full', description: 'TX ring full', severity: 'error' },
      { name: 'no-interface', description: 'output interface deleted', severity: 'warn' },
    ],
    formatTrace: (r) => {
      const t = r as OutputTrace;
      return `${t.interfaceName}: len ${t.length}`;
    },
    fn: (node, vector, count) => {
      let i = 0;
      while (i < count) {
        const sw = pool.txInterface[vector[i]!]!;
        let n = 0;
        let bytes = 0;
        while (i < count && pool.txInterface[vector[i]!] === sw) {
          const bi = vector[i++]!;
          run[n] = bi;
          batch.offsets[n] = pool.current[bi]!;
          batch.lengths[n] = pool.length[bi]!;
          n++;
        }
        const itf = interfaces.get(sw);
        if (!itf || !itf.device) {
          for (let k = 0; k < n; k++) dropPacket(net, node, run[k]!, ERR_NO_INTERFACE);
          continue;
        }
        batch.count = n;
        const { accepted } = itf.device.txBatch(batch);
        for (let k = 0; k < accepted; k++) {
          const bi = run[k]!;
          bytes += pool.length[bi]!;
          if (node.isTraced(bi)) node.addTrace(bi, { interfaceName: itf.name, length: pool.length[bi]! } satisfies OutputTrace);
          pool.free(bi);
        }
        counters.add(sw, InterfaceCounter.TX_PACKETS, accepted);
        counters.add(sw, InterfaceCounter.TX_BYTES, bytes);
        if (accepted < n) counters.add(sw, InterfaceCounter.TX_ERROR, n - accepted);
        for (let k = accepted; k < n; k++) dropPacket(net, node, run[k]!, ERR_RING_FULL);
      }
    },
  };
}
