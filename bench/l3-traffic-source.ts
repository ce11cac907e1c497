// Worker thread for bench/l3-icmp.ts: an AF_PACKET traffic source inside the peer namespace. It
// sends ICMP echo requests as fast as its TX ring takes them, answers ARP for its own address, and
// counts the echo replies that come back during the measured window.

import { parentPort, workerData } from 'node:worker_threads';
import { AfPacketDevice } from '../src/native/af-packet-device.js';
import { RxBatch, type TxBatch } from '../src/native/packet-device.js';
import { ArpOperation, ArpPacket, emitArp } from '../src/net/wire/arp.js';
import { emitEthernet, EtherType } from '../src/net/wire/ethernet.js';
import { emitIcmp, IcmpType } from '../src/net/wire/icmp.js';
import { emitIpv4, IpProtocol, readU32 } from '../src/net/wire/ipv4.js';

export interface TrafficSourceJob {
  readonly ifname: string;
  readonly netns: string;
  readonly srcMac: Uint8Array;
  readonly srcIp: number;
  readonly dstMac: Uint8Array;
  readonly dstIp: number;
  /** Ethernet frame length without FCS (60 for "64-byte" frames, 1514 for 1500-byte IP packets). */
  readonly frameLen: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface TrafficSourceResult {
  readonly offered: number;
  readonly replies: number;
  readonly seconds: number;
}

const BATCH = 256;

function buildRequests(job: TrafficSourceJob): TxBatch {
  const data = new Uint8Array(BATCH * job.frameLen);
  const offsets = new Uint32Array(BATCH);
  const lengths = new Uint32Array(BATCH);
  const payloadLen = job.frameLen - 14 - 20 - 8;
  for (let i = 0; i < BATCH; i++) {
    const off = i * job.frameLen;
    emitEthernet({ dst: job.dstMac, src: job.srcMac, etherType: EtherType.IPV4 }, data, off);
    emitIpv4({ src: job.srcIp, dst: job.dstIp, protocol: IpProtocol.ICMP, payloadLen: 8 + payloadLen, ttl: 64, ident: i }, data, off + 14);
    emitIcmp({ kind: 'echo-request', ident: 0xbe7c, seq: i, data: new Uint8Array(payloadLen).fill(i & 0xff) }, data, off + 34);
    offsets[i] = off;
    lengths[i] = job.frameLen;
  }
  return { data, offsets, lengths, count: BATCH };
}

function run(job: TrafficSourceJob): TrafficSourceResult {
  const dev = AfPacketDevice.open(job.ifname, { netns: job.netns });
  try {
    const requests = buildRequests(job);
    const rx = RxBatch.packed(BATCH);
    const arpReply = new Uint8Array(42);
    const arpBatch: TxBatch = { data: arpReply, offsets: Uint32Array.of(0), lengths: Uint32Array.of(42), count: 1 };
    const arp = new ArpPacket(new Uint8Array(0));
    const start = performance.now();
    const measureFrom = start + job.warmupMs;
    const end = measureFrom + job.durationMs;
    let offered = 0;
    let replies = 0;
    for (let now = start; now < end; now = performance.now()) {
      const measuring = now >= measureFrom;
      const { accepted } = dev.txBatch(requests);
      if (measuring) offered += accepted;
      const n = dev.rxBatch(rx);
      for (let i = 0; i < n; i++) {
        const f = rx.data;
        const o = rx.offsets[i]!;
        const type = (f[o + 12]! << 8) | f[o + 13]!;
        if (type === EtherType.IPV4) {
          if (f[o + 23] === IpProtocol.ICMP && f[o + 34] === IcmpType.ECHO_REPLY && readU32(f, o + 30) === job.srcIp && measuring) replies++;
        } else if (type === EtherType.ARP) {
          arp.reset(f, o + 14, rx.lengths[i]! - 14);
          if (arp.check() === 0 && arp.operation === ArpOperation.REQUEST && arp.targetIp === job.srcIp) {
            emitEthernet({ dst: arp.senderHw, src: job.srcMac, etherType: EtherType.ARP }, arpReply, 0);
            emitArp({ operation: ArpOperation.REPLY, senderHw: job.srcMac, senderIp: job.srcIp, targetHw: arp.senderHw, targetIp: arp.senderIp }, arpReply, 14);
            dev.txBatch(arpBatch);
          }
        }
      }
    }
    return { offered, replies, seconds: job.durationMs / 1000 };
  } finally {
    dev.close();
  }
}

if (parentPort) parentPort.postMessage(run(workerData as TrafficSourceJob));
