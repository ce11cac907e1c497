// Where TCP segments go: each into its own pool buffer after room for the IPv4 header (the
// Ethernet header goes into the buffer's pre-data later), then an IPv4 header, then ip4-lookup.
// TCP checksums are offloaded: the engine runs with `fillChecksum: false`, the sink puts the pseudo-header
// sum in the field and flags the buffer; af-packet-output asks the device to complete it (or completes it
// in software when the device cannot).

import type { NetMain } from '../net/net-main.js';
import type { TcpSegmentSink } from '../net/tcp/types.js';
import { internetChecksum, pseudoHeaderSum } from '../net/wire/checksum.js';
import { IpProtocol, writeU32 } from '../net/wire/ipv4.js';
import { BUFFER_DATA_SIZE, BufferFlag, NONE } from '../runtime/buffer-pool.js';

const IP4_HEADER = 20;
const DEFAULT_TTL = 64;

export class TcpOutputSink implements TcpSegmentSink {
  txBuf: Uint8Array;
  txOff = 0;
  private bi = NONE;
  private ipId = 0;
  /** Segments the stack could not get a buffer for (recovered by retransmission). */
  noBuffer = 0;

  constructor(private readonly net: NetMain) {
    this.txBuf = net.graph.buffers.arena;
  }

  reserve(maxLen: number): boolean {
    const pool = this.net.graph.buffers;
    if (maxLen > BUFFER_DATA_SIZE - IP4_HEADER) return false;
    const bi = pool.alloc();
    if (bi === NONE) {
      this.noBuffer++;
      return false;
    }
    this.bi = bi;
    this.txOff = pool.dataStart(bi) + IP4_HEADER;
    return true;
  }

  commit(srcIp: number, dstIp: number, len: number): void {
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
    pool.current[bi] = off;
    pool.length[bi] = total;
    this.net.ip4Output(bi);
  }
}
