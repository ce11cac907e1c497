// TX micro-benchmark for the AF_PACKET shim: batches of 64-byte frames (60 + FCS) out of one end of a veth pair
// whose other end sits in a namespace with nothing listening, so the kernel's work per frame is the TX ring
// walk and veth transmit. Reports frames/s accepted, time per frame inside txBatch (fill + one kick, which
// includes the kernel's transmit), and how often the ring was full.
//
// Run as root after a build:  npx tsc -p tsconfig.json && node dist/bench/native-tx.js [--seconds 3] [--batch 256]
import { fileURLToPath } from 'node:url';
import { AfPacketDevice } from '../src/native/af-packet-device.js';
import type { TxBatch } from '../src/native/packet-device.js';
import { createVethNamespace } from '../src/native/veth.js';

const FRAME_LEN = 60;

export interface TxBenchResult {
  seconds: number;
  batch: number;
  frames: number;
  framesPerSecond: number;
  nsPerFrame: number;
  ringFullCalls: number;
  kickErrors: number;
}

export async function benchNativeTx(opts: { seconds?: number; batch?: number } = {}): Promise<TxBenchResult> {
  const seconds = opts.seconds ?? 3;
  const n = opts.batch ?? 256;
  const topo = await createVethNamespace('opbt');
  const dev = AfPacketDevice.open(topo.host);
  try {
    const data = new Uint8Array(n * FRAME_LEN);
    const offsets = new Uint32Array(n);
    const lengths = new Uint32Array(n).fill(FRAME_LEN);
    for (let i = 0; i < n; i++) {
      const o = i * FRAME_LEN;
      offsets[i] = o;
      data.fill(0xff, o, o + 6);
      data.set(dev.mac, o + 6);
      data[o + 12] = 0x88;
      data[o + 13] = 0xb5;
    }
    const batch: TxBatch = { data, offsets, lengths, count: n };
    let frames = 0;
    const t0 = process.hrtime.bigint();
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      for (let k = 0; k < 64; k++) frames += dev.txBatch(batch).accepted;
    }
    const ns = Number(process.hrtime.bigint() - t0);
    const s = dev.socketStats()[0]!;
    return {
      seconds: ns / 1e9,
      batch: n,
      frames,
      framesPerSecond: Math.round(frames / (ns / 1e9)),
      nsPerFrame: +(ns / frames).toFixed(1),
      ringFullCalls: s.txRingFull,
      kickErrors: s.txKickErrors + s.txKickEagain + s.txKickEnobufs,
    };
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
  console.log(JSON.stringify(await benchNativeTx({ seconds: arg('--seconds', 3), batch: arg('--batch', 256) })));
}
