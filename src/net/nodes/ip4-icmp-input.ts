// ip4-icmp-input: answers echo requests in place (swap addresses, type 0, incremental checksum)
// and sends them to ip4-lookup; other messages are verified, counted and consumed.

import { NONE } from '../../runtime/buffer-pool.js';
import type { InternalNodeDesc } from '../../runtime/node.js';
import type { NetMain } from '../net-main.js';
import { NodeName } from '../node-names.js';
import { checksumAdjust } from '../wire/checksum.js';
import { IcmpCheck, IcmpPacket, IcmpType } from '../wire/icmp.js';
import { IPV4_BROADCAST, Ipv4Packet } from '../wire/ipv4.js';
import { dropPacket } from './drop.js';

const NEXT_LOOKUP = 0;

const ERR_TRUNCATED = 0;
const ERR_BAD_CHECKSUM = 1;
const ERR_ECHO_REPLY_SENT = 2;
const ERR_ECHO_REPLY_RECEIVED = 3;
const ERR_UNREACHABLE_RECEIVED = 4;
const ERR_BROADCAST_ECHO = 5;
const ERR_OTHER_TYPE = 6;

/** TTL of packets this host originates (Linux's default). */
export const DEFAULT_TTL = 64;

interface IcmpTrace {
  readonly type: number;
  readonly code: number;
  readonly ident: number;
  readonly seq: number;
  readonly length: number;
}

const TYPE_NAMES: Record<number, string> = { 0: 'echo_reply', 3: 'destination_unreachable', 8: 'echo_request', 11: 'time_exceeded' };

export function formatIcmpTrace(r: unknown): string {
  const t = r as IcmpTrace;
  const name = TYPE_NAMES[t.type] ?? `type ${t.type}`;
  const echo = t.type === 0 || t.type === 8 ? ` id ${t.ident} seq ${t.seq}` : '';
  return `ICMP ${name} checksum ok code ${t.code}${echo} length ${t.length}`;
}

export function ip4IcmpInputNode(net: NetMain): InternalNodeDesc {
  const ip = new Ipv4Packet(new Uint8Array(0));
  const icmp = new IcmpPacket(new Uint8Array(0));
  const { broadcastAddrs } = net.interfaces;
  return {
    name: NodeName.IP4_ICMP_INPUT,
    type: 'internal',
    next: [NodeName.IP4_LOOKUP],
    errors: [
      { name: 'truncated', description: 'ICMP message too short', severity: 'error' },
      { name: 'bad-checksum', description: 'ICMP bad checksum', severity: 'error' },
      { name: 'echo-replies-sent', description: 'echo replies sent', severity: 'info' },
      { name: 'echo-replies-received', description: 'echo replies received', severity: 'info' },
      { name: 'unreachable-received', description: 'destination unreachable received', severity: 'info' },
      { name: 'broadcast-echo', description: 'echo request to broadcast ignored', severity: 'info' },
      { name: 'other-type', description: 'ICMP type not handled', severity: 'info' },
    ],
    formatTrace: formatIcmpTrace,
    fn: (node, vector, count) => {
      const pool = node.buffers;
      const buf = pool.arena;
      for (let i = 0; i < count; i++) {
        const bi = vector[i]!;
        ip.reset(buf, pool.current[bi]!, pool.length[bi]!);
        const hl = ip.headerLen;
        icmp.reset(buf, ip.off + hl, ip.totalLen - hl);
        const check = icmp.check(true);
        if (check !== IcmpCheck.OK) {
          dropPacket(net, node, bi, check === IcmpCheck.TRUNCATED ? ERR_TRUNCATED : ERR_BAD_CHECKSUM);
          continue;
        }
        const type = icmp.type;
        if (node.isTraced(bi)) {
          node.addTrace(bi, { type, code: icmp.code, ident: icmp.ident, seq: icmp.seq, length: icmp.len } satisfies IcmpTrace);
        }
        if (type === IcmpType.ECHO_REQUEST && icmp.code === 0) {
          const dst = ip.dst;
          if (dst === IPV4_BROADCAST || broadcastAddrs.has(dst)) {
            dropPacket(net, node, bi, ERR_BROADCAST_ECHO);
            continue;
          }
          icmp.type = IcmpType.ECHO_REPLY;
          icmp.checksum = checksumAdjust(icmp.checksum, IcmpType.ECHO_REQUEST << 8, IcmpType.ECHO_REPLY << 8);
          ip.dst = ip.src;
          ip.src = dst;
          ip.ttl = DEFAULT_TTL;
          ip.fillChecksum();
          pool.txInterface[bi] = NONE;
          node.countError(ERR_ECHO_REPLY_SENT);
          node.enqueue(NEXT_LOOKUP, bi);
        } else if (type === IcmpType.ECHO_REPLY) {
          dropPacket(net, node, bi, ERR_ECHO_REPLY_RECEIVED);
        } else if (type === IcmpType.DEST_UNREACHABLE) {
          dropPacket(net, node, bi, ERR_UNREACHABLE_RECEIVED);
        } else {
          dropPacket(net, node, bi, ERR_OTHER_TYPE);
        }
      }
    },
  };
}
