// RX wake-up latency of the AF_PACKET shim in interrupt mode, TPACKET_V3 vs V2 RX rings side by side.
// Two exchanges, one frame in flight at a time, each answered from the readiness callback:
//  - device↔device: our device on the host end of a veth pair and a second AfPacketDevice on the namespace end
//    (same process) bounce one 60-byte frame back and forth; every round trip crosses two RX rings.
//  - device↔kernel: our device sends an ICMP echo request to the namespace's kernel, which answers; every round
//    trip crosses one RX ring (ours) and the kernel's own stack.
// A V3 ring hands a block over when it is full or when its retire timer (rxRetireMs, 1 ms) fires, so a lone
// frame waits for the timer; a V2 ring wakes the reader per frame.
//
// Run as root after a build:  npx tsc -p tsconfig.json && node dist/bench/native-latency.js [--rounds 2000]
// Prints a table and writes bench/results/native-latency.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AfPacketDevice } from '../src/native/af-packet-device.js';
import { packageRoot } from '../src/native/binding.js';
import { RxBatch, type TxBatch } from '../src/native/packet-device.js';
import { createVethNamespace, ip, type VethNamespace } from '../src/native/veth.js';

type Ring = 'v2' | 'v3';
type Exchange = 'device-device' | 'device-kernel-icmp';

export interface LatencyResult {
  rxRing: Ring;
  exchange: Exchange;
  rounds: number;
  /** Round-trip times in microseconds. */
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  roundTripsPerSecond: number;
  /** Rounds lost (no answer within 200 ms) and resent. */
  lost: number;
}

const HOST_IP = [10, 205, 0, 1];
const PEER_IP = [10, 205, 0, 2];

function checksum(b: Uint8Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i + 1 < end; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if ((end - start) & 1) s += b[end - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function oneFrame(frame: Uint8Array): TxBatch {
  return { data: frame, offsets: Uint32Array.of(0), lengths: Uint32Array.of(frame.length), count: 1 };
}

function icmpEcho(src: Uint8Array, dst: Uint8Array, seq: number): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + 32);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = 0x08;
  f.set([0x45, 0, 0, 60, 0, 1, 0x40, 0, 64, 1, 0, 0, ...HOST_IP, ...PEER_IP], 14);
  const h = checksum(f, 14, 34);
  f[24] = h >> 8;
  f[25] = h & 0xff;
  f.set([8, 0, 0, 0, 0x12, 0x34, seq >> 8, seq & 0xff], 34);
  const c = checksum(f, 34, f.length);
  f[36] = c >> 8;
  f[37] = c & 0xff;
  return f;
}

function summarize(rxRing: Ring, exchange: Exchange, rtts: number[], seconds: number, lost: number): LatencyResult {
  const s = rtts.slice().sort((a, b) => a - b);
  const q = (p: number) => +(s[Math.min(s.length - 1, Math.floor(p * s.length))]! / 1000).toFixed(1);
  return {
    rxRing,
    exchange,
    rounds: s.length,
    meanUs: +(s.reduce((a, x) => a + x, 0) / s.length / 1000).toFixed(1),
    p50Us: q(0.5),
    p90Us: q(0.9),
    p99Us: q(0.99),
    maxUs: +(s[s.length - 1]! / 1000).toFixed(1),
    roundTripsPerSecond: Math.round(s.length / seconds),
    lost,
  };
}

/**
 * Runs `rounds` exchanges: send() starts one, `isAnswer` recognizes its answer among frames read by `dev`.
 * A round with no answer within 200 ms is resent (counted as lost).
 */
function pingPong(
  dev: AfPacketDevice,
  rounds: number,
  send: (seq: number) => void,
  isAnswer: (f: Uint8Array, seq: number) => boolean,
): Promise<{ rtts: number[]; seconds: number; lost: number }> {
  const batch = RxBatch.packed(64);
  const rtts: number[] = [];
  let seq = 0;
  let lost = 0;
  let sentAt = 0n;
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    let timer: NodeJS.Timeout;
    const next = () => {
      clearTimeout(timer);
      if (rtts.length >= rounds) {
        dev.onReadable(null);
        resolve({ rtts, seconds: Number(process.hrtime.bigint() - start) / 1e9, lost });
        return;
      }
      seq = (seq + 1) & 0xffff;
      timer = setTimeout(() => {
        lost++;
        next();
      }, 200);
      sentAt = process.hrtime.bigint();
      send(seq);
    };
    dev.onReadable(() => {
      const n = dev.rxBatch(batch);
      const now = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        if (isAnswer(batch.frame(i), seq)) {
          rtts.push(Number(now - sentAt));
          next();
          return;
        }
      }
    });
    next();
  });
}

async function deviceToDevice(topo: VethNamespace, rxRing: Ring, rounds: number): Promise<LatencyResult> {
  const a = AfPacketDevice.open(topo.host, { rxRing });
  const b = AfPacketDevice.open(topo.peer, { netns: topo.netns, rxRing });
  try {
    const ping = new Uint8Array(60);
    ping.set(b.mac, 0);
    ping.set(a.mac, 6);
    ping.set([0x88, 0xb5], 12);
    const pong = ping.slice();
    pong.set(a.mac, 0);
    pong.set(b.mac, 6);
    pong[15] = 1;
    const bBatch = RxBatch.packed(64);
    b.onReadable(() => {
      const n = b.rxBatch(bBatch);
      for (let i = 0; i < n; i++) {
        const f = bBatch.frame(i);
        if (f[12] === 0x88 && f[13] === 0xb5 && f[15] === 0) {
          pong[14] = f[14]!;
          b.txBatch(oneFrame(pong));
        }
      }
    });
    const r = await pingPong(
      a,
      rounds,
      (seq) => {
        ping[14] = seq & 0xff;
        a.txBatch(oneFrame(ping));
      },
      (f, seq) => f[12] === 0x88 && f[13] === 0xb5 && f[15] === 1 && f[14] === (seq & 0xff),
    );
    return summarize(rxRing, 'device-device', r.rtts, r.seconds, r.lost);
  } finally {
    b.close();
    a.close();
  }
}

async function deviceToKernel(topo: VethNamespace, peerMac: Uint8Array, rxRing: Ring, rounds: number): Promise<LatencyResult> {
  const a = AfPacketDevice.open(topo.host, { rxRing });
  try {
    await ip(['neigh', 'replace', HOST_IP.join('.'), 'lladdr', fmtMac(a.mac), 'dev', topo.peer, 'nud', 'permanent'], topo.netns);
    const r = await pingPong(
      a,
      rounds,
      (seq) => a.txBatch(oneFrame(icmpEcho(a.mac, peerMac, seq))),
      (f, seq) => f[12] === 0x08 && f[13] === 0 && f[23] === 1 && f[34] === 0 && ((f[40]! << 8) | f[41]!) === seq,
    );
    return summarize(rxRing, 'device-kernel-icmp', r.rtts, r.seconds, r.lost);
  } finally {
    a.close();
  }
}

function fmtMac(mac: Uint8Array): string {
  return Array.from(mac, (x) => x.toString(16).padStart(2, '0')).join(':');
}

export async function benchNativeLatency(opts: { rounds?: number } = {}): Promise<LatencyResult[]> {
  const rounds = opts.rounds ?? 2000;
  const topo = await createVethNamespace('opbl', { peerAddress: `${PEER_IP.join('.')}/24` });
  try {
    await ip(['link', 'set', topo.peer, 'arp', 'off'], topo.netns);  // answers go to the static neighbour
    const link = JSON.parse(await ip(['-j', 'link', 'show', 'dev', topo.peer], topo.netns)) as { address: string }[];
    const peerMac = Uint8Array.from(link[0]!.address.split(':').map((x) => parseInt(x, 16)));
    const results: LatencyResult[] = [];
    for (const ring of ['v3', 'v2'] as const) {
      results.push(await deviceToDevice(topo, ring, rounds));
      results.push(await deviceToKernel(topo, peerMac, ring, rounds));
    }
    return results;
  } finally {
    await topo.close();
  }
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = await benchNativeLatency({ rounds: arg('--rounds', 2000) });
  console.log('ring  exchange             rounds   mean µs   p50 µs   p90 µs   p99 µs   max µs   RTT/s   lost');
  for (const r of results) {
    console.log(
      `${r.rxRing.padEnd(4)}  ${r.exchange.padEnd(19)} ${String(r.rounds).padStart(7)} ${r.meanUs.toFixed(1).padStart(9)} ${r.p50Us
        .toFixed(1)
        .padStart(8)} ${r.p90Us.toFixed(1).padStart(8)} ${r.p99Us.toFixed(1).padStart(8)} ${r.maxUs.toFixed(1).padStart(8)} ${String(
        r.roundTripsPerSecond,
      ).padStart(7)} ${String(r.lost).padStart(6)}`,
    );
  }
  for (const r of results) console.log(JSON.stringify(r));
  const dir = join(packageRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'native-latency.json'), `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`);
}
