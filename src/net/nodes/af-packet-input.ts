// af-packet-input: pulls frames from every host interface's device (one batch per interface per call) into a
// per-interface staging area, copies them into pool buffers, counts them per interface and hands them to
// ethernet-input (or to the interface's RX fault injector).
//
// GSO super-frames (a veth peer's TCP with TSO) are accepted: a TCPv4 one becomes a JUMBO buffer (headers in
// the buffer, bytes in the staging area, see af-packet-jumbo.ts) so TCP takes it as one large segment; when the
// interface has an RX fault injector (which copies whole buffers) it is segmented in software instead.

import { BUFFER_DATA_SIZE, BufferFlag, NONE } from '../../runtime/buffer-pool.js';
import { FRAME_SIZE } from '../../runtime/graph.js';
import type { InputNodeDesc } from '../../runtime/node.js';
import type { NodeRuntime } from '../../runtime/node-runtime.js';
import { FrameFlag, RxBatch } from '../../native/packet-device.js';
import { InterfaceCounter } from '../interface/counters.js';
import type { NetInterface } from '../interface/interface-table.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { internetChecksum, pseudoHeaderSum } from '../wire/checksum.js';
import { writeGsoSegmentHeaders } from '../wire/gso-segment.js';
import { jumboFramesOf } from './af-packet-jumbo.js';
import { dropPacket } from './drop.js';

const NEXT_ETHERNET = 0;
const NEXT_RX_FAULT = 1;

const ERR_NO_BUFFERS = 0;
const ERR_INTERFACE_DOWN = 1;
const ERR_GSO_UNSUPPORTED = 2;
const ERR_GSO_SEGMENTED = 3;

/** Bytes per staging area (two per interface): up to 32 super-frames of 64 KiB per rx call. */
const STAGING_BYTES = 2 << 20;
/** Bytes of a GSO super-frame copied into its pool buffer (all L2-L4 headers fit). */
const JUMBO_HEAD_BYTES = 576;
const ETHERTYPE_IP4 = 0x0800;

interface AfPacketInputTrace {
  readonly interfaceName: string;
  readonly swIfIndex: number;
  readonly length: number;
  readonly deviceFlags: number;
}

interface Staging {
  readonly batch: RxBatch;
  readonly id: number;
}

/** Two staging areas per interface, used in turn: a jumbo frame's bytes survive the interface's next rx call. */
interface StagingPair {
  readonly areas: [Staging, Staging];
  next: number;
}

export function afPacketInputNode(net: NetMain): InputNodeDesc {
  const pool = net.graph.buffers;
  const arena = pool.arena;
  const jumbo = jumboFramesOf(pool);
  const stagings = new Map<number, StagingPair>();
  const { counters } = net.interfaces;

  const newStaging = (): Staging => {
    const batch = RxBatch.packed(FRAME_SIZE, STAGING_BYTES);
    return { batch, id: jumbo.addStaging(batch.data) };
  };
  const stagingFor = (sw: number): Staging => {
    let p = stagings.get(sw);
    if (!p) {
      p = { areas: [newStaging(), newStaging()], next: 0 };
      stagings.set(sw, p);
    }
    const s = p.areas[p.next]!;
    p.next ^= 1;
    return s;
  };

  /**
   * Splits a TCPv4 GSO super-frame data[off, off+len) into gsoSize segments, each in its own buffer with
   * its IPv4 length/id/checksum and TCP sequence/flags fixed. Returns how many buffers were emitted.
   */
  const segment = (node: NodeRuntime, itf: NetInterface, next: number, data: Uint8Array, off: number, len: number, mss: number, flags: number): number => {
    if (((data[off + 12]! << 8) | data[off + 13]!) !== ETHERTYPE_IP4 || mss === 0) return -1;
    const l3 = off + 14;
    const ihl = (data[l3]! & 0x0f) * 4;
    const l4 = l3 + ihl;
    const hdr = l4 + ((data[l4 + 12]! >> 4) * 4) - off;
    if (hdr >= len || hdr + 1 > BUFFER_DATA_SIZE) return -1;
    const payload = len - hdr;
    const seq0 = ((data[l4 + 4]! << 24) | (data[l4 + 5]! << 16) | (data[l4 + 6]! << 8) | data[l4 + 7]!) >>> 0;
    const id0 = (data[l3 + 4]! << 8) | data[l3 + 5]!;
    const tcpFlags = data[l4 + 13]!;
    const checksumDone = (flags & (FrameFlag.CSUM_PARTIAL | FrameFlag.CSUM_VALID)) !== 0;
    const src = ((data[l3 + 12]! << 24) | (data[l3 + 13]! << 16) | (data[l3 + 14]! << 8) | data[l3 + 15]!) >>> 0;
    const dst = ((data[l3 + 16]! << 24) | (data[l3 + 17]! << 16) | (data[l3 + 18]! << 8) | data[l3 + 19]!) >>> 0;
    let emitted = 0;
    for (let k = 0, p = 0; p < payload; k++, p += mss) {
      const n = Math.min(mss, payload - p);
      if (hdr + n > BUFFER_DATA_SIZE) return emitted;
      const bi = pool.alloc();
      if (bi === NONE) {
        node.countError(ERR_NO_BUFFERS);
        return emitted;
      }
      const b = pool.dataStart(bi);
      arena.set(data.subarray(off, off + hdr), b);
      arena.set(data.subarray(off + hdr + p, off + hdr + p + n), b + hdr);
      const i3 = b + 14;
      const i4 = i3 + ihl;
      const total = ihl + (hdr - (l4 - off)) + n;
      writeGsoSegmentHeaders(arena, i3, i4, total, (id0 + k) & 0xffff, (seq0 + p) >>> 0, tcpFlags, k === 0, p + n >= payload);
      pool.current[bi] = b;
      pool.length[bi] = hdr + n;
      pool.rxInterface[bi] = itf.swIfIndex;
      if (checksumDone) pool.flags[bi] = BufferFlag.L4_CHECKSUM_OK;
      else {
        const l4Len = total - ihl;
        arena[i4 + 16] = 0;
        arena[i4 + 17] = 0;
        const sum = internetChecksum(arena, i4, i4 + l4Len, pseudoHeaderSum(src, dst, 6, l4Len));
        arena[i4 + 16] = sum >>> 8;
        arena[i4 + 17] = sum & 0xff;
      }
      node.enqueue(next, bi);
      emitted++;
    }
    return emitted;
  };

  const receive = (node: NodeRuntime, itf: NetInterface): number => {
    const want = Math.min(FRAME_SIZE, pool.available);
    if (want === 0) {
      node.countError(ERR_NO_BUFFERS);
      return 0;
    }
    const sw = itf.swIfIndex;
    const staging = stagingFor(sw);
    const batch = staging.batch;
    jumbo.refill(staging.id);
    batch.limit = want;
    const got = itf.device!.rxBatch(batch);
    const data = batch.data;
    const faulty = !!net.rxFaults[sw];
    const next = faulty ? NEXT_RX_FAULT : NEXT_ETHERNET;
    let bytes = 0;
    for (let i = 0; i < got; i++) {
      const off = batch.offsets[i]!;
      const len = batch.lengths[i]!;
      const f = batch.flags(i);
      bytes += len;
      if (!itf.adminUp) {
        const bi = pool.alloc();
        if (bi === NONE) node.countError(ERR_NO_BUFFERS);
        else dropPacket(net, node, bi, ERR_INTERFACE_DOWN);
        continue;
      }
      if (len > BUFFER_DATA_SIZE) {
        if (!(f & FrameFlag.GSO_TCPV4) || (f & FrameFlag.TRUNCATED)) {
          node.countError(ERR_GSO_UNSUPPORTED);
          continue;
        }
        if (faulty) {
          if (segment(node, itf, next, data, off, len, batch.gsoSize(i), f) < 0) node.countError(ERR_GSO_UNSUPPORTED);
          else node.countError(ERR_GSO_SEGMENTED);
          continue;
        }
      }
      const bi = pool.alloc();
      if (bi === NONE) {
        node.countError(ERR_NO_BUFFERS);
        continue;
      }
      const start = pool.dataStart(bi);
      // A jumbo buffer needs only the headers (and a little more, e.g. for an ICMP error's quote).
      const copy = len > BUFFER_DATA_SIZE ? JUMBO_HEAD_BYTES : len;
      arena.set(data.subarray(off, off + copy), start);
      pool.current[bi] = start;
      pool.length[bi] = len;
      pool.rxInterface[bi] = sw;
      let bf = f & (FrameFlag.CSUM_VALID | FrameFlag.CSUM_PARTIAL) ? BufferFlag.L4_CHECKSUM_OK : 0;
      if (len > BUFFER_DATA_SIZE) {
        bf |= BufferFlag.JUMBO;
        jumbo.attach(bi, staging.id, off);
      }
      pool.flags[bi] = bf;
      if (node.maybeStartTrace(bi)) {
        const rec: AfPacketInputTrace = { interfaceName: itf.name, swIfIndex: sw, length: len, deviceFlags: f };
        node.addTrace(bi, rec);
      }
      node.enqueue(next, bi);
    }
    counters.add(sw, InterfaceCounter.RX_PACKETS, got);
    counters.add(sw, InterfaceCounter.RX_BYTES, bytes);
    if (got === want && itf.rxMode === 'interrupt') {
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
      { name: 'gso-unsupported', description: 'oversized frame, not TCPv4 GSO', severity: 'error' },
      { name: 'gso-segmented', description: 'GSO frames segmented in software', severity: 'info' },
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
