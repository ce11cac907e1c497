// af-packet-output: transmits frames in batches, one device call per run of frames for the same
// interface, straight from the buffer arena. Frames a full TX ring refuses are dropped and counted.
// Buffers flagged TX_L4_CSUM_OFFLOAD ask the device to complete their TCP/UDP checksum (vnet header).

import { FRAME_SIZE } from '../../runtime/graph.js';
import type { InternalNodeDesc } from '../../runtime/node.js';
import { FrameFlag, META_STRIDE, type PacketDevice, type TxBatch } from '../../native/packet-device.js';
import { BufferFlag } from '../../runtime/buffer-pool.js';
import { onesComplementSum } from '../wire/checksum.js';
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
    meta: new Uint16Array(FRAME_SIZE * META_STRIDE),
  };
  const meta = batch.meta!;
  const arena = pool.arena;

  /**
   * Sets frame n's checksum-offload metadata for buffer bi (or completes the checksum in software when the
   * device has no offload). A frame that is not TCP/UDP over IPv4 is sent as it is.
   */
  const offload = (device: PacketDevice, bi: number, n: number): void => {
    const m = n * META_STRIDE;
    const start = pool.current[bi]!;
    let l3 = 14;
    let type = (arena[start + 12]! << 8) | arena[start + 13]!;
    if (type === 0x8100) {
      l3 = 18;
      type = (arena[start + 16]! << 8) | arena[start + 17]!;
    }
    const ihl = (arena[start + l3]! & 0x0f) * 4;
    const proto = arena[start + l3 + 9]!;
    if (type !== 0x0800 || (proto !== 6 && proto !== 17)) return;
    const l4 = l3 + ihl;
    const field = proto === 6 ? 16 : 6;
    if ((device as { offload?: boolean }).offload === false) {
      const at = start + l4 + field;
      const sum = ~onesComplementSum(arena, start + l4, start + pool.length[bi]!) & 0xffff;
      arena[at] = sum >>> 8;
      arena[at + 1] = sum & 0xff;
      return;
    }
    meta[m] = FrameFlag.CSUM_PARTIAL;
    meta[m + 1] = l4;
    meta[m + 2] = field;
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
          meta[n * META_STRIDE] = 0;
          n++;
        }
        const itf = interfaces.get(sw);
        if (itf?.device) {
          for (let k = 0; k < n; k++) if (pool.flags[run[k]!]! & BufferFlag.TX_L4_CSUM_OFFLOAD) offload(itf.device, run[k]!, k);
        }
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
