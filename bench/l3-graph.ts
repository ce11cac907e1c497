// L3 graph ceiling: echo requests per second through af-packet-input → ethernet-input → ip4-input →
// ip4-local → ip4-icmp-input → ip4-lookup → ip4-rewrite → interface-output → af-packet-output with no
// kernel in the way: a loopback device hands the same request frames to the graph as fast as it asks
// and counts the replies it is given. Shows what the TypeScript data path costs per packet, apart from
// the AF_PACKET/veth cost that bench/l3-icmp.ts includes.
//
//   npx tsc -p tsconfig.json && node dist/bench/l3-graph.js [--seconds N]

import { Main } from '../src/core/main.js';
import type { DeviceStats, LinkState, PacketDevice, RxBatch, TxBatch, TxResult } from '../src/native/packet-device.js';
import { registerNetModule } from '../src/net/module.js';
import { emitEthernet, EtherType, parseMac } from '../src/net/wire/ethernet.js';
import { emitIcmp } from '../src/net/wire/icmp.js';
import { emitIpv4, IpProtocol, parseIp4 } from '../src/net/wire/ipv4.js';

const OUR_MAC = parseMac('02:fe:00:00:00:01')!;
const PEER_MAC = parseMac('02:00:00:00:00:02')!;

/** Always readable: every rxBatch fills the batch with copies of one request frame. */
class LoopbackSource implements PacketDevice {
  readonly name = 'bench0';
  readonly ifindex = 1;
  readonly mac = PEER_MAC;
  readonly mtu = 1500;
  readonly fd = -1;
  readonly txMaxFrame = 1518;
  readonly txGsoMaxSize = 0;
  replies = 0;
  replyBytes = 0;

  constructor(private readonly frame: Uint8Array) {}

  rxBatch(dst: RxBatch): number {
    const n = dst.limit;
    for (let i = 0; i < n; i++) {
      dst.data.set(this.frame, dst.offsets[i]!);
      dst.lengths[i] = this.frame.length;
      dst.meta[i * 4] = 0;
    }
    dst.count = n;
    return n;
  }

  txBatch(batch: TxBatch): TxResult {
    this.replies += batch.count;
    for (let i = 0; i < batch.count; i++) this.replyBytes += batch.lengths[i]!;
    return { accepted: batch.count, ringFull: false };
  }

  onReadable(): void {}
  linkState(): LinkState {
    return { up: true, running: true };
  }
  setLinkUp(): void {}
  stats(): DeviceStats {
    return { rxFrames: 0, rxBytes: 0, rxDropped: 0, txFrames: this.replies, txBytes: this.replyBytes, txDropped: 0, txRingFull: 0 };
  }
  close(): void {}
}

function requestFrame(frameLen: number): Uint8Array {
  const f = new Uint8Array(frameLen);
  const payload = frameLen - 14 - 20 - 8;
  emitEthernet({ dst: OUR_MAC, src: PEER_MAC, etherType: EtherType.IPV4 }, f);
  emitIpv4({ src: parseIp4('10.9.0.2')!, dst: parseIp4('10.9.0.1')!, protocol: IpProtocol.ICMP, payloadLen: 8 + payload, ttl: 64 }, f, 14);
  emitIcmp({ kind: 'echo-request', ident: 1, seq: 1, data: new Uint8Array(payload).fill(0x5a) }, f, 34);
  return f;
}

export async function runGraphBench(seconds: number): Promise<{ frameBytes: number; pps: number }[]> {
  const rows: { frameBytes: number; pps: number }[] = [];
  for (const frameLen of [60, 1514]) {
    const main = new Main({ buffers: 4096 });
    const source = new LoopbackSource(requestFrame(frameLen));
    const net = registerNetModule(main, { openDevice: () => source });
    const itf = net.createHostInterface('bench0', { hwAddr: OUR_MAC });
    net.addAddress(itf, parseIp4('10.9.0.1')!, 24);
    net.setStaticNeighbor(itf, parseIp4('10.9.0.2')!, PEER_MAC);
    net.setAdminState(itf, true);
    net.setRxMode(itf, 'polling');
    const g = main.graph;
    const warmEnd = performance.now() + 300;
    while (performance.now() < warmEnd) g.turn();
    const start = performance.now();
    const before = source.replies;
    const end = start + seconds * 1000;
    while (performance.now() < end) g.turn();
    rows.push({ frameBytes: frameLen + 4, pps: ((source.replies - before) * 1000) / (performance.now() - start) });
    g.stop();
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--seconds');
  const rows = await runGraphBench(i >= 0 ? Number(process.argv[i + 1]) : 2);
  for (const r of rows) console.log(`${String(r.frameBytes).padStart(5)}-byte frames: ${Math.round(r.pps).toLocaleString('en')} echo replies/s (graph only, one thread)`);
  console.log(JSON.stringify({ bench: 'l3-graph', rows }));
}
