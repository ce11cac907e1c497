// ip4-local: delivers packets addressed to this host by protocol: ICMP to ip4-icmp-input, TCP/UDP
// (and any protocol registered with NetMain.registerIp4Protocol) to their node once it exists.
// TCP without a handler is counted and dropped; other unhandled protocols get an ICMP
// unreachable (unless broadcast).

import type { InternalNodeDesc } from '../../runtime/node.js';
import { OPAQUE_ICMP_TYPE_CODE } from '../buffer-opaque.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { DestUnreachableCode, IcmpType } from '../wire/icmp.js';
import { IPV4_BROADCAST, IpProtocol, readU32 } from '../wire/ipv4.js';
import { dropPacket } from './drop.js';

const NEXT_ICMP = 0;
const NEXT_ICMP_ERROR = 1;

const ERR_NO_HANDLER = 0;
const ERR_UNREACHABLE = 1;

interface LocalTrace {
  readonly protocol: number;
  readonly to: string;
}

export function ip4LocalNode(net: NetMain): InternalNodeDesc {
  // Protocol → node index, resolved lazily: protocol layers register after the net module.
  const handlers = new Int32Array(256).fill(-1);
  let resolvedVersion = -1;
  let resolvedNodeCount = -1;
  const resolve = (): void => {
    const graph = net.graph;
    if (resolvedVersion === net.ip4ProtocolsVersion && resolvedNodeCount === graph.nodes.length) return;
    handlers.fill(-1);
    for (const [proto, name] of net.ip4Protocols) handlers[proto] = graph.findNode(name)?.index ?? -1;
    resolvedVersion = net.ip4ProtocolsVersion;
    resolvedNodeCount = graph.nodes.length;
  };
  const { broadcastAddrs } = net.interfaces;
  return {
    name: NodeName.IP4_LOCAL,
    type: 'internal',
    next: [NodeName.IP4_ICMP_INPUT, NodeName.IP4_ICMP_ERROR],
    errors: [
      { name: 'no-handler', description: 'no protocol handler', severity: 'warn' },
      { name: 'unreachable', description: 'protocol or port unreachable (ICMP sent)', severity: 'info' },
    ],
    formatTrace: (r) => {
      const t = r as LocalTrace;
      return `protocol ${t.protocol} -> ${t.to}`;
    },
    fn: (node, vector, count) => {
      resolve();
      const pool = node.buffers;
      const buf = pool.arena;
      const graph = net.graph;
      for (let i = 0; i < count; i++) {
        const bi = vector[i]!;
        const off = pool.current[bi]!;
        const proto = buf[off + 9]!;
        const handler = handlers[proto]!;
        if (node.isTraced(bi)) {
          const to = proto === IpProtocol.ICMP ? NodeName.IP4_ICMP_INPUT : handler >= 0 ? graph.nodes[handler]!.name : 'none';
          node.addTrace(bi, { protocol: proto, to } satisfies LocalTrace);
        }
        if (proto === IpProtocol.ICMP) {
          node.enqueue(NEXT_ICMP, bi);
        } else if (handler >= 0) {
          graph.enqueue(handler, bi);
        } else if (proto === IpProtocol.TCP) {
          dropPacket(net, node, bi, ERR_NO_HANDLER);
        } else {
          const dst = readU32(buf, off + 16);
          if (dst === IPV4_BROADCAST || broadcastAddrs.has(dst)) {
            dropPacket(net, node, bi, ERR_NO_HANDLER);
            continue;
          }
          const code = proto === IpProtocol.UDP ? DestUnreachableCode.PORT : DestUnreachableCode.PROTOCOL;
          pool.opaque[bi * 4 + OPAQUE_ICMP_TYPE_CODE] = (IcmpType.DEST_UNREACHABLE << 8) | code;
          node.countError(ERR_UNREACHABLE);
          node.enqueue(NEXT_ICMP_ERROR, bi);
        }
      }
    },
  };
}
