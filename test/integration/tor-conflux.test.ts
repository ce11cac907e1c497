// Conflux (proposal 329) between the embedded client and real C tor 0.4.9 relays: the client keeps a
// linked set of two circuits to one exit (distinct guards and middles), a 20 MB download rides it
// with both legs carrying DATA and the bytes arriving intact and in order, the exit's info log says
// it linked the set, and with `conflux off` streams ride single circuits only.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTorNet, type TorNet } from '../harness/tornet/index.js';
import { deterministicBytesSha256, startOriginServer, type OriginServer } from '../harness/origin-server.js';
import { TorClient } from '../../src/tor/client/index.js';
import type { CircuitSummary } from '../../src/tor/circmgr/index.js';
import { httpGet, httpUpload } from '../harness/http-over-stream.js';

async function until<T>(what: string, f: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const counter = (c: TorClient, name: string): number => c.status().counters.circuit.find((r) => r.name === name)?.count ?? -1;

describe('conflux with real C tor relays', () => {
  let net: TorNet;
  let origin: OriginServer;
  const clients: TorClient[] = [];
  const dirs: string[] = [];
  const debugBefore = process.env.ONIONPLANE_TORNET_DEBUG;

  async function startClient(conflux: 'auto' | 'off'): Promise<TorClient> {
    const dataDir = await mkdtemp(join(tmpdir(), 'onionplane-conflux-'));
    dirs.push(dataDir);
    const client = new TorClient({ dirAuthorities: net.dirAuthorityLines, testNetwork: true, dataDir, safeLogging: false, conflux });
    clients.push(client);
    await client.start();
    return client;
  }

  beforeAll(async () => {
    // Info logs on the relays: the exit logs when it links a conflux set.
    process.env.ONIONPLANE_TORNET_DEBUG = '1';
    [net, origin] = await Promise.all([startTorNet({ authorities: 3, relays: 3, exits: 2, referenceClient: false }), startOriginServer()]);
  }, 240_000);

  afterAll(async () => {
    for (const c of clients) await c.close();
    await origin?.stop();
    await net?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
    if (debugBefore === undefined) delete process.env.ONIONPLANE_TORNET_DEBUG;
    else process.env.ONIONPLANE_TORNET_DEBUG = debugBefore;
  }, 60_000);

  it('links a set of two legs to one exit and downloads 20 MB over both legs, in order', async () => {
    const client = await startClient('auto');
    const linkedSet = (): CircuitSummary | undefined => client.circuits().find((c) => c.legs !== undefined && c.state === 'open');
    const set = await until('a linked conflux set', linkedSet, 60_000);
    const legs = set.legs!.map((id) => client.circuits().find((c) => c.id === id)!);
    expect(legs).toHaveLength(2);
    expect(legs.every((l) => l.purpose === 'conflux-leg' && l.state === 'open')).toBe(true);
    // Same exit, distinct guards and middles.
    expect(new Set(legs.map((l) => l.path[2])).size).toBe(1);
    expect(new Set(legs.map((l) => l.path[0])).size).toBe(2);
    expect(new Set(legs.map((l) => l.path[1])).size).toBe(2);

    const n = 20_000_000;
    const t0 = Date.now();
    const s = await client.connect('127.0.0.1', origin.port, 'bulk');
    const r = await httpGet(s, `/bytes/${n}`);
    const secs = (Date.now() - t0) / 1000;
    expect(r.status).toBe(200);
    expect(r.bytes).toBe(n);
    expect(r.sha256).toBe(deterministicBytesSha256(n));
    expect(counter(client, 'conflux-streams')).toBeGreaterThanOrEqual(1);
    // The stream rode a set (the one we saw or a newer one): both of its legs carried DATA.
    const sets = client.circuits().filter((c) => c.legs !== undefined);
    const used = sets.map((c) => c.legs!.map((id) => client.circuits().find((x) => x.id === id)?.dataCellsIn ?? 0)).find((d) => d.reduce((a, b) => a + b, 0) > n / 498 / 2);
    expect(used).toBeDefined();
    expect(Math.min(...used!)).toBeGreaterThan(100);
    console.log(`[tor-conflux] 20 MB in ${secs.toFixed(2)} s (${((n * 8) / secs / 1e6).toFixed(0)} Mbit/s), DATA cells per leg ${used!.join(' / ')}`);
    for (const name of ['conflux-seq-violation', 'conflux-ooo-overflow', 'conflux-switch-violation', 'conflux-linked-bad-nonce', 'conflux-leg-lost']) {
      expect(counter(client, name)).toBe(0);
    }
  }, 180_000);

  it('uploads 10 MB over the set intact (our cells numbered across legs, SWITCH when the leg changes)', async () => {
    const client = clients[0]!;
    const body = Buffer.alloc(10_000_000);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32BE((i * 2654435761) >>> 0, i);
    const u = await client.connect('127.0.0.1', origin.port, 'bulk');
    const setId = client.streamList().find((x) => x.isolation === 'bulk')?.circuit;
    const set = client.circuits().find((c) => c.id === setId);
    expect(set?.legs).toHaveLength(2);
    const before = set!.legs!.map((id) => client.circuits().find((c) => c.id === id)?.dataCellsOut ?? 0);
    const json = await httpUpload(u, body);
    expect(json.bytes).toBe(body.length);
    expect(json.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    const after = set!.legs!.map((id) => client.circuits().find((c) => c.id === id)?.dataCellsOut ?? 0);
    const sent = after.map((n, i) => n - before[i]!);
    expect(sent.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(Math.ceil(body.length / 498));
    console.log(`[tor-conflux] upload DATA cells per leg ${sent.join(' / ')}`);
  }, 120_000);

  it('the exit linked the set (its info log)', () => {
    const exits = net.relays.filter((r) => r.role === 'exit');
    const logs = exits.map((e) => (existsSync(`${e.dataDir}/info.log`) ? readFileSync(`${e.dataDir}/info.log`, 'utf8') : ''));
    expect(logs.some((l) => l.includes('Successfully linked a conflux relay set'))).toBe(true);
  });

  it('with conflux off, streams ride single circuits', async () => {
    await clients[0]!.close();
    const client = await startClient('off');
    const s = await client.connect('127.0.0.1', origin.port, 'plain');
    const r = await httpGet(s, '/bytes/1000000');
    expect(r.sha256).toBe(deterministicBytesSha256(1_000_000));
    expect(client.circuits().some((c) => c.legs !== undefined || c.purpose === 'conflux-leg')).toBe(false);
    expect(counter(client, 'conflux-streams')).toBe(0);
    expect(counter(client, 'conflux-launched')).toBe(0);
  }, 120_000);
});
