// af-packet-input: pulls frames from every host interface's device straight into buffer-pool slots
// (one batch per interface per call), counts them per interface and hands them to ethernet-input
// (or to the interface's RX fault injector).

import { BUFFER_DATA_SIZE, BufferFlag } from '../../runtime/buffer-pool.js';
import { FRAME_SIZE } from '../../runtime/graph.js';
import type { InputNodeDesc } from '../../runtime/node.js';
import type { NodeRuntime } from '../../runtime/node-runtime.js';
import { FrameFlag, RxBatch } from '../../native/packet-device.js';
import { InterfaceCounter } from '../interface/counters.js';
import type { NetInterface } from '../interface/interface-table.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { dropPacket } from './drop.js';

const NEXT_ETHERNET = 0;
const NEXT_RX_FAULT = 1;

const ERR_NO_BUFFERS = 0;
const ERR_INTERFACE_DOWN = 1;

interface AfPacketInputTrace {
  readonly interfaceName: string;
  readonly swIfIndex: number;
  readonly length: number;
  readonly deviceFlags: number;
}

export function afPacketInputNode(net: NetMain): InputNodeDesc {
  const pool = net.graph.buffers;
  const batch = RxBatch.slots(pool.arena, BUFFER_DATA_SIZE, FRAME_SIZE);
  const scratch = new Uint32Array(FRAME_SIZE);
  const { counters } = net.interfaces;

  const receive = (node: NodeRuntime, itf: NetInterface): number => {
    const want = Math.min(FRAME_SIZE, pool.available);
    if (want === 0) {
      node.countError(ERR_NO_BUFFERS);
      return 0;
    }
    const n = pool.allocMany(scratch, want);
    for (let i = 0; i < n; i++) batch.offsets[i] = pool.dataStart(scratch[i]!);
    batch.limit = n;
    const got = itf.device!.rxBatch(batch);
    const sw = itf.swIfIndex;
    const next = net.rxFaults[sw] ? NEXT_RX_FAULT : NEXT_ETHERNET;
    let bytes = 0;
    for (let i = 0; i < got; i++) {
      const bi = scratch[i]!;
      const len = batch.lengths[i]!;
      pool.current[bi] = batch.offsets[i]!;
      pool.length[bi] = len;
      pool.rxInterface[bi] = sw;
      const f = batch.flags(i);
      if (f & (FrameFlag.CSUM_VALID | FrameFlag.CSUM_PARTIAL)) pool.flags[bi] = BufferFlag.L4_CHECKSUM_OK;
      bytes += len;
      if (node.maybeStartTrace(bi)) {
        const rec: AfPacketInputTrace = { interfaceName: itf.name, swIfIndex: sw, length: len, deviceFlags: f };
        node.addTrace(bi, rec);
      }
      if (!itf.adminUp) dropPacket(net, node, bi, ERR_INTERFACE_DOWN);
      else node.enqueue(next, bi);
    }
    counters.add(sw, InterfaceCounter.RX_PACKETS, got);
    counters.add(sw, InterfaceCounter.RX_BYTES, bytes);
    for (let i = got; i < n; i++) pool.free(scratch[i]!);
    if (got === n && itf.rxMode === 'interrupt') {
      // A full batch: more frames probably wait. Come back next turn rather than starve the graph.
      itf.rxPending = true;
      node.interrupt();
    }
    return got;
  };

  return {
    name: NodeName.AF_PACKET_INPUT,
    type: 'input',
    state: 'interrupt',
    next: [NodeName.ETHERNET_INPUT, NodeName.INTERFACE_RX_FAULT],
    errors: [
      { name: 'no-buffers', description: 'buffer allocation failure', severity: 'error' },
      { name: 'interface-down', description: 'interface is admin down', severity: 'warn' },
    ],
    formatTrace: (r) => {
      const t = r as AfPacketInputTrace;
      return `${t.interfaceName} (sw_if_index ${t.swIfIndex}) len ${t.length} device-flags 0x${t.deviceFlags.toString(16)}`;
    },
    fn: (node) => {
      let total = 0;
      for (const itf of net.hostInterfaces) {
        if (itf.rxMode === 'interrupt' && !itf.rxPending) continue;
        itf.rxPending = false;
        total += receive(node, itf);
      }
      return total;
    },
  };
}
