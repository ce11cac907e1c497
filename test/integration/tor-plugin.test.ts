// The tor plugin end to end: curl and torsocks in a network namespace → onionplane's SOCKS port on
// its host-interface (its own TCP stack) → a backend → the private Tor network of real C tor
// daemons → the origin. Backends: managed (a tor onionplane starts), external (the harness's
// reference client), direct.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ip } from '../../src/native/veth.js';
import type { DaemonProcess } from '../harness/daemon.js';
import { dirAuthorityStanza, printDiagnosticsOnFailure, startGateway, waitBootstrapped, waitFor, type Gateway } from '../harness/gateway.js';
import { curlSocks, runInNetns } from '../harness/netns-client.js';
import { deterministicBytes, deterministicBytesSha256, startOriginServer, type OriginServer } from '../harness/origin-server.js';
import { startTorNet, type TorNet } from '../harness/tornet/index.js';

const GW = '10.91.0.1';
/** An origin address on the test's veth end in this namespace, for torsocks. */
const SIDE_ORIGIN = '10.92.0.1';
const CLIENT = '10.91.0.2';
const PROXY = `${GW}:9050`;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('tor plugin over the dataplane', () => {
  let net: TorNet;
  let origin: OriginServer;
  let gw: Gateway;
  let ns: Gateway['ns'];
  let d: DaemonProcess;

  beforeAll(async () => {
    [net, origin] = await Promise.all([startTorNet({ relays: 1, exits: 2 }), startOriginServer()]);
    gw = await startGateway({
      prefix: 'optp',
      subnet: '10.91.0',
      tor: `backend managed\ndata-dir $DIR/tor\ntest-network on\nsafe-logging off\n${dirAuthorityStanza(net.dirAuthorityLines)}`,
      setup: ['tor client enable port 9050'],
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

  it('reports the managed tor and the listener', async () => {
    const s = (await d.cli('show tor status')).output;
    expect(s).toContain('Tor client: enabled');
    expect(s).toMatch(/backend: managed \(tor\), ready/);
    expect(s).toMatch(/managed tor: running, pid \d+, tor 0\.4\.\d/);
    expect(s).toContain('listener: *:9050');
    // 1024 streams of 1 MiB rings each way are reserved; memory is committed for the first 64 only.
    expect(s).toMatch(/rings: [\d.]+ MiB committed for 64 streams, 20\d\d MiB reserved \(ring-size 1048576\)/);
    // The daemon's private writable memory stays far below the 2 GiB the rings reserve.
    const vmDataKiB = Number(/^VmData:\s+(\d+) kB/m.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'))![1]);
    expect(vmDataKiB).toBeLessThan(1024 * 1024);
  });

  it('downloads 20 MB through managed tor with a matching sha256', async () => {
    const r = await curlSocks(ns.netns, PROXY, origin.url('/bytes/20000000'));
    expect(r.stderr).toBe('');
    expect(r.stdout.length).toBe(20_000_000);
    expect(sha(r.stdout)).toBe(deterministicBytesSha256(20_000_000));
  }, 150_000);

  it('uploads 20 MB through managed tor', async () => {
    const body = randomBytes(20_000_000);
    const file = join(d.dir, 'upload.bin');
    writeFileSync(file, body);
    const r = await curlSocks(ns.netns, PROXY, origin.url('/upload'), ['--data-binary', `@${file}`, '-H', 'Content-Type: application/octet-stream']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.toString())).toEqual({ bytes: 20_000_000, sha256: sha(body) });
  }, 150_000);

  it('carries 100 concurrent curls and shows them in show tor streams with byte counts', async () => {
    const big = curlSocks(ns.netns, PROXY, origin.url('/bytes/8000000'));
    const small = Array.from({ length: 100 }, (_, i) => curlSocks(ns.netns, PROXY, origin.url(`/bytes/${10_000 + i}`)));
    // While they run, the stream table lists open streams with their byte counts.
    const listing = await waitFor(
      'open streams in show tor streams',
      async () => {
        const out = (await d.cli('show tor streams')).output;
        return / open\s+\d+\s+[1-9]\d*/.test(out) ? out : undefined;
      },
      60_000,
    );
    expect(listing).toMatch(new RegExp(`${CLIENT.replace(/\./g, '\\.')}:\\d+\\s+127\\.0\\.0\\.1:${origin.port}`));
    // Each open stream names the managed tor's circuit it rides on.
    expect(listing).toMatch(/ open\s+\d+\s+\d+\s+\d+\s/);
    const results = await Promise.all(small);
    results.forEach((r, i) => {
      expect(r.stderr).toBe('');
      expect(sha(r.stdout)).toBe(deterministicBytesSha256(10_000 + i));
    });
    expect(sha((await big).stdout)).toBe(deterministicBytesSha256(8_000_000));
    const verbose = (await d.cli('show tor streams verbose')).output;
    expect(verbose).toMatch(/closed\s+\d+\s+8000\d{3}\s/);
    const errors = (await d.cli('show errors')).output;
    expect(errors).toMatch(/tor-socks\s+CONNECT requests accepted/);
  }, 180_000);

  it('works with torsocks', async () => {
    // torsocks sends loopback destinations around the proxy, so this origin listens on an address
    // of the test's own veth end instead (the exit relays reach it in this namespace).
    await ip(['addr', 'add', `${SIDE_ORIGIN}/32`, 'dev', ns.host]);
    const server = createServer((req, res) => {
      const n = Number(/\/bytes\/(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
      res.writeHead(200, { 'content-length': n });
      res.end(deterministicBytes(0, n));
    });
    await new Promise<void>((r) => server.listen(0, SIDE_ORIGIN, r));
    const port = (server.address() as AddressInfo).port;
    try {
      const conf = join(d.dir, 'torsocks.conf');
      writeFileSync(conf, `TorAddress ${GW}\nTorPort 9050\n`);
      const r = await runInNetns(ns.netns, ['torsocks', 'curl', '-sS', '--fail', `http://${SIDE_ORIGIN}:${port}/bytes/1000000`], {
        env: { TORSOCKS_CONF_FILE: conf },
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(sha(r.stdout)).toBe(deterministicBytesSha256(1_000_000));
    } finally {
      server.close();
    }
  }, 120_000);

  it('lists circuits from the managed tor', async () => {
    const out = (await d.cli('show tor circuits')).output;
    expect(out).toMatch(/open\s+\S+\s+\S+\s+\S+\s+\S+ > \S+ > \S+/);
  });

  it('disables, changes and re-enables the listener without disturbing open streams', async () => {
    // A slow download is in flight while the listener goes away and comes back.
    const inFlight = curlSocks(ns.netns, PROXY, origin.url('/bytes/30000000'), ['--limit-rate', '10M']);
    await waitFor('the download to start', async () => (/ open\s+\d+\s+[1-9]\d*/.test((await d.cli('show tor streams')).output) ? true : undefined), 30_000);
    await d.cli('tor client disable');
    expect((await d.cli('show tor status')).output).toContain('Tor client: disabled');
    const refused = await curlSocks(ns.netns, PROXY, origin.url('/bytes/1000'), [], 10_000);
    expect(refused.code).not.toBe(0);
    // Moved to another port, then back.
    await d.cli('tor client enable port 9150');
    const moved = await curlSocks(ns.netns, `${GW}:9150`, origin.url('/bytes/100000'));
    expect(sha(moved.stdout)).toBe(deterministicBytesSha256(100_000));
    await d.cli('tor client enable port 9050');
    const r = await curlSocks(ns.netns, PROXY, origin.url('/bytes/100000'));
    expect(sha(r.stdout)).toBe(deterministicBytesSha256(100_000));
    const big = await inFlight;
    expect(big.stderr).toBe('');
    expect(sha(big.stdout)).toBe(deterministicBytesSha256(30_000_000));
  }, 120_000);

  it('switches to the external backend (the reference C tor client)', async () => {
    const e = await d.cli(`tor client enable port 9050 backend external 127.0.0.1:${net.socksPort}`);
    expect(e.failed).toBe(false);
    expect((await d.cli('show tor status')).output).toMatch(/backend: external 127\.0\.0\.1:\d+, ready/);
    const r = await curlSocks(ns.netns, PROXY, origin.url('/bytes/5000000'));
    expect(sha(r.stdout)).toBe(deterministicBytesSha256(5_000_000));
  }, 120_000);

  it('switches to the direct backend only with the acknowledgement', async () => {
    const refused = await d.cli('tor client enable port 9050 backend direct');
    expect(refused.failed).toBe(true);
    expect(refused.output).toMatch(/not anonymous/);
    await d.cli('tor client enable port 9050 backend direct i-understand-this-is-not-anonymous');
    const r = await curlSocks(ns.netns, PROXY, origin.url('/bytes/5000000'));
    expect(sha(r.stdout)).toBe(deterministicBytesSha256(5_000_000));
  }, 60_000);
});
