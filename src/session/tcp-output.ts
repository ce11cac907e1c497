// Where TCP segments go: each into its own pool buffer after room for the IPv4 header (the
// Ethernet header goes into the buffer's pre-data later), then an IPv4 header, then ip4-lookup.
// TCP checksums are offloaded: the engine runs with `fillChecksum: false`, the sink puts the pseudo-header
// sum in the field and flags the buffer; af-packet-output asks the device to complete it (or completes it
// in software when the device cannot).
// TSO: toward a route whose device sends GSO super-frames, the engine may write a segment of several MSS into
// a large pool buffer; the sink marks it with its gso size and af-packet-output asks the device to segment it.
// While the route's interface has a TX fault injector, the sink cuts the segment into wire-sized frames
// itself, before the fault node: faults act on the frames the wire sees, exactly as without TSO.

import type { NetMain } from '../net/net-main.js';
import type { TcpSegmentSink } from '../net/tcp/types.js';
import { internetChecksum, pseudoHeaderSum } from '../net/wire/checksum.js';
import { IpProtocol, writeU32 } from '../net/wire/ipv4.js';
import { deviceTxGsoMaxSize } from '../net/nodes/af-packet-output.js';
import { segmentTcp4Frame } from '../net/tcp/tso-segment.js';
import { BUFFER_DATA_SIZE, BufferFlag, LARGE_BUFFER_DATA_SIZE, NONE } from '../runtime/buffer-pool.js';

const IP4_HEADER = 20;
const ETHERNET_HEADER = 14;
const DEFAULT_TTL = 64;
/** The IPv4 total length field's limit. */
const IP4_MAX_TOTAL = 65535;

export class TcpOutputSink implements TcpSegmentSink {
  txBuf: Uint8Array;
  txOff = 0;
  private bi = NONE;
  private ipId = 0;
  /** Segments the stack could not get a buffer for (recovered by retransmission). */
  noBuffer = 0;
  /** TSO segments cut into wire frames here because a TX fault injector was set on their route. */
  softwareSegmented = 0;
  private readonly segments = new Uint32Array(1024);

  constructor(private readonly net: NetMain) {
    this.txBuf = net.graph.buffers.arena;
  }

  /**
   * Largest TCP segment one GSO super-frame toward `remoteIp` may carry: limited by the output device's GSO
   * size, the IPv4 length field and a large buffer; 0 when the route is local, has no GSO-capable device
   * (or one without checksum offload), or no large buffer is free.
   */
  tsoMaxSegment(_localIp: number, remoteIp: number): number {
    const net = this.net;
    if (net.graph.buffers.largeAvailable === 0 || net.interfaces.localAddrs.has(remoteIp)) return 0;
    const res = net.fib.resolve(remoteIp);
    if (!res) return 0;
    const itf = net.interfaces.get(res.swIfIndex);
    // Without checksum offload the device could not segment (a GSO frame needs CSUM_PARTIAL).
    if (!itf?.device || (itf.device as { offload?: boolean }).offload === false) return 0;
    const gso = deviceTxGsoMaxSize(itf.device);
    if (gso <= ETHERNET_HEADER + itf.mtu) return 0;
    return Math.min(gso - ETHERNET_HEADER, IP4_MAX_TOTAL, LARGE_BUFFER_DATA_SIZE) - IP4_HEADER;
  }

  reserve(maxLen: number, align?: number): boolean {
    const pool = this.net.graph.buffers;
    if (maxLen > LARGE_BUFFER_DATA_SIZE - IP4_HEADER || maxLen > IP4_MAX_TOTAL - IP4_HEADER) return false;
    const large = maxLen > BUFFER_DATA_SIZE - IP4_HEADER;
    const bi = large ? pool.allocLarge() : pool.alloc();
    if (bi === NONE) {
      // No large buffer: the engine falls back to an MSS-sized segment (counted in the pool's largeAllocFailures).
      if (!large) this.noBuffer++;
      return false;
    }
    this.bi = bi;
    const at = pool.dataStart(bi) + IP4_HEADER;
    // Start up to 7 bytes early (into the pre-data headroom) so the engine's payload copy is word-aligned.
    this.txOff = align === undefined ? at : at - ((at - align) & 7);
    return true;
  }

  commit(srcIp: number, dstIp: number, len: number, gsoSize = 0): void {
    const pool = this.net.graph.buffers;
    const bi = this.bi;
    this.bi = NONE;
    const b = pool.arena;
    const off = this.txOff - IP4_HEADER;
    const total = IP4_HEADER + len;
    const id = (this.ipId = (this.ipId + 1) & 0xffff);
    b[off] = 0x45;
    b[off + 1] = 0;
    b[off + 2] = total >>> 8;
    b[off + 3] = total & 0xff;
    b[off + 4] = id >>> 8;
    b[off + 5] = id & 0xff;
    b[off + 6] = 0x40; // don't fragment: we size segments by the MTU
    b[off + 7] = 0;
    b[off + 8] = DEFAULT_TTL;
    b[off + 9] = IpProtocol.TCP;
    b[off + 10] = 0;
    b[off + 11] = 0;
    writeU32(b, off + 12, srcIp);
    writeU32(b, off + 16, dstIp);
    const sum = internetChecksum(b, off, off + IP4_HEADER);
    b[off + 10] = sum >>> 8;
    b[off + 11] = sum & 0xff;
    const csum = this.txOff + 16;
    const pseudo = pseudoHeaderSum(srcIp, dstIp, IpProtocol.TCP, len);
    b[csum] = pseudo >>> 8;
    b[csum + 1] = pseudo & 0xff;
    pool.flags[bi] |= BufferFlag.TX_L4_CSUM_OFFLOAD;
    pool.gsoSize[bi] = gsoSize;
    pool.current[bi] = off;
    pool.length[bi] = total;
    if (gsoSize > 0 && this.txFaulted(dstIp)) this.segmentAndOutput(bi, gsoSize);
    else this.net.ip4Output(bi);
  }

  /** True when the route toward dst leaves through an interface with a TX fault injector. */
  private txFaulted(dst: number): boolean {
    const res = this.net.fib.resolve(dst);
    return res !== undefined && this.net.txFaults[res.swIfIndex] !== undefined;
  }

  /** Cuts the TSO segment in `bi` into wire-sized segments (small buffers) and sends each; frees `bi`. */
  private segmentAndOutput(bi: number, gsoSize: number): void {
    const pool = this.net.graph.buffers;
    // segmentTcp4Frame reads an Ethernet frame: only the EtherType matters; ip4-rewrite writes the real header.
    pool.advance(bi, -ETHERNET_HEADER);
    const at = pool.current[bi]!;
    pool.arena[at + 12] = 0x08;
    pool.arena[at + 13] = 0x00;
    const n = segmentTcp4Frame(pool, bi, gsoSize, this.segments);
    pool.free(bi);
    if (n < 0) {
      this.noBuffer++; // recovered by retransmission
      return;
    }
    this.softwareSegmented++;
    for (let i = 0; i < n; i++) {
      const s = this.segments[i]!;
      pool.advance(s, ETHERNET_HEADER);
      this.net.ip4Output(s);
    }
  }
}
