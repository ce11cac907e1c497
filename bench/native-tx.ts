// TX micro-benchmark for the AF_PACKET shim, out of one end of a veth pair whose other end sits in a namespace:
//  - 60-byte frames (64 with FCS) in batches: the per-frame cost (ring fill + one kick per batch, which includes
//    the kernel's transmit), frames/s;
//  - bulk TCP payload as 1514-byte frames (one skb per 1448-byte segment, checksum offload) vs as 64 KiB GSO
//    super-frames (FrameFlag.GSO_TCPV4, one skb per 45 segments), side by side: MB/s of payload.
// The TCP frames go to a MAC the namespace end does not own, so its stack drops them on arrival and the numbers
// are the transmit path's (ours + the kernel's + veth), not a receiver's. With ethtool present, a third row
// turns TSO off on our end so the kernel segments each super-frame in software before veth.
//
// Run as root after a build:  npx tsc -p tsconfig.json && node dist/bench/native-tx.js [--seconds 3] [--batch 256]
// Prints a table and writes bench/results/native-tx.json.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AfPacketDevice } from '../src/native/af-packet-device.js';
import { packageRoot } from '../src/native/binding.js';
import { FrameFlag, META_STRIDE, type TxBatch } from '../src/native/packet-device.js';
import { createVethNamespace, runCommand } from '../src/native/veth.js';

const SMALL_FRAME = 60;
const MSS = 1448;
const GSO_SEGMENTS = 45; // 45 × 1448 = 65160 payload bytes: the largest whole-MSS IPv4 super-frame
const OTHER_HOST = Uint8Array.of(0x02, 0x00, 0x00, 0xbe, 0xef, 0x01);

export type TxCase = '60B' | 'tcp-1514B' | 'tcp-gso-64KiB' | 'tcp-gso-64KiB-sw-segmented';

export interface TxBenchResult {
  case: TxCase;
  seconds: number;
  /** Frames per txBatch call. */
  batch: number;
  frames: number;
  framesPerSecond: number;
  /** Time per frame inside txBatch (fill + kick, which includes the kernel's transmit). */
  nsPerFrame: number;
  /** TCP payload carried per second (MB = 10^6 bytes); 0 for the 60-byte case. */
  payloadMBps: number;
  /** Wire bytes (whole frames) per second, MB. */
  frameMBps: number;
  /** CPU time of this process (user + system, which includes the kernel's transmit) per MB of payload, ms. */
  cpuMsPerPayloadMB: number;
  ringFullCalls: number;
  kickErrors: number;
  dropped: number;
}

function checksum(b: Uint8Array, start: number, end: number, initial = 0): number {
  let s = initial;
  for (let i = start; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if ((end - start) & 1) s += b[end - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** Ethernet/IPv4/TCP frame with `payloadLen` bytes; the TCP checksum field holds the pseudo-header sum. */
function tcpFrame(src: Uint8Array, payloadLen: number, seq: number): Uint8Array {
  const ipLen = 40 + payloadLen;
  const f = new Uint8Array(14 + ipLen);
  f.set(OTHER_HOST, 0);
  f.set(src, 6);
  f[12] = 0x08;
  f.set([0x45, 0, ipLen >> 8, ipLen & 0xff, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 206, 0, 1, 10, 206, 0, 2], 14);
  const h = checksum(f, 14, 34);
  f[24] = h >> 8;
  f[25] = h & 0xff;
  f.set([0x9c, 0x40, 0x1f, 0x90, seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff, 0, 0, 0, 1, 0x50, 0x10, 0xff, 0xff], 34);
  const pseudo = Uint8Array.of(10, 206, 0, 1, 10, 206, 0, 2, 0, 6, (20 + payloadLen) >> 8, (20 + payloadLen) & 0xff);
  const ps = ~checksum(pseudo, 0, 12) & 0xffff;
  f[50] = ps >> 8;
  f[51] = ps & 0xff;
  for (let i = 54; i < f.length; i++) f[i] = i & 0xff;
  return f;
}

function batchOf(frames: Uint8Array[], flags: number, gsoSize: number): TxBatch {
  const data = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
  const offsets = new Uint32Array(frames.length);
  const lengths = new Uint32Array(frames.length);
  const meta = new Uint16Array(frames.length * META_STRIDE);
  let at = 0;
  frames.forEach((f, i) => {
    data.set(f, at);
    offsets[i] = at;
    lengths[i] = f.length;
    at += f.length;
    if (flags) meta.set([flags, 34, 16, gsoSize], i * META_STRIDE);
  });
  return { data, offsets, lengths, count: frames.length, meta };
}

function run(dev: AfPacketDevice, kind: TxCase, batch: TxBatch, payloadPerFrame: number, seconds: number): TxBenchResult {
  const s0 = dev.socketStats()[0]!;
  let frames = 0;
  let bytes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const end = Date.now() + seconds * 1000;
  const frameBytes = batch.lengths.reduce((a, x) => a + x, 0) / batch.count;
  while (Date.now() < end) {
    for (let k = 0; k < 16; k++) {
      const n = dev.txBatch(batch).accepted;
      frames += n;
      bytes += n * frameBytes;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  const s = dev.socketStats()[0]!;
  const secs = ns / 1e9;
  const payloadMB = (frames * payloadPerFrame) / 1e6;
  return {
    case: kind,
    seconds: +secs.toFixed(2),
    batch: batch.count,
    frames,
    framesPerSecond: Math.round(frames / secs),
    nsPerFrame: +(ns / frames).toFixed(1),
    payloadMBps: Math.round(payloadMB / secs),
    frameMBps: Math.round(bytes / 1e6 / secs),
    cpuMsPerPayloadMB: payloadMB ? +((cpu.user + cpu.system) / 1000 / payloadMB).toFixed(3) : 0,
    ringFullCalls: s.txRingFull - s0.txRingFull,
    kickErrors: s.txKickErrors + s.txKickEagain + s.txKickEnobufs - (s0.txKickErrors + s0.txKickEagain + s0.txKickEnobufs),
    dropped: s.txDropped - s0.txDropped,
  };
}

export async function benchNativeTx(opts: { seconds?: number; batch?: number } = {}): Promise<TxBenchResult[]> {
  const seconds = opts.seconds ?? 3;
  const n = opts.batch ?? 256;
  const topo = await createVethNamespace('opbt');
  const dev = AfPacketDevice.open(topo.host);
  try {
    const small: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const f = new Uint8Array(SMALL_FRAME);
      f.fill(0xff, 0, 6);
      f.set(dev.mac, 6);
      f.set([0x88, 0xb5], 12);
      small.push(f);
    }
    const mtuFrames: Uint8Array[] = [];
    for (let i = 0; i < n; i++) mtuFrames.push(tcpFrame(dev.mac, MSS, 1 + i * MSS));
    // As many super-frames as carry the same payload per call as the 1514-byte batch, within the GSO ring.
    const gsoCount = Math.max(1, Math.min(32, Math.round(n / GSO_SEGMENTS)));
    const gsoFrames: Uint8Array[] = [];
    for (let i = 0; i < gsoCount; i++) gsoFrames.push(tcpFrame(dev.mac, GSO_SEGMENTS * MSS, 1 + i * GSO_SEGMENTS * MSS));
    const partial = FrameFlag.CSUM_PARTIAL;
    const results: TxBenchResult[] = [
      run(dev, '60B', batchOf(small, 0, 0), 0, seconds),
      run(dev, 'tcp-1514B', batchOf(mtuFrames, partial, 0), MSS, seconds),
      run(dev, 'tcp-gso-64KiB', batchOf(gsoFrames, partial | FrameFlag.GSO_TCPV4, MSS), GSO_SEGMENTS * MSS, seconds),
    ];
    if (['/usr/sbin/ethtool', '/sbin/ethtool'].some((p) => existsSync(p))) {
      await runCommand('ethtool', ['-K', topo.host, 'tso', 'off']);
      const gsoBatch = batchOf(gsoFrames, partial | FrameFlag.GSO_TCPV4, MSS);
      results.push(run(dev, 'tcp-gso-64KiB-sw-segmented', gsoBatch, GSO_SEGMENTS * MSS, seconds));
    }
    return results;
  } finally {
    dev.close();
    await topo.close();
  }
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = await benchNativeTx({ seconds: arg('--seconds', 3), batch: arg('--batch', 256) });
  console.log('case                         batch    frames/s   ns/frame  payload MB/s  frame MB/s  CPU ms/MB  ring-full  drops');
  for (const r of results) {
    console.log(
      `${r.case.padEnd(27)} ${String(r.batch).padStart(6)} ${String(r.framesPerSecond).padStart(11)} ${r.nsPerFrame
        .toFixed(1)
        .padStart(10)} ${String(r.payloadMBps).padStart(13)} ${String(r.frameMBps).padStart(11)} ${r.cpuMsPerPayloadMB
        .toFixed(3)
        .padStart(10)} ${String(r.ringFullCalls).padStart(10)} ${String(r.dropped).padStart(6)}`,
    );
  }
  for (const r of results) console.log(JSON.stringify(r));
  const dir = join(packageRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'native-tx.json'), `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
}
