/**
 * Binary API round trips: show_version request → reply over the Unix socket, each client waiting
 * for its reply before sending the next (what a script does). The server runs in a worker thread
 * so that it has its own event loop, as the daemon would.
 *   node dist/bench/api-show-version.js [seconds-per-run] [clients...]      (default: 3 1 16)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { vpeApi } from '../src/api/builtin.js';
import { ApiClient } from '../src/api/client.js';
import { vpeHandlers } from '../src/api/handlers/vpe.js';
import { ApiRegistry } from '../src/api/registry.js';
import { ApiServer } from '../src/api/server.js';

export interface ApiBenchResult {
  clients: number;
  seconds: number;
  calls: number;
  callsPerSec: number;
  /** Median and 99th percentile round trip, microseconds. */
  p50Us: number;
  p99Us: number;
}

async function serve(socketPath: string): Promise<void> {
  const registry = new ApiRegistry();
  registry.registerModule(vpeApi, vpeHandlers({ program: 'onionplane', version: 'bench', buildDate: '', buildDirectory: '' }));
  const server = new ApiServer(registry, { socketPath });
  await server.start();
  parentPort!.postMessage('ready');
  parentPort!.once('message', () => {
    void server.stop().then(() => process.exit(0));
  });
}

async function startServer(socketPath: string): Promise<Worker> {
  const w = new Worker(fileURLToPath(import.meta.url), { workerData: { socketPath } });
  await new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
  });
  return w;
}

export async function runApiBench(socketPath: string, clients: number, seconds: number): Promise<ApiBenchResult> {
  const conns = await Promise.all(Array.from({ length: clients }, () => ApiClient.connect({ socketPath, name: 'bench' })));
  const samples: number[] = [];
  let calls = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    conns.map(async (c) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await c.call('show_version');
        const dt = performance.now() - t0;
        calls++;
        if (samples.length < 200_000) samples.push(dt);
      }
    }),
  );
  const elapsed = seconds + Math.max(0, performance.now() - end) / 1000;
  await Promise.all(conns.map((c) => c.close()));
  samples.sort((a, b) => a - b);
  const q = (p: number) => Math.round((samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? 0) * 1000);
  return { clients, seconds: elapsed, calls, callsPerSec: Math.round(calls / elapsed), p50Us: q(0.5), p99Us: q(0.99) };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).map(Number);
  const seconds = args[0] || 3;
  const clientCounts = args.length > 1 ? args.slice(1) : [1, 16];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'api-bench-'));
  const socketPath = path.join(dir, 'api.sock');
  const worker = await startServer(socketPath);
  try {
    for (const n of clientCounts) {
      const r = await runApiBench(socketPath, n, seconds);
      console.log(`show_version round trips, ${n} client(s): ${r.callsPerSec}/s (p50 ${r.p50Us} µs, p99 ${r.p99Us} µs)`);
      console.log(JSON.stringify({ bench: 'api-show-version', ...r }));
    }
  } finally {
    worker.postMessage('stop');
    await new Promise((r) => worker.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (!isMainThread) {
  void serve((workerData as { socketPath: string }).socketPath);
} else if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main();
}
