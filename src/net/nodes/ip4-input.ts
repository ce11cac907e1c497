// ip4-input: validates the IPv4 header (each failure its own counter), trims link padding, and
// accepts only packets addressed to this host: the dataplane never forwards.

import { BufferFlag } from '../../runtime/buffer-pool.js';
import type { InternalNodeDesc } from '../../runtime/node.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { IPV4_BROADCAST, Ipv4Check, Ipv4Packet, ip4ToString } from '../wire/ipv4.js';
import { dropPacket } from './drop.js';

const NEXT_LOCAL = 0;

const ERR_TOO_SHORT = 0;
const ERR_BAD_VERSION = 1;
const ERR_BAD_IHL = 2;
const ERR_BAD_LENGTH = 3;
const ERR_TRUNCATED = 4;
const ERR_BAD_CHECKSUM = 5;
const ERR_TTL_ZERO = 6;
const ERR_FRAGMENT = 7;
const ERR_BAD_SOURCE = 8;
const ERR_NOT_FOR_US = 9;

/** Ipv4Check result → error code. */
const CHECK_TO_ERROR = [-1, ERR_TOO_SHORT, ERR_BAD_VERSION, ERR_BAD_IHL, ERR_BAD_LENGTH, ERR_TRUNCATED, ERR_BAD_CHECKSUM];

interface Ip4Trace {
  readonly src: number;
  readonly dst: number;
  readonly protocol: number;
  readonly ttl: number;
  readonly length: number;
  readonly checksum: number;
  readonly headerLen: number;
}

export function formatIp4Trace(r: unknown): string {
  if (typeof r === 'number') return `${r} bytes: shorter than an IPv4 header`;
  const t = r as Ip4Trace;
  return `protocol ${t.protocol} ${ip4ToString(t.src)} -> ${ip4ToString(t.dst)}\n  ttl ${t.ttl}, length ${t.length}, header length ${t.headerLen}, checksum 0x${t.checksum.toString(16).padStart(4, '0')}`;
}

export function ip4TraceOf(p: Ipv4Packet): Ip4Trace {
  return { src: p.src, dst: p.dst, protocol: p.protocol, ttl: p.ttl, length: p.totalLen, checksum: p.checksum, headerLen: p.headerLen };
}

export function ip4InputNode(net: NetMain): InternalNodeDesc {
  const ip = new Ipv4Packet(new Uint8Array(0));
  const { localAddrs, broadcastAddrs } = net.interfaces;
  return {
    name: NodeName.IP4_INPUT,
    type: 'internal',
    next: [NodeName.IP4_LOCAL],
    errors: [
      { name: 'too-short', description: 'ip4 length < 20 bytes', severity: 'error' },
      { name: 'bad-version', description: 'ip4 version != 4', severity: 'error' },
      { name: 'bad-header-length', description: 'ip4 header length (IHL) invalid', severity: 'error' },
      { name: 'bad-length', description: 'ip4 total length < header length', severity: 'error' },
      { name: 'truncated', description: 'ip4 length > l2 length', severity: 'error' },
      { name: 'bad-checksum', description: 'ip4 bad header checksum', severity: 'error' },
      { name: 'ttl-zero', description: 'ip4 ttl zero', severity: 'error' },
      { name: 'fragment', description: 'ip4 fragments not supported', severity: 'warn' },
      { name: 'bad-source', description: 'ip4 source is broadcast or multicast', severity: 'error' },
      { name: 'not-for-us', description: 'ip4 destination not local (host does not forward)', severity: 'info' },
    ],
    formatTrace: formatIp4Trace,
    fn: (node, vector, count) => {
      const pool = node.buffers;
      const buf = pool.arena;
      for (let i = 0; i < count; i++) {
        const bi = vector[i]!;
        ip.reset(buf, pool.current[bi]!, pool.length[bi]!);
        const check = ip.check((pool.flags[bi]! & BufferFlag.IP4_CHECKSUM_OK) === 0);
        if (node.isTraced(bi)) node.addTrace(bi, check === Ipv4Check.TRUNCATED ? ip.len : ip4TraceOf(ip));
        if (check !== Ipv4Check.OK) {
          dropPacket(net, node, bi, CHECK_TO_ERROR[check]!);
          continue;
        }
        if (ip.ttl === 0) {
          dropPacket(net, node, bi, ERR_TTL_ZERO);
          continue;
        }
        if (ip.isFragment()) {
          dropPacket(net, node, bi, ERR_FRAGMENT);
          continue;
        }
        const src = ip.src;
        if (src >= 0xe0000000) {
          dropPacket(net, node, bi, ERR_BAD_SOURCE);
          continue;
        }
        const dst = ip.dst;
        if (!localAddrs.has(dst) && dst !== IPV4_BROADCAST && !broadcastAddrs.has(dst)) {
          dropPacket(net, node, bi, ERR_NOT_FOR_US);
          continue;
        }
        pool.flags[bi] = pool.flags[bi]! | BufferFlag.IP4_CHECKSUM_OK;
        // Ethernet may pad short packets: from here on the buffer is exactly the datagram.
        pool.length[bi] = ip.totalLen;
        node.enqueue(NEXT_LOCAL, bi);
      }
    },
  };
}
