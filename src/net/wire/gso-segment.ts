// The per-segment header fields of a TCPv4 GSO super-frame cut into segments, as the kernel writes them:
// IPv4 total length, ID (consecutive from the super-frame's) and header checksum; TCP sequence number and
// flags (FIN and PSH only on the last segment, CWR only on the first). The TCP checksum is the caller's.
// Shared by RX segmentation (af-packet-input) and TX segmentation (tcp/tso-segment).

import { internetChecksum } from './checksum.js';

const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;

/**
 * `ip`/`tcp`: offsets of the segment's IPv4 and TCP headers in `b`; `total`: its IPv4 total length; `flags`: the
 * super-frame's TCP flags. Positional arguments: this runs per segment on the data path (no object per call).
 */
export function writeGsoSegmentHeaders(
  b: Uint8Array,
  ip: number,
  tcp: number,
  total: number,
  id: number,
  seq: number,
  flags: number,
  first: boolean,
  last: boolean,
): void {
  b[ip + 2] = total >>> 8;
  b[ip + 3] = total & 0xff;
  b[ip + 4] = (id >>> 8) & 0xff;
  b[ip + 5] = id & 0xff;
  b[ip + 10] = 0;
  b[ip + 11] = 0;
  const ipSum = internetChecksum(b, ip, tcp);
  b[ip + 10] = ipSum >>> 8;
  b[ip + 11] = ipSum & 0xff;
  b[tcp + 4] = seq >>> 24;
  b[tcp + 5] = (seq >>> 16) & 0xff;
  b[tcp + 6] = (seq >>> 8) & 0xff;
  b[tcp + 7] = seq & 0xff;
  let f = flags;
  if (!last) f &= ~(TCP_FIN | TCP_PSH);
  if (!first) f &= ~TCP_CWR;
  b[tcp + 13] = f;
}
