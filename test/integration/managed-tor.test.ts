// The managed tor against a private network of real C tor daemons: onionplane writes the torrc,
// starts Debian's tor, authenticates to its control port with the cookie, follows bootstrap,
// restarts it when it dies, and stops it.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCircuitStatus } from '../../src/tor-daemon/control-reply.js';
import { ManagedTor } from '../../src/tor-daemon/tor-process.js';
import { deterministicBytesSha256, startOriginServer, type OriginServer } from '../harness/origin-server.js';
import { startTorNet, type TorNet } from '../harness/tornet/index.js';
import { socks5Fetch } from '../harness/socks-fetch.js';

describe('managed tor on a private network', () => {
  let net: TorNet;
  let origin: OriginServer;
  let tor: ManagedTor;
  let dataDir: string;
  const progress: number[] = [];

  beforeAll(async () => {
    [net, origin] = await Promise.all([startTorNet({ relays: 1, exits: 2, referenceClient: false }), startOriginServer()]);
    dataDir = mkdtempSync(join(tmpdir(), 'onionplane-managed-'));
    tor = new ManagedTor({
      torBinary: 'tor',
      dataDir,
      dirAuthorities: net.dirAuthorityLines,
      testNetwork: true,
      ownerPid: process.pid,
      onStatus: (s) => s.bootstrap && progress.push(s.bootstrap.progress),
    });
  }, 180_000);

  afterAll(async () => {
    await tor?.stop();
    await origin?.stop();
    await net?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts tor, follows bootstrap to 100% and carries a stream', async () => {
    await tor.start();
    expect(tor.status.controlPort).toBeGreaterThan(0);
    expect(tor.status.torVersion).toMatch(/^0\.4\./);
    await tor.waitBootstrapped(120_000);
    expect(progress.at(-1)).toBe(100);
    // A young network: exits refuse streams from relays missing from their own consensus for a little
    // while after bring-up, and tor answers those with a general failure; retry as a user would.
    let body: Buffer | undefined;
    for (let attempt = 0; !body; attempt++) {
      try {
        body = await socks5Fetch({ socksPort: tor.status.socksPort!, host: '127.0.0.1', port: origin.port, path: '/bytes/1000000' });
      } catch (e) {
        if (attempt >= 20 || !/reply 1\b/.test(String(e))) throw e;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    expect(createHash('sha256').update(body).digest('hex')).toBe(deterministicBytesSha256(1_000_000));
    const circuits = (await tor.controlClient!.getinfo('circuit-status')).get('circuit-status') ?? '';
    const built = circuits.split('\n').map(parseCircuitStatus).filter((c) => c?.status === 'BUILT');
    expect(built.length).toBeGreaterThan(0);
  }, 180_000);

  it('restarts tor when it dies and stops it on request', async () => {
    const firstPid = tor.status.pid!;
    process.kill(firstPid, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    while ((tor.status.pid === firstPid || tor.status.state === 'restarting') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(tor.status.restarts).toBe(1);
    expect(tor.status.pid).not.toBe(firstPid);
    await tor.waitBootstrapped(120_000);
    const pid = tor.status.pid!;
    await tor.stop();
    expect(tor.status.state).toBe('stopped');
    expect(() => process.kill(pid, 0)).toThrow();
  }, 180_000);
});
