// RX micro-benchmark for the AF_PACKET shim: a blaster process in a network namespace sends 64-byte frames
// (60 bytes + FCS) over a veth pair as fast as its TX ring allows; we count frames received per second in
// interrupt mode (fd readiness through libuv) and in polling mode (rxBatch every loop turn), and time the
// native rx call itself (ns per frame), which is the per-batch overhead the graph pays.
//
// Both RX ring versions run one after the other (or only `--ring v2|v3`).
// Run as root after a build:  npx tsc -p tsconfig.json && node dist/bench/native-rx.js [--seconds 4] [--batch 256]
// Prints a table and writes bench/results/native-rx.json.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AfPacketDevice } from '../src/native/af-packet-device.js';
import { packageRoot } from '../src/native/binding.js';
import { RxBatch, type TxBatch } from '../src/native/packet-device.js';
import { createVethNamespace } from '../src/native/veth.js';

const FRAME_LEN = 60;

export interface RxBenchResult {
  /** RX ring version: V2 wakes the reader per frame, V3 per retired block. */
  rxRing: 'v2' | 'v3';
  mode: 'interrupt' | 'polling' | 'polling-slots';
  seconds: number;
  frames: number;
  framesPerSecond: number;
  wakeups: number;
  framesPerWakeup: number;
  /** Time inside the native rx call per received frame. */
  nativeNsPerFrame: number;
  /** Time inside the native rx call per call (includes calls that found nothing). */
  nativeNsPerCall: number;
  /** Frames the kernel dropped during the window because the RX ring was full (we fell behind). */
  kernelDrops: number;
  /** Frames offered to our socket during the window: received + dropped. */
  offeredPerSecond: number;
  blasterFramesPerSecond: number;
  /** CPU time of this (receiving) process during the window, in percent of one core. */
  rxCpuPercent: number;
  /** framesPerSecond scaled to 100% of one core: the receive loop's capacity if the source were faster. */
  projectedFramesPerCoreSecond: number;
}

/** Child side: send 64-byte frames from `ifname` in `netns` until `seconds` pass; print frames sent. */
function blast(netns: string, ifname: string, dstMac: string, seconds: number): void {
  const dev = AfPacketDevice.open(ifname, { netns, offload: false });
  const n = 256;
  const data = new Uint8Array(n * FRAME_LEN);
  const offsets = new Uint32Array(n);
  const lengths = new Uint32Array(n).fill(FRAME_LEN);
  const dst = dstMac.split(':').map((x) => parseInt(x, 16));
  for (let i = 0; i < n; i++) {
    const o = i * FRAME_LEN;
    offsets[i] = o;
    data.set(dst, o);
    data.set(dev.mac, o + 6);
    data[o + 12] = 0x88;
    data[o + 13] = 0xb5; // local experimental ethertype: nothing in the host stack reacts to it
    data[o + 14] = i;
  }
  const batch: TxBatch = { data, offsets, lengths, count: n };
  const end = Date.now() + seconds * 1000;
  let sent = 0;
  while (Date.now() < end) {
    for (let k = 0; k < 64; k++) sent += dev.txBatch(batch).accepted;
  }
  process.stdout.write(`${JSON.stringify({ sent, seconds })}\n`);
  dev.close();
}

async function measure(
  dev: AfPacketDevice,
  mode: RxBenchResult['mode'],
  seconds: number,
  batchSize: number,
  startBlaster: (seconds: number) => Promise<number>,
): Promise<RxBenchResult> {
  const batch =
    mode === 'polling-slots' ? RxBatch.slots(new Uint8Array(batchSize * 2176), 2048, batchSize) : RxBatch.packed(batchSize);
  if (mode === 'polling-slots') for (let i = 0; i < batchSize; i++) batch.offsets[i] = i * 2176 + 128;
  const slotOffsets = batch.offsets.slice();
  // Drain leftovers from the previous run.
  while (dev.rxBatch(batch) > 0);
  let frames = 0;
  let wakeups = 0;
  let calls = 0;
  let nativeNs = 0n;
  const rxOnce = () => {
    if (mode === 'polling-slots') batch.offsets.set(slotOffsets);
    const t0 = process.hrtime.bigint();
    const n = dev.rxBatch(batch);
    nativeNs += process.hrtime.bigint() - t0;
    calls++;
    frames += n;
    return n;
  };
  const blaster = startBlaster(seconds + 1);
  await new Promise((r) => setTimeout(r, 500)); // let the blaster start before the clock does
  frames = 0;
  calls = 0;
  nativeNs = 0n;
  const dropsBefore = dev.socketStats()[0]!.kernelDrops;
  let dropsAfter = dropsBefore;
  const cpu0 = process.cpuUsage();
  let cpu = { user: 0, system: 0 };
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + seconds * 1000;
  const finish = (resolve: () => void) => {
    cpu = process.cpuUsage(cpu0);
    dropsAfter = dev.socketStats()[0]!.kernelDrops;
    resolve();
  };
  await new Promise<void>((resolve) => {
    if (mode === 'interrupt') {
      dev.onReadable(() => {
        wakeups++;
        rxOnce();
        if (Date.now() >= deadline) {
          dev.onReadable(null);
          finish(resolve);
        }
      });
    } else {
      const turn = () => {
        wakeups++;
        rxOnce();
        if (Date.now() >= deadline) finish(resolve);
        else setImmediate(turn);
      };
      setImmediate(turn);
    }
  });
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  const sent = await blaster;
  const withFrames = frames;
  return {
    rxRing: dev.rxRing,
    mode,
    seconds: elapsed,
    frames: withFrames,
    framesPerSecond: Math.round(withFrames / elapsed),
    wakeups,
    framesPerWakeup: wakeups ? +(withFrames / wakeups).toFixed(1) : 0,
    nativeNsPerFrame: withFrames ? +(Number(nativeNs) / withFrames).toFixed(1) : 0,
    nativeNsPerCall: calls ? Math.round(Number(nativeNs) / calls) : 0,
    kernelDrops: dropsAfter - dropsBefore,
    offeredPerSecond: Math.round((withFrames + dropsAfter - dropsBefore) / elapsed),
    blasterFramesPerSecond: Math.round(sent / (seconds + 1)),
    rxCpuPercent: +(((cpu.user + cpu.system) / 1e6 / elapsed) * 100).toFixed(1),
    projectedFramesPerCoreSecond: Math.round(withFrames / ((cpu.user + cpu.system) / 1e6)),
  };
}

export async function benchNativeRx(
  opts: { seconds?: number; batch?: number; rings?: ('v2' | 'v3')[] } = {},
): Promise<RxBenchResult[]> {
  const seconds = opts.seconds ?? 4;
  const batchSize = opts.batch ?? 256;
  const topo = await createVethNamespace('opbr');
  let dev = AfPacketDevice.open(topo.host, { rxRing: opts.rings?.[0] ?? 'v2' });
  const self = fileURLToPath(import.meta.url);
  const children = new Set<number>();
  const startBlaster = (secs: number) =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [self, '--blast', topo.netns, topo.peer, fmtMac(dev.mac), String(secs)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.add(child.pid!);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => {
        children.delete(child.pid!);
        if (code !== 0) reject(new Error(`blaster exited with ${code}`));
        else resolve((JSON.parse(out) as { sent: number }).sent);
      });
    });
  try {
    const results: RxBenchResult[] = [];
    for (const ring of opts.rings ?? ['v2', 'v3']) {
      if (dev.rxRing !== ring) {
        dev.close();
        dev = AfPacketDevice.open(topo.host, { rxRing: ring });
      }
      for (const mode of ['interrupt', 'polling', 'polling-slots'] as const) {
        results.push(await measure(dev, mode, seconds, batchSize, startBlaster));
      }
    }
    return results;
  } finally {
    for (const pid of children) process.kill(pid);
    dev.close();
    await topo.close();
  }
}

function fmtMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--blast') {
    blast(process.argv[3]!, process.argv[4]!, process.argv[5]!, Number(process.argv[6]));
  } else {
    const ringArg = process.argv.indexOf('--ring');
    const rings = ringArg >= 0 ? [process.argv[ringArg + 1] as 'v2' | 'v3'] : undefined;
    const results = await benchNativeRx({ seconds: arg('--seconds', 4), batch: arg('--batch', 256), rings });
    console.log('ring  mode            frames/s  frames/wake-up  ns/frame (native)  kernel drops  rx CPU %');
    for (const r of results) {
      console.log(
        `${r.rxRing.padEnd(4)}  ${r.mode.padEnd(14)} ${String(r.framesPerSecond).padStart(9)} ${r.framesPerWakeup
          .toFixed(1)
          .padStart(15)} ${r.nativeNsPerFrame.toFixed(1).padStart(18)} ${String(r.kernelDrops).padStart(13)} ${r.rxCpuPercent
          .toFixed(1)
          .padStart(9)}`,
      );
    }
    for (const r of results) console.log(JSON.stringify(r));
    const dir = join(packageRoot(), 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'native-rx.json'), `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
  }
}
