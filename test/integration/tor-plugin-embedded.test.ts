// The default backend end to end: onionplane's own Tor client (embedded, worker thread) on the
// private network of real C tor relays, reached by curl in a namespace through onionplane's SOCKS
// port on its own TCP stack.

import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonProcess } from '../harness/daemon.js';
import { dirAuthorityStanza, printDiagnosticsOnFailure, startGateway, waitBootstrapped, waitFor, type Gateway } from '../harness/gateway.js';
import { curlSocks } from '../harness/netns-client.js';
import { deterministicBytesSha256, startOriginServer, type OriginServer } from '../harness/origin-server.js';
import { startTorNet, type TorNet } from '../harness/tornet/index.js';

const GW = '10.93.0.1';
const PROXY = `${GW}:9050`;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('embedded Tor client behind the SOCKS port', () => {
  let net: TorNet;
  let origin: OriginServer;
  let gw: Gateway;
  let ns: Gateway['ns'];
  let d: DaemonProcess;

  beforeAll(async () => {
    [net, origin] = await Promise.all([startTorNet({ relays: 2, exits: 2, referenceClient: false }), startOriginServer()]);
    gw = await startGateway({
      prefix: 'opte',
      subnet: '10.93.0',
      tor: `enabled\nbackend embedded\ndata-dir $DIR/tor\ncache-dir $DIR/tor-cache\ntest-network on\nsafe-logging off\n${dirAuthorityStanza(net.dirAuthorityLines)}`,
    });
    ({ ns, d } = gw);
    await waitBootstrapped(d);
    // A young network: C tor exits refuse streams from relays missing from their own consensus for
    // a little while after bring-up (the harness waits the same way for its reference client).
    await waitFor('a first stream through the network', async () => ((await curlSocks(ns.netns, PROXY, origin.url('/bytes/10'), [], 20_000)).code === 0 ? true : undefined), 90_000);
  }, 240_000);

  printDiagnosticsOnFailure(() => d);

  afterAll(async () => {
    await gw?.close();
    await origin?.stop();
    await net?.stop();
  });

  it('reports bootstrap progress and consensus validity', async () => {
    const s = (await d.cli('show tor status')).output;
    expect(s).toMatch(/backend: embedded, ready/);
    expect(s).toMatch(/bootstrap: 100% \(done\): Done/);
    expect(s).toMatch(/consensus: (live|reasonably live), \d+ relays, valid-after \S+/);
  });

  it('downloads 50 MB with a matching sha256', async () => {
    const r = await curlSocks(ns.netns, PROXY, origin.url('/bytes/50000000'), [], 240_000);
    expect(r.stderr).toBe('');
    expect(r.stdout.length).toBe(50_000_000);
    expect(sha(r.stdout)).toBe(deterministicBytesSha256(50_000_000));
  }, 250_000);

  it('uploads 20 MB', async () => {
    const body = randomBytes(20_000_000);
    const file = join(d.dir, 'upload.bin');
    writeFileSync(file, body);
    const r = await curlSocks(ns.netns, PROXY, origin.url('/upload'), ['--data-binary', `@${file}`, '-H', 'Content-Type: application/octet-stream'], 240_000);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.toString())).toEqual({ bytes: 20_000_000, sha256: sha(body) });
  }, 250_000);

  it('builds 3-hop circuits through distinct relays and lists them', async () => {
    const out = (await d.cli('show tor circuits')).output;
    const paths = out
      .split('\n')
      .filter((l) => / open /.test(l))
      .map((l) => l.slice(l.lastIndexOf('  ') + 2).split(' > '));
    const three = paths.filter((p) => p.length === 3);
    expect(three.length).toBeGreaterThan(0);
    for (const p of three) expect(new Set(p).size).toBe(3);
  });

  it('carries 50 concurrent streams with different isolation keys', async () => {
    const runs = Array.from({ length: 50 }, (_, i) =>
      curlSocks(ns.netns, PROXY, origin.url(`/bytes/${20_000 + i}`), ['--proxy-user', `user${i % 5}:pw`], 180_000),
    );
    const results = await Promise.all(runs);
    results.forEach((r, i) => {
      expect(r.stderr).toBe('');
      expect(sha(r.stdout)).toBe(deterministicBytesSha256(20_000 + i));
    });
    // Every stream names its circuit.
    const streams = (await d.cli('show tor streams verbose')).output;
       expect(streams).toMatch(/closed\s+\d+\s+\d+\s+\d+\s/);
    const circuits = (await d.cli('show tor circuits')).output;
    // Five SOCKS usernames: five isolation keys, each on its own circuit.
    const isolated = new Set([...circuits.matchAll(/\[([0-9a-f]{8})\]/g)].map((m) => m[1]));
    expect(isolated.size).toBeGreaterThanOrEqual(5);
  }, 200_000);

  it('shows the client channel, circuit and stream counters in show errors', async () => {
    const out = await waitFor(
      'tor-client counters',
      async () => {
        const o = (await d.cli('show errors')).output;
        return /tor-client/.test(o) ? o : undefined;
      },
      10_000,
    );
    expect(out).toMatch(/\d+\s+tor-client\s+channels opened/);
    expect(out).toMatch(/[1-9]\d*\s+tor-client\s+directory documents fetched from au/);
  });

  it('tor newnym moves new streams to new circuits', async () => {
    // The circuit of the newest stream (highest id) in `show tor streams verbose`.
    const lastCircuit = async (): Promise<string> => {
      const rows = (await d.cli('show tor streams verbose')).output.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
      const newest = rows.filter((r) => /^\d+$/.test(r[0]!)).sort((a, b) => Number(b[0]) - Number(a[0]))[0]!;
      return newest[6]!;
    };
    const first = await curlSocks(ns.netns, PROXY, origin.url('/bytes/1000'));
    expect(sha(first.stdout)).toBe(deterministicBytesSha256(1000));
    const before = await lastCircuit();
    expect(before).toMatch(/^\d+$/);
    const r = await d.cli('tor newnym');
    expect(r.failed).toBe(false);
    const next = await curlSocks(ns.netns, PROXY, origin.url('/bytes/1000'));
    expect(sha(next.stdout)).toBe(deterministicBytesSha256(1000));
    const after = await lastCircuit();
    expect(after).toMatch(/^\d+$/);
    expect(after).not.toBe(before);
  }, 120_000);
});
