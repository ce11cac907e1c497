// Software segmentation of a TSO super-frame (what the kernel's tcp4_gso_segment does): an Ethernet + IPv4 +
// TCP frame whose payload is longer than `gsoSize` becomes frames of at most gsoSize payload bytes, each in a
// small pool buffer with the same headers, its own IPv4 length/ID/checksum, sequence number and flags (FIN
// and PSH only on the last, CWR only on the first). The TCP checksum field of each gets the pseudo-header
// sum of its own length, ready for checksum offload (TX_L4_CSUM_OFFLOAD) as the super-frame was.
// Used where a super-frame meets a device that cannot send it (no TX GSO, or a smaller GSO limit).

import { BufferFlag, type BufferPool } from '../../runtime/buffer-pool.js';
import { internetChecksum, pseudoHeaderSum } from '../wire/checksum.js';
import { IpProtocol } from '../wire/ipv4.js';
import { writeGsoSegmentHeaders } from '../wire/gso-segment.js';

/** Header bytes of a frame (Ethernet with at most one VLAN tag, IPv4, TCP); -1 when it is not TCP/IPv4. */
export function tcp4FrameHeaderLength(arena: Uint8Array, start: number, length: number): number {
  let l3 = 14;
  let type = (arena[start + 12]! << 8) | arena[start + 13]!;
  if (type === 0x8100) {
    l3 = 18;
    type = (arena[start + 16]! << 8) | arena[start + 17]!;
  }
  if (type !== 0x0800 || length < l3 + 40) return -1;
  const ihl = (arena[start + l3]! & 0x0f) * 4;
  if (arena[start + l3 + 9] !== IpProtocol.TCP || ihl < 20) return -1;
  const l4 = l3 + ihl;
  const hl = l4 + (arena[start + l4 + 12]! >> 4) * 4;
  return hl <= length ? hl : -1;
}

/**
 * Cuts the super-frame in buffer `bi` (current at its Ethernet header) into wire frames of at most `gsoSize`
 * payload bytes, written to `out` (new small buffers, same txInterface). Returns how many, or -1 when `out`
 * is too short, the frame is not TCP/IPv4, or the pool ran out (nothing allocated stays behind). `bi` itself
 * is left untouched for the caller to free.
 */
export function segmentTcp4Frame(pool: BufferPool, bi: number, gsoSize: number, out: Uint32Array): number {
  const arena = pool.arena;
  const start = pool.current[bi]!;
  const length = pool.length[bi]!;
  const hl = tcp4FrameHeaderLength(arena, start, length);
  if (hl < 0 || gsoSize <= 0) return -1;
  const l3 = arena[start + 12] === 0x81 && arena[start + 13] === 0x00 ? 18 : 14;
  const l4 = l3 + (arena[start + l3]! & 0x0f) * 4;
  const payload = length - hl;
  const n = Math.max(1, Math.ceil(payload / gsoSize));
  if (n > out.length || pool.available < n) return -1;
  const ip = start + l3;
  const id0 = (arena[ip + 4]! << 8) | arena[ip + 5]!;
  const src = ((arena[ip + 12]! << 24) | (arena[ip + 13]! << 16) | (arena[ip + 14]! << 8) | arena[ip + 15]!) >>> 0;
  const dst = ((arena[ip + 16]! << 24) | (arena[ip + 17]! << 16) | (arena[ip + 18]! << 8) | arena[ip + 19]!) >>> 0;
  const th = start + l4;
  const seq0 = ((arena[th + 4]! << 24) | (arena[th + 5]! << 16) | (arena[th + 6]! << 8) | arena[th + 7]!) >>> 0;
  const flags0 = arena[th + 13]!;
  const thl = hl - l4;
  for (let i = 0; i < n; i++) {
    const nb = pool.alloc(); // cannot fail: `available` was checked
    out[i] = nb;
    const at = pool.current[nb]!;
    const off = i * gsoSize;
    const bytes = Math.min(gsoSize, payload - off);
    arena.copyWithin(at, start, start + hl);
    arena.copyWithin(at + hl, start + hl + off, start + hl + off + bytes);
    pool.length[nb] = hl + bytes;
    pool.txInterface[nb] = pool.txInterface[bi]!;
    pool.flags[nb] = pool.flags[bi]! & BufferFlag.TX_L4_CSUM_OFFLOAD;
    const sth = at + l4;
    writeGsoSegmentHeaders(arena, at + l3, sth, l4 - l3 + thl + bytes, (id0 + i) & 0xffff, (seq0 + off) >>> 0, flags0, i === 0, i === n - 1);
    const pseudo = pseudoHeaderSum(src, dst, IpProtocol.TCP, thl + bytes);
    if (pool.flags[bi]! & BufferFlag.TX_L4_CSUM_OFFLOAD) {
      arena[sth + 16] = pseudo >>> 8;
      arena[sth + 17] = pseudo & 0xff;
    } else {
      arena[sth + 16] = 0;
      arena[sth + 17] = 0;
      const sum = internetChecksum(arena, sth, sth + thl + bytes, pseudo);
      arena[sth + 16] = sum >>> 8;
      arena[sth + 17] = sum & 0xff;
    }
  }
  return n;
}
