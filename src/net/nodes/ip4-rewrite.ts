// ip4-rewrite: prepends the Ethernet header (next hop's MAC from the buffer opaque, the interface's
// own MAC) and hands the frame to interface-output. No fragmentation: over-MTU packets are dropped (TSO
// segments excepted).

import type { InternalNodeDesc } from '../../runtime/node.js';
import { OPAQUE_MAC_HI, OPAQUE_MAC_LO } from '../buffer-opaque.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { ETHERNET_HEADER_LEN, EtherType, formatMac, writeMacWords } from '../wire/ethernet.js';
import { dropPacket } from './drop.js';

const NEXT_OUTPUT = 0;

const ERR_MTU = 0;
const ERR_NO_INTERFACE = 1;

interface RewriteTrace {
  readonly interfaceName: string;
  readonly dst: string;
  readonly src: string;
}

export function ip4RewriteNode(net: NetMain): InternalNodeDesc {
  const { interfaces } = net;
  return {
    name: NodeName.IP4_REWRITE,
    type: 'internal',
    next: [NodeName.INTERFACE_OUTPUT],
    errors: [
      { name: 'mtu-exceeded', description: 'ip4 MTU exceeded and DF set', severity: 'error' },
      { name: 'no-interface', description: 'output interface deleted', severity: 'warn' },
    ],
    formatTrace: (r) => {
      const t = r as RewriteTrace;
      return `tx_sw_if_index ${t.interfaceName}: IP4: ${t.src} -> ${t.dst}`;
    },
    fn: (node, vector, count) => {
      const pool = node.buffers;
      const buf = pool.arena;
      for (let i = 0; i < count; i++) {
        const bi = vector[i]!;
        const itf = interfaces.get(pool.txInterface[bi]!);
        if (!itf) {
          dropPacket(net, node, bi, ERR_NO_INTERFACE);
          continue;
        }
        // A TSO segment (gso size set) is longer by design: af-packet-output sends it as a GSO super-frame or
        // cuts it into MTU-sized frames.
        if (pool.length[bi]! > itf.mtu && pool.gsoSize[bi] === 0) {
          dropPacket(net, node, bi, ERR_MTU);
          continue;
        }
        pool.advance(bi, -ETHERNET_HEADER_LEN);
        const off = pool.current[bi]!;
        writeMacWords(buf, off, pool.opaque[bi * 4 + OPAQUE_MAC_HI]!, pool.opaque[bi * 4 + OPAQUE_MAC_LO]!);
        buf.set(itf.mac, off + 6);
        buf[off + 12] = EtherType.IPV4 >>> 8;
        buf[off + 13] = EtherType.IPV4 & 0xff;
        if (node.isTraced(bi)) {
          node.addTrace(bi, { interfaceName: itf.name, dst: formatMac(buf, off), src: formatMac(buf, off + 6) } satisfies RewriteTrace);
        }
        node.enqueue(NEXT_OUTPUT, bi);
      }
    },
  };
}
