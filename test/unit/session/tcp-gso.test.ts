// GSO super-frames from the device (no root: MemoryDevice): af-packet-input hands a TCPv4 super-frame to TCP as
// one large segment (a jumbo buffer), or segments it in software while an RX fault injector is configured;
// other oversized frames are dropped and counted. Checked end to end through a sink session.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameFlag } from '../../../src/native/packet-device.js';
import type { MemoryDevice } from '../../../src/native/memory-device.js';
import { TcpCounter } from '../../../src/net/tcp/counters.js';
import { internetChecksum, pseudoHeaderSum } from '../../../src/net/wire/checksum.js';
import { EtherType } from '../../../src/net/wire/ethernet.js';
import { IpProtocol } from '../../../src/net/wire/ipv4.js';
import { emitTcp, parseTcp, TcpFlag, tcpReprLength, type TcpRepr } from '../../../src/net/wire/tcp.js';
import { registerSessionModule } from '../../../src/session/module.js';
import type { SessionMain } from '../../../src/session/session-main.js';
import { createTestApp, type TestAppStats } from '../../../src/session/test-apps.js';
import { ethernetFrame, ipv4Packet, NetHarness, OUR_IP, OUR_MAC, PEER_IP, PEER_MAC } from '../net/net-harness.js';

const PORT = 9;
const PEER_PORT = 40000;
const MSS = 1448;

function tcpFrame(repr: Partial<TcpRepr> & { flags: number }, payload = new Uint8Array(0)): Uint8Array {
  const r: TcpRepr = { srcPort: PEER_PORT, dstPort: PORT, seq: 0, ack: 0, window: 65535, urgent: 0, ...repr, payload };
  const seg = new Uint8Array(tcpReprLength(r));
  emitTcp(r, seg, 0, PEER_IP, OUR_IP);
  return ethernetFrame(OUR_MAC, PEER_MAC, EtherType.IPV4, ipv4Packet(PEER_IP, OUR_IP, IpProtocol.TCP, seg));
}

function segmentsOut(dev: MemoryDevice): TcpRepr[] {
  return dev
    .takeTransmitted()
    .filter((f) => ((f[12]! << 8) | f[13]!) === EtherType.IPV4 && f[23] === IpProtocol.TCP)
    .map((f) => {
      const r = parseTcp(f, 34, f.length - 34);
      if (!r.ok) throw new Error('bad tcp');
      return r.value;
    });
}

let h: NetHarness;
let sm: SessionMain;
let dev: MemoryDevice;
let stats: TestAppStats;
let seq: number;
let ourNext: number;

beforeEach(async () => {
  h = new NetHarness();
  const sessions = registerSessionModule(h.main, h.net);
  await h.main.init();
  sm = sessions.get();
  dev = await h.standard();
  await h.cli('set ip neighbor host-veth0 10.9.0.2 02:00:00:00:00:02');
  const t = createTestApp('sink', { kind: 'sink' });
  stats = t.stats;
  expect(sm.listen(t.app, OUR_IP, PORT).ok).toBe(true);
  // Handshake (no options: MSS 536 on our side does not matter for what we receive).
  seq = 1000;
  dev.inject(tcpFrame({ flags: TcpFlag.SYN, seq, mss: 1460 }));
  h.run();
  const synAck = segmentsOut(dev).find((s) => s.flags === (TcpFlag.SYN | TcpFlag.ACK))!;
  seq++;
  ourNext = synAck.seq + 1;
  dev.inject(tcpFrame({ flags: TcpFlag.ACK, seq, ack: ourNext }));
  h.run();
  expect(stats.accepted).toBe(1);
});
afterEach(() => h.close());

/** A GSO super-frame as a veth peer's TSO would hand it over: checksum not computed (CSUM_PARTIAL). */
function superFrame(payload: Uint8Array): { frame: Uint8Array; meta: { flags: number; gsoSize: number; csumStart: number; csumOffset: number } } {
  const frame = tcpFrame({ flags: TcpFlag.ACK | TcpFlag.PSH, seq, ack: ourNext }, payload);
  frame[14 + 20 + 16] = 0x12; // checksum field: not a valid checksum
  frame[14 + 20 + 17] = 0x34;
  return { frame, meta: { flags: FrameFlag.GSO_TCPV4 | FrameFlag.CSUM_PARTIAL, gsoSize: MSS, csumStart: 34, csumOffset: 16 } };
}

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) & 0xff);

describe('TX checksum offload', () => {
  it('leaves the pseudo-header sum in the field, which a device completes into a valid checksum', () => {
    // Two segments: the second is acknowledged at once.
    dev.inject(tcpFrame({ flags: TcpFlag.ACK, seq, ack: ourNext }, pattern(100)));
    dev.inject(tcpFrame({ flags: TcpFlag.ACK | TcpFlag.PSH, seq: seq + 100, ack: ourNext }, pattern(100)));
    h.run();
    const frames = dev.takeTransmitted().filter((f) => f[23] === IpProtocol.TCP);
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) {
      const l4 = 34;
      const len = f.length - l4;
      const field = (f[l4 + 16]! << 8) | f[l4 + 17]!;
      expect(field).toBe(pseudoHeaderSum(OUR_IP, PEER_IP, IpProtocol.TCP, len));
      // What the kernel does for CHECKSUM_PARTIAL (skb_checksum_help): sum from csum_start, store the complement.
      const c = internetChecksum(f, l4, f.length);
      f[l4 + 16] = c >>> 8;
      f[l4 + 17] = c & 0xff;
      expect(internetChecksum(f, l4, f.length, pseudoHeaderSum(OUR_IP, PEER_IP, IpProtocol.TCP, len))).toBe(0);
    }
  });
});

describe('GSO super-frames into TCP', () => {
  it('takes a super-frame whole as one segment and acknowledges it', () => {
    const segIn0 = sm.stack.counters[TcpCounter.SegmentsIn]!;
    const { frame, meta } = superFrame(pattern(40_000));
    dev.inject(frame, meta);
    h.run();
    expect(stats.bytesIn).toBe(40_000);
    expect(sm.stack.counters[TcpCounter.SegmentsIn]! - segIn0).toBe(1);
    expect(segmentsOut(dev).some((s) => s.ack === seq + 40_000)).toBe(true);
  });

  it('segments super-frames in software while an RX fault injector is on', async () => {
    await h.cli('set interface fault host-veth0 rx drop 0');
    const segIn0 = sm.stack.counters[TcpCounter.SegmentsIn]!;
    const { frame, meta } = superFrame(pattern(40_000));
    dev.inject(frame, meta);
    h.run();
    expect(stats.bytesIn).toBe(40_000);
    expect(sm.stack.counters[TcpCounter.SegmentsIn]! - segIn0).toBe(Math.ceil(40_000 / MSS));
    expect(h.error('af-packet-input', 'gso-segmented')).toBe(1);
    expect(segmentsOut(dev).some((s) => s.ack === seq + 40_000)).toBe(true);
    expect(sm.stack.counters[TcpCounter.BadChecksum]).toBe(0);
  });

  it('drops oversized frames that are not TCPv4 super-frames', () => {
    const { frame } = superFrame(pattern(10_000));
    dev.inject(frame, { flags: FrameFlag.GSO_UDP, gsoSize: MSS });
    h.run();
    expect(stats.bytesIn).toBe(0);
    expect(h.error('af-packet-input', 'gso-unsupported')).toBe(1);
  });
});
