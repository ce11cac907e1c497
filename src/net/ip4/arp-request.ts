// Builds an ARP request frame (Ethernet + ARP) in a buffer: resolution requests and gratuitous ARP.

import type { BufferPool } from '../../runtime/buffer-pool.js';
import { ARP_PACKET_LEN, ArpOperation, ArpPacket } from '../wire/arp.js';
import { ETHERNET_HEADER_LEN, EtherType, ZERO_MAC } from '../wire/ethernet.js';

const arp = new ArpPacket(new Uint8Array(0));

/** Writes a broadcast ARP request "who has targetIp, tell senderIp" from `mac` into buffer `bi`. */
export function writeArpRequest(pool: BufferPool, bi: number, mac: Uint8Array, senderIp: number, targetIp: number): void {
  const buf = pool.arena;
  const off = pool.current[bi]!;
  buf.fill(0xff, off, off + 6);
  buf.set(mac.subarray(0, 6), off + 6);
  buf[off + 12] = EtherType.ARP >>> 8;
  buf[off + 13] = EtherType.ARP & 0xff;
  arp.reset(buf, off + ETHERNET_HEADER_LEN, ARP_PACKET_LEN);
  arp.setEthernetIpv4();
  arp.operation = ArpOperation.REQUEST;
  arp.senderHw = mac;
  arp.senderIp = senderIp;
  arp.targetHw = ZERO_MAC;
  arp.targetIp = targetIp;
  pool.length[bi] = ETHERNET_HEADER_LEN + ARP_PACKET_LEN;
}
