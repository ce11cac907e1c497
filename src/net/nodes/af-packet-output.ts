// af-packet-output: transmits frames in batches, one device call per run of frames for the same
// interface, straight from the buffer arena. Frames a full TX ring refuses are dropped and counted.
// Buffers flagged TX_L4_CSUM_OFFLOAD ask the device to complete their TCP/UDP checksum (vnet header).
// Buffers with a gso size (TCP segments sent with TSO, longer than the MTU) go out as one GSO super-frame
// when the device can send it (txGsoMaxSize, checksum offload on); otherwise they are cut into wire-sized
// frames here in software. Interface counters count the frames the wire sees: a super-frame of k segments
// is k packets and its bytes plus k-1 copies of its headers.

import { FRAME_SIZE } from '../../runtime/graph.js';
import type { InternalNodeDesc } from '../../runtime/node.js';
import { FrameFlag, META_GSO_SIZE, META_STRIDE, type PacketDevice, type TxBatch } from '../../native/packet-device.js';
import { BufferFlag } from '../../runtime/buffer-pool.js';
import { segmentTcp4Frame, tcp4FrameHeaderLength } from '../tcp/tso-segment.js';
import { onesComplementSum } from '../wire/checksum.js';
import { InterfaceCounter } from '../interface/counters.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { dropPacket } from './drop.js';

const ERR_RING_FULL = 0;
const ERR_NO_INTERFACE = 1;
const ERR_NO_BUFFERS = 2;
const ERR_SEGMENTED = 3;

/** Frames per device call: a vector, or the software segments of super-frames (at least 64 KiB / 64 B MSS). */
const RUN_CAPACITY = 1024;

/** The device's TX GSO limit (bytes of a GSO frame including its Ethernet header); 0 when it has none. */
export function deviceTxGsoMaxSize(device: PacketDevice): number {
  const size = device.txGsoMaxSize;
  return size > 0 ? size : 0;
}

interface OutputTrace {
  readonly interfaceName: string;
  readonly length: number;
  /** Non-zero for a GSO super-frame (or one segmented in software): the payload bytes per segment. */
  readonly gsoSize: number;
  readonly segments: number;
}

export function afPacketOutputNode(net: NetMain): InternalNodeDesc {
  const pool = net.graph.buffers;
  const batch: TxBatch = {
    data: pool.arena,
    offsets: new Uint32Array(RUN_CAPACITY),
    lengths: new Uint32Array(RUN_CAPACITY),
    count: 0,
    meta: new Uint16Array(RUN_CAPACITY * META_STRIDE),
  };
  const meta = batch.meta!;
  const arena = pool.arena;
  /** Per frame of the run: packets and bytes the wire will see. */
  const wirePackets = new Uint32Array(RUN_CAPACITY);
  const wireBytes = new Float64Array(RUN_CAPACITY);
  const segments = new Uint32Array(RUN_CAPACITY);

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

  /**
   * The super-frame's wire segments when the device can send it as one GSO frame (TCP/IPv4, checksum
   * offload, within its GSO limit); 0 when it must be segmented in software.
   */
  const gsoSegments = (device: PacketDevice, bi: number): number => {
    const len = pool.length[bi]!;
    if (!(pool.flags[bi]! & BufferFlag.TX_L4_CSUM_OFFLOAD) || (device as { offload?: boolean }).offload === false) return 0;
    if (len > deviceTxGsoMaxSize(device)) return 0;
    const hl = tcp4FrameHeaderLength(arena, pool.current[bi]!, len);
    if (hl < 0) return 0;
    return Math.ceil((len - hl) / pool.gsoSize[bi]!);
  };

  const run = new Uint32Array(RUN_CAPACITY);
  const { interfaces } = net;
  const { counters } = interfaces;
  return {
    name: NodeName.AF_PACKET_OUTPUT,
    type: 'internal',
    isOutput: true,
    errors: [
      { name: 'tx-ring-full', description: 'TX ring full', severity: 'error' },
      { name: 'no-interface', description: 'output interface deleted', severity: 'warn' },
      { name: 'gso-no-buffers', description: 'no buffers to segment a TSO frame in software', severity: 'error' },
      { name: 'gso-segmented', description: 'TSO frames segmented in software (device without TX GSO)', severity: 'info' },
    ],
    formatTrace: (r) => {
      const t = r as OutputTrace;
      return `${t.interfaceName}: len ${t.length}${t.gsoSize ? ` gso ${t.gsoSize} (${t.segments} segments)` : ''}`;
    },
    fn: (node, vector, count) => {
      let itfName = '';
      let sw = 0;
      let device: PacketDevice | null = null;
      /** Transmits run[0..n) on the current device; frames it refuses are dropped and counted. */
      const send = (n: number): void => {
        if (n === 0) return;
        batch.count = n;
        const { accepted } = device!.txBatch(batch);
        let packets = 0;
        let bytes = 0;
        for (let k = 0; k < accepted; k++) {
          const bi = run[k]!;
          packets += wirePackets[k]!;
          bytes += wireBytes[k]!;
          if (node.isTraced(bi)) {
            const segs = wirePackets[k]!;
            node.addTrace(bi, { interfaceName: itfName, length: pool.length[bi]!, gsoSize: segs > 1 ? pool.gsoSize[bi]! : 0, segments: segs } satisfies OutputTrace);
          }
          pool.free(bi);
        }
        counters.add(sw, InterfaceCounter.TX_PACKETS, packets);
        counters.add(sw, InterfaceCounter.TX_BYTES, bytes);
        if (accepted < n) counters.add(sw, InterfaceCounter.TX_ERROR, n - accepted);
        for (let k = accepted; k < n; k++) dropPacket(net, node, run[k]!, ERR_RING_FULL);
      };
      /** Adds buffer bi as frame n of the run. */
      const add = (bi: number, n: number): void => {
        run[n] = bi;
        batch.offsets[n] = pool.current[bi]!;
        batch.lengths[n] = pool.length[bi]!;
        meta[n * META_STRIDE] = 0;
        wirePackets[n] = 1;
        wireBytes[n] = pool.length[bi]!;
        if (pool.flags[bi]! & BufferFlag.TX_L4_CSUM_OFFLOAD) offload(device!, bi, n);
      };
      let i = 0;
      while (i < count) {
        sw = pool.txInterface[vector[i]!]!;
        const itf = interfaces.get(sw);
        if (!itf || !itf.device) {
          while (i < count && pool.txInterface[vector[i]!] === sw) dropPacket(net, node, vector[i++]!, ERR_NO_INTERFACE);
          continue;
        }
        device = itf.device;
        itfName = itf.name;
        let n = 0;
        while (i < count && pool.txInterface[vector[i]!] === sw) {
          const bi = vector[i++]!;
          const gso = pool.gsoSize[bi]!;
          if (gso === 0) {
            if (n === RUN_CAPACITY) { send(n); n = 0; }
            add(bi, n++);
            continue;
          }
          const segs = gsoSegments(device, bi);
          if (segs > 0) {
            if (n === RUN_CAPACITY) { send(n); n = 0; }
            add(bi, n);
            const m = n * META_STRIDE;
            if (segs > 1) {
              meta[m] = meta[m]! | FrameFlag.GSO_TCPV4;
              meta[m + META_GSO_SIZE] = gso;
              const hl = tcp4FrameHeaderLength(arena, pool.current[bi]!, pool.length[bi]!);
              wirePackets[n] = segs;
              wireBytes[n] = pool.length[bi]! + (segs - 1) * hl;
            }
            n++;
            continue;
          }
          // The device cannot send this super-frame: cut it into wire-sized frames.
          send(n);
          n = 0;
          const k = segmentTcp4Frame(pool, bi, gso, segments);
          if (k < 0) {
            dropPacket(net, node, bi, ERR_NO_BUFFERS);
            continue;
          }
          node.countError(ERR_SEGMENTED);
          if (node.isTraced(bi)) node.addTrace(bi, { interfaceName: itfName, length: pool.length[bi]!, gsoSize: gso, segments: k } satisfies OutputTrace);
          pool.free(bi);
          for (let s = 0; s < k; s++) add(segments[s]!, n++);
          send(n);
          n = 0;
        }
        send(n);
      }
    },
  };
}
