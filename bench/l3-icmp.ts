// L3 benchmark: ICMP echo requests per second answered through af-packet-input → ethernet-input →
// ip4-input → ip4-local → ip4-icmp-input → ip4-lookup → ip4-rewrite → af-packet-output, for 64-byte
// and 1500-byte frames, against the Linux kernel answering the same load on the same veth, in the
// same run. The traffic source is an AF_PACKET worker thread inside the peer namespace.
//
//   npx tsc -p tsconfig.json && node dist/bench/l3-icmp.js [--seconds N] [--rx-mode polling|interrupt] [--show-runtime]
// Needs root and the native shim (npm run build).

import { Worker } from 'node:worker_threads';
import { registerBuiltinCommands } from '../src/cli/builtin/index.js';
import { Main } from '../src/core/main.js';
import { createVethNamespace, ip, runCommand, type VethNamespace } from '../src/native/veth.js';
import { registerNetModule } from '../src/net/module.js';
import { parseIp4 } from '../src/net/wire/ipv4.js';
import { parseMac } from '../src/net/wire/ethernet.js';
import type { TrafficSourceJob, TrafficSourceResult } from './l3-traffic-source.js';

const TARGET = '10.231.9.1';
const SOURCE = '10.231.9.2';
const SOURCE_MAC = parseMac('02:00:00:be:7c:02')!;
const DATAPLANE_MAC = parseMac('02:fe:00:be:7c:01')!;

export interface L3BenchRow {
  readonly frameBytes: number;
  readonly responder: 'kernel' | 'onionplane';
  readonly offeredPps: number;
  readonly repliesPps: number;
}

function trafficSource(job: TrafficSourceJob): Promise<TrafficSourceResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./l3-traffic-source.js', import.meta.url), { workerData: job });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`traffic source exited with ${code}`)));
  });
}

async function linkMac(name: string): Promise<Uint8Array> {
  const info = JSON.parse(await ip(['-j', 'link', 'show', 'dev', name])) as { address: string }[];
  return parseMac(info[0]!.address)!;
}

export async function runL3Bench(opts: { seconds: number; rxMode: 'polling' | 'interrupt'; showRuntime?: boolean }): Promise<L3BenchRow[]> {
  const rows: L3BenchRow[] = [];
  let ns: VethNamespace | undefined;
  const main = new Main({ buffers: 16384 });
  registerBuiltinCommands(main);
  registerNetModule(main);
  await main.init();
  const cli = (line: string): Promise<string> => main.cli.execute(line, { main, origin: 'bench' });
  try {
    ns = await createVethNamespace('lb', {});
    await runCommand('sysctl', ['-qw', `net.ipv6.conf.${ns.host}.disable_ipv6=1`]);
    await runCommand('ip', ['netns', 'exec', ns.netns, 'sysctl', '-qw', `net.ipv6.conf.${ns.peer}.disable_ipv6=1`]);
    const hostMac = await linkMac(ns.host);
    for (const frameLen of [60, 1514]) {
      const job = (dstMac: Uint8Array): TrafficSourceJob => ({
        ifname: ns!.peer,
        netns: ns!.netns,
        srcMac: SOURCE_MAC,
        srcIp: parseIp4(SOURCE)!,
        dstMac,
        dstIp: parseIp4(TARGET)!,
        frameLen,
        warmupMs: 500,
        durationMs: opts.seconds * 1000,
      });
      const frameBytes = frameLen + 4;

      // The kernel answers: the address lives on the host end of the veth.
      await ip(['addr', 'add', `${TARGET}/24`, 'dev', ns.host]);
      const k = await trafficSource(job(hostMac));
      rows.push({ frameBytes, responder: 'kernel', offeredPps: k.offered / k.seconds, repliesPps: k.replies / k.seconds });
      await ip(['addr', 'flush', 'dev', ns.host]);

      // onionplane answers on the same veth end.
      const name = await cli(`create host-interface name ${ns.host} hw-addr ${[...DATAPLANE_MAC].map((b) => b.toString(16).padStart(2, '0')).join(':')}`);
      await cli(`set interface ip address ${name} ${TARGET}/24`);
      await cli(`set interface rx-mode ${name} ${opts.rxMode}`);
      await cli(`set interface state ${name} up`);
      await cli('clear runtime');
      const d = await trafficSource(job(DATAPLANE_MAC));
      if (opts.showRuntime) console.log(`${frameBytes}-byte frames:\n${await cli('show runtime')}`);
      rows.push({ frameBytes, responder: 'onionplane', offeredPps: d.offered / d.seconds, repliesPps: d.replies / d.seconds });
      await cli(`delete host-interface name ${ns.host}`);
      await ip(['link', 'set', ns.host, 'up']);
    }
  } finally {
    await main.shutdown();
    await ns?.close();
  }
  return rows;
}

function formatRows(rows: L3BenchRow[]): string {
  const lines = ['frame   responder     offered pps   replies pps'];
  for (const r of rows) {
    lines.push(
      `${String(r.frameBytes).padStart(5)}   ${r.responder.padEnd(12)}  ${Math.round(r.offeredPps).toLocaleString('en').padStart(11)}   ${Math.round(r.repliesPps).toLocaleString('en').padStart(11)}`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const seconds = Number(arg('--seconds') ?? 3);
  const rxMode = (arg('--rx-mode') ?? 'polling') as 'polling' | 'interrupt';
  const rows = await runL3Bench({ seconds, rxMode, showRuntime: args.includes('--show-runtime') });
  console.log(formatRows(rows));
  console.log(JSON.stringify({ bench: 'l3-icmp', rxMode, rows }));
}
