// TSO through the graph (no root: MemoryDevice): a `source` session sends toward a peer over a device with TX
// GSO; the TCP output sink builds super-segments in large pool buffers, ip4-rewrite lets them past the MTU,
// af-packet-output marks them GSO_TCPV4 with gso size = MSS and counts the wire's packets. A device without
// TX GSO gets MTU-sized segments only; under a TX fault injector the sink cuts super-segments into wire frames
// before the fault node; a super-frame that reaches a device that cannot send it is cut in software there.

import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDevice, type TransmittedFrame } from '../../../src/native/memory-device.js';
import { FrameFlag } from '../../../src/native/packet-device.js';
import { InterfaceCounter } from '../../../src/net/interface/counters.js';
import { TcpCounter } from '../../../src/net/tcp/counters.js';
import { internetChecksum, pseudoHeaderSum } from '../../../src/net/wire/checksum.js';
import { EtherType } from '../../../src/net/wire/ethernet.js';
import { IpProtocol } from '../../../src/net/wire/ipv4.js';
import { emitTcp, parseTcp, TcpFlag, tcpReprLength, type TcpRepr } from '../../../src/net/wire/tcp.js';
import { BufferFlag } from '../../../src/runtime/buffer-pool.js';
import { registerSessionModule } from '../../../src/session/module.js';
import type { SessionMain } from '../../../src/session/session-main.js';
import { createTestApp, sourceByte, type TestAppStats } from '../../../src/session/test-apps.js';
import { ethernetFrame, ipv4Packet, NetHarness, OUR_IP, OUR_MAC, PEER_IP, PEER_MAC } from './net-harness.js';

const PORT = 19;
const PEER_PORT = 40000;
const MSS = 1460;

type SentFrame = TransmittedFrame;

/** A MemoryDevice with TX GSO up to `gso` bytes (0: none); `take` returns what it sent, with metadata. */
class GsoDevice extends MemoryDevice {
  constructor(name: string, gso: number) {
    super({ name, captureLimit: 100_000, txGsoMaxSize: gso });
  }
  take(): SentFrame[] {
    return this.takeTransmittedFrames();
  }
}

function tcpFrame(repr: Partial<TcpRepr> & { flags: number }): Uint8Array {
  const r: TcpRepr = { srcPort: PEER_PORT, dstPort: PORT, seq: 0, ack: 0, window: 65535, urgent: 0, ...repr, payload: new Uint8Array(0) };
  const seg = new Uint8Array(tcpReprLength(r));
  emitTcp(r, seg, 0, PEER_IP, OUR_IP);
  return ethernetFrame(OUR_MAC, PEER_MAC, EtherType.IPV4, ipv4Packet(PEER_IP, OUR_IP, IpProtocol.TCP, seg));
}

const tcpOf = (f: Uint8Array): TcpRepr | null => {
  if (((f[12]! << 8) | f[13]!) !== EtherType.IPV4 || f[23] !== IpProtocol.TCP) return null;
  const total = (f[16]! << 8) | f[17]!;
  const r = parseTcp(f, 34, total - 20);
  return r.ok ? r.value : null;
};

let h: NetHarness;
let sm: SessionMain;
let dev: GsoDevice;
let stats: TestAppStats;

async function setup(gso: number, bytes: number): Promise<void> {
  h = new NetHarness();
  h.net.openDevice = (ifname) => {
    dev = new GsoDevice(ifname, gso);
    h.devices.set(ifname, dev);
    return dev;
  };
  const sessions = registerSessionModule(h.main, h.net);
  await h.main.init();
  sm = sessions.get();
  await h.standard();
  await h.cli('set ip neighbor host-veth0 10.9.0.2 02:00:00:00:00:02');
  const t = createTestApp('source', { kind: 'source', bytes });
  stats = t.stats;
  expect(sm.listen(t.app, OUR_IP, PORT).ok).toBe(true);
}
afterEach(() => h?.close());

/**
 * The peer: handshake (MSS 1460, no other options), then acknowledge everything in order with a 64 KiB
 * window until `bytes` arrived. Returns the frames we sent with data and the payload as received.
 */
function pull(bytes: number): { frames: SentFrame[]; payload: Uint8Array } {
  let seq = 1000;
  dev.inject(tcpFrame({ flags: TcpFlag.SYN, seq, mss: MSS }));
  h.run();
  const synAck = dev.take().map((f) => tcpOf(f.bytes)).find((r) => r?.flags === (TcpFlag.SYN | TcpFlag.ACK))!;
  seq++;
  const isn = (synAck.seq + 1) >>> 0;
  let ack = isn;
  dev.inject(tcpFrame({ flags: TcpFlag.ACK, seq, ack }));
  h.run();
  const payload = new Uint8Array(bytes);
  const frames: SentFrame[] = [];
  for (let round = 0; round < 10_000 && ((ack - isn) >>> 0) < bytes; round++) {
    const out = dev.take();
    for (const f of out) {
      const r = tcpOf(f.bytes);
      if (!r || r.payload.length === 0) continue;
      frames.push(f);
      const off = (r.seq - isn) >>> 0;
      payload.set(r.payload, off);
      if (r.seq === ack) ack = (ack + r.payload.length) >>> 0;
    }
    dev.inject(tcpFrame({ flags: TcpFlag.ACK, seq, ack }));
    h.run();
  }
  expect((ack - isn) >>> 0).toBe(bytes);
  return { frames, payload };
}

function expectSourceBytes(payload: Uint8Array): void {
  for (let i = 0; i < payload.length; i++) if (payload[i] !== sourceByte(i)) throw new Error(`byte ${i} differs`);
}

describe('TSO over a device with TX GSO', () => {
  it('sends GSO super-frames with gso size = MSS and offloaded checksums; counters count wire packets', async () => {
    await setup(65536, 2_000_000);
    const { frames, payload } = pull(2_000_000);
    expectSourceBytes(payload);
    expect(stats.bytesOut).toBe(2_000_000);
    const supers = frames.filter((f) => f.bytes.length > 1514);
    expect(supers.length).toBeGreaterThan(10);
    let wire = 0;
    let wireBytes = 0;
    for (const f of frames) {
      const r = tcpOf(f.bytes)!;
      const segs = Math.ceil(r.payload.length / MSS);
      wire += segs;
      wireBytes += f.bytes.length + (segs - 1) * 54;
      expect(f.flags & FrameFlag.CSUM_PARTIAL).toBeTruthy();
      expect(f.csumStart).toBe(34);
      expect(f.csumOffset).toBe(16);
      const tcpLen = f.bytes.length - 34;
      expect((f.bytes[50]! << 8) | f.bytes[51]!).toBe(pseudoHeaderSum(OUR_IP, PEER_IP, IpProtocol.TCP, tcpLen));
      expect((f.bytes[16]! << 8) | f.bytes[17]!).toBe(f.bytes.length - 14);
      expect(internetChecksum(f.bytes, 14, 34)).toBe(0);
      if (f.bytes.length > 1514) {
        expect(f.flags & FrameFlag.GSO_TCPV4).toBeTruthy();
        expect(f.gsoSize).toBe(MSS);
        expect(f.bytes.length).toBeLessThanOrEqual(65536);
      } else {
        expect(f.flags & FrameFlag.GSO_TCPV4).toBe(0);
      }
    }
    const itf = h.net.interfaceByName('host-veth0');
    const c = h.net.interfaces.counters;
    // Data frames plus the SYN-ACK and the FIN (and nothing else: the peer never sent data).
    const txPackets = c.get(itf.swIfIndex, InterfaceCounter.TX_PACKETS);
    expect(txPackets - wire).toBeGreaterThanOrEqual(1);
    expect(txPackets - wire).toBeLessThanOrEqual(3);
    expect(c.get(itf.swIfIndex, InterfaceCounter.TX_BYTES)).toBeGreaterThanOrEqual(wireBytes);
    expect(sm.stack.counters[TcpCounter.TsoSegmentsOut]).toBe(supers.length);
    expect(h.main.graph.buffers.largeAvailable).toBe(h.main.graph.buffers.largeCapacity);
  });

  it('cuts super-segments into MTU-sized frames before a TX fault injector', async () => {
    await setup(65536, 300_000);
    await h.cli('set interface fault host-veth0 tx drop 0');
    const { frames, payload } = pull(300_000);
    expectSourceBytes(payload);
    expect(frames.every((f) => f.bytes.length <= 1514 && !(f.flags & FrameFlag.GSO_TCPV4))).toBe(true);
    for (const f of frames) {
      expect(internetChecksum(f.bytes, 14, 34)).toBe(0);
      expect((f.bytes[50]! << 8) | f.bytes[51]!).toBe(pseudoHeaderSum(OUR_IP, PEER_IP, IpProtocol.TCP, f.bytes.length - 34));
    }
    expect(sm.stack.counters[TcpCounter.TsoSegmentsOut]).toBeGreaterThan(0);
    const pool = h.main.graph.buffers;
    expect(pool.largeAvailable).toBe(pool.largeCapacity);
  });
});

describe('TSO over a device without TX GSO', () => {
  it('never builds super-segments', async () => {
    await setup(0, 300_000);
    const { frames, payload } = pull(300_000);
    expectSourceBytes(payload);
    expect(frames.every((f) => f.bytes.length <= 1514)).toBe(true);
    expect(sm.stack.counters[TcpCounter.TsoSegmentsOut]).toBe(0);
  });

  it('cuts a super-frame that reaches it into wire frames in software', async () => {
    await setup(0, 1);
    const pool = h.main.graph.buffers;
    const itf = h.net.interfaceByName('host-veth0');
    // A super-segment as the TCP sink builds it (pseudo-header sum in the checksum field), then the frame.
    const payloadLen = 10 * 1000 + 123;
    const payload = Uint8Array.from({ length: payloadLen }, (_, i) => (i * 31 + 7) & 0xff);
    const r: TcpRepr = { srcPort: PORT, dstPort: PEER_PORT, seq: 0xfffff000, ack: 77, window: 1000, urgent: 0, flags: TcpFlag.ACK | TcpFlag.PSH | TcpFlag.FIN, payload };
    const seg = new Uint8Array(tcpReprLength(r));
    emitTcp(r, seg, 0, OUR_IP, PEER_IP);
    const frame = ethernetFrame(PEER_MAC, OUR_MAC, EtherType.IPV4, ipv4Packet(OUR_IP, PEER_IP, IpProtocol.TCP, seg));
    const pseudo = pseudoHeaderSum(OUR_IP, PEER_IP, IpProtocol.TCP, seg.length);
    frame[50] = pseudo >>> 8;
    frame[51] = pseudo & 0xff;
    const bi = pool.allocLarge();
    pool.arena.set(frame, pool.current[bi]!);
    pool.length[bi] = frame.length;
    pool.txInterface[bi] = itf.swIfIndex;
    pool.flags[bi] |= BufferFlag.TX_L4_CSUM_OFFLOAD;
    pool.gsoSize[bi] = 1000;
    const small0 = pool.available;
    dev.take();
    h.main.graph.enqueue(h.net.nodes.interfaceOutput, bi);
    h.main.graph.drain();
    const out = dev.take();
    expect(out.length).toBe(11);
    let seq = r.seq;
    let id = -1;
    const got: number[] = [];
    for (const [i, f] of out.entries()) {
      const t = tcpOf(f.bytes)!;
      expect(t.seq).toBe(seq);
      expect(t.payload.length).toBe(i < 10 ? 1000 : 123);
      expect(t.flags).toBe(i < 10 ? TcpFlag.ACK : TcpFlag.ACK | TcpFlag.PSH | TcpFlag.FIN);
      seq = (seq + t.payload.length) >>> 0;
      got.push(...t.payload);
      expect(internetChecksum(f.bytes, 14, 34)).toBe(0);
      const ipId = (f.bytes[18]! << 8) | f.bytes[19]!;
      if (id >= 0) expect(ipId).toBe((id + 1) & 0xffff);
      id = ipId;
      // Checksum offload as for any segment: the device completes the pseudo-header sum.
      expect(f.flags & FrameFlag.CSUM_PARTIAL).toBeTruthy();
      const tcpLen = f.bytes.length - 34;
      expect((f.bytes[50]! << 8) | f.bytes[51]!).toBe(pseudoHeaderSum(OUR_IP, PEER_IP, IpProtocol.TCP, tcpLen));
    }
    expect(Uint8Array.from(got)).toEqual(payload);
    expect(h.error('af-packet-output', 'gso-segmented')).toBe(1);
    expect(h.net.interfaces.counters.get(itf.swIfIndex, InterfaceCounter.TX_PACKETS)).toBeGreaterThanOrEqual(11);
    expect(pool.available).toBe(small0);
    expect(pool.largeAvailable).toBe(pool.largeCapacity);
  });
});
