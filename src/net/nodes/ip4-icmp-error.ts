// ip4-icmp-error: turns an offending datagram into an ICMP error about it (RFC 1812 §4.3.2.3: as
// much of the original as fits in 576 bytes), rate-limited by a token bucket (§4.3.2.8), and sends
// it through ip4-lookup. The new headers go in front of the original, in the buffer's pre-data.

import { NONE } from '../../runtime/buffer-pool.js';
import type { InternalNodeDesc } from '../../runtime/node.js';
import { OPAQUE_ICMP_TYPE_CODE } from '../buffer-opaque.js';
import { TokenBucket } from '../ip4/token-bucket.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { ICMP_HEADER_LEN, IcmpPacket } from '../wire/icmp.js';
import { IPV4_HEADER_LEN, IpProtocol, Ipv4Packet, readU32 } from '../wire/ipv4.js';
import { DEFAULT_TTL } from './ip4-icmp-input.js';
import { dropPacket } from './drop.js';

const NEXT_LOOKUP = 0;

const ERR_SENT = 0;
const ERR_RATE_LIMITED = 1;

/** Largest ICMP error datagram (RFC 1812 §4.3.2.3). */
const MAX_ERROR_DATAGRAM = 576;
/** ICMP errors per second, and the burst allowed. */
export const ICMP_ERROR_RATE = 100;
export const ICMP_ERROR_BURST = 20;

export function ip4IcmpErrorNode(net: NetMain): InternalNodeDesc {
  const ip = new Ipv4Packet(new Uint8Array(0));
  const icmp = new IcmpPacket(new Uint8Array(0));
  const bucket = new TokenBucket(ICMP_ERROR_RATE, ICMP_ERROR_BURST);
  let ident = 0;
  return {
    name: NodeName.IP4_ICMP_ERROR,
    type: 'internal',
    next: [NodeName.IP4_LOOKUP],
    errors: [
      { name: 'sent', description: 'ICMP errors sent', severity: 'info' },
      { name: 'rate-limited', description: 'ICMP error rate limited', severity: 'info' },
    ],
    formatTrace: (r) => `ICMP error type ${(r as number) >> 8} code ${(r as number) & 0xff}`,
    fn: (node, vector, count) => {
      const pool = node.buffers;
      const buf = pool.arena;
      const now = net.now();
      for (let i = 0; i < count; i++) {
        const bi = vector[i]!;
        const typeCode = pool.opaque[bi * 4 + OPAQUE_ICMP_TYPE_CODE]!;
        if (node.isTraced(bi)) node.addTrace(bi, typeCode);
        if (!bucket.take(now)) {
          dropPacket(net, node, bi, ERR_RATE_LIMITED);
          continue;
        }
        const orig = pool.current[bi]!;
        const origSrc = readU32(buf, orig + 12);
        const origDst = readU32(buf, orig + 16);
        const quoted = Math.min(pool.length[bi]!, MAX_ERROR_DATAGRAM - IPV4_HEADER_LEN - ICMP_HEADER_LEN);
        pool.advance(bi, -(IPV4_HEADER_LEN + ICMP_HEADER_LEN));
        const start = pool.current[bi]!;
        const total = IPV4_HEADER_LEN + ICMP_HEADER_LEN + quoted;
        pool.length[bi] = total;
        icmp.reset(buf, start + IPV4_HEADER_LEN, ICMP_HEADER_LEN + quoted);
        icmp.type = typeCode >>> 8;
        icmp.code = typeCode & 0xff;
        icmp.setRestOfHeader(0);
        icmp.fillChecksum();
        ip.reset(buf, start, total);
        ip.setVersionAndHeaderLen(IPV4_HEADER_LEN);
        ip.setTos(0, 0);
        ip.totalLen = total;
        ip.ident = ident = (ident + 1) & 0xffff;
        ip.setFlagsAndOffset(true, false, 0);
        ip.ttl = DEFAULT_TTL;
        ip.protocol = IpProtocol.ICMP;
        ip.src = origDst;
        ip.dst = origSrc;
        ip.fillChecksum();
        pool.txInterface[bi] = NONE;
        node.countError(ERR_SENT);
        node.enqueue(NEXT_LOOKUP, bi);
      }
    },
  };
}
