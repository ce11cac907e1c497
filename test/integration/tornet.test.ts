// Acceptance for the private Tor network harness: 3 authorities, 5 relays (2 exits), an onion service and the
// reference C tor client come up in under 90 s; a 10 MB download and an upload go through the reference
// client's SOCKS port to the origin on 127.0.0.1; the onion service answers; stop() leaves nothing behind.

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicBytesSha256, startOriginServer, type OriginServer } from '../harness/origin-server.js';
import { emitQuery, parseResponse, RrType } from '../harness/tornet/dns-wire.js';
import { fetchConsensus, ORIGIN_HOSTNAME, parseDirAuthorityLine, startTorNet, TorNetError, type TorNet, type TorNetDescription } from '../harness/tornet/index.js';

interface CurlResult {
  code: number;
  sha256: string;
  bytes: number;
  stderr: string;
}

/** Runs curl through the reference client, hashing stdout as it streams. */
function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-sS', '--fail', '--max-time', '60', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const h = createHash('sha256');
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      h.update(c);
      bytes += c.length;
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, sha256: h.digest('hex'), bytes, stderr }));
  });
}

/** PIDs of live processes whose command line mentions `needle` (our daemons name their torrc under the root). */
function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) found.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

describe('tornet: private network of C tor daemons', () => {
  let origin: OriginServer;
  let net: TorNet;
  const progress: string[] = [];

  beforeAll(async () => {
    origin = await startOriginServer();
    try {
      net = await startTorNet({
        authorities: 3,
        relays: 3,
        exits: 2,
        onionService: { targetPort: origin.port },
        referenceClient: true,
        consensusParams: ['sendme_accept_min_version=1'],
        log: (line) => progress.push(line),
      });
    } catch (e) {
      await origin.stop();
      throw e;
    }
    console.log(`${progress.join('\n')}\ntornet bring-up: ${net.bringUpMs} ms`);
  }, 180_000);

  afterAll(async () => {
    await net?.stop();
    await origin?.stop();
  });

  it('comes up in under 90 s with every node described', async () => {
    expect(net.bringUpMs).toBeLessThan(90_000);
    expect(net.authorities).toHaveLength(3);
    expect(net.relays).toHaveLength(5);
    expect(net.relays.filter((r) => r.role === 'exit')).toHaveLength(2);
    for (const n of [...net.authorities, ...net.relays]) {
      expect(n.rsaFingerprint).toMatch(/^[0-9A-F]{40}$/);
      expect(n.ed25519Id).toMatch(/^[A-Za-z0-9+/]{43}$/);
      expect(n.orPort).toBeGreaterThan(0);
      expect(fs.existsSync(n.dataDir)).toBe(true);
    }
    expect(net.onionAddress).toMatch(/^[a-z2-7]{56}\.onion$/);
    expect(net.socksPort).toBe(net.client?.socksPort);

    const parsed = net.dirAuthorityLines.map(parseDirAuthorityLine);
    expect(parsed.map((p) => p.v3ident)).toEqual(net.authorities.map((a) => a.v3ident));
    expect(parsed.map((p) => p.rsaFingerprint)).toEqual(net.authorities.map((a) => a.rsaFingerprint));
    expect(parsed.map((p) => p.dirPort)).toEqual(net.authorities.map((a) => a.dirPort));
  });

  it('serves a consensus that lists every relay and carries the extra parameter', async () => {
    const consensus = await fetchConsensus(net.authorities[0]!.dirPort!);
    expect(consensus).toBeDefined();
    const listed = new Map(consensus!.relays.map((r) => [r.rsaFingerprint, r]));
    for (const n of [...net.authorities, ...net.relays]) {
      const r = listed.get(n.rsaFingerprint!);
      expect(r, n.nickname).toBeDefined();
      expect(r!.nickname).toBe(n.nickname);
      expect(r!.orPort).toBe(n.orPort);
      expect(r!.flags).toEqual(expect.arrayContaining(['Running', 'Valid', 'Guard', 'HSDir']));
    }
    expect(consensus!.params['sendme_accept_min_version']).toBe(1);
  });

  it('fetches 10 MB from the origin through the reference client', async () => {
    const size = 10 * 1024 * 1024;
    const r = await curl(['--socks5-hostname', `127.0.0.1:${net.socksPort}`, origin.url(`/bytes/${size}`)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.bytes).toBe(size);
    expect(r.sha256).toBe(deterministicBytesSha256(size));
  }, 90_000);

  it('uploads to the origin through the reference client', async () => {
    const size = 300_000;
    const file = `${net.root}/upload.bin`;
    const body = Buffer.alloc(size, 0x5a);
    fs.writeFileSync(file, body);
    const r = await curl(['--socks5-hostname', `127.0.0.1:${net.socksPort}`, '--data-binary', `@${file}`, origin.url('/upload')]);
    expect(r.code).toBe(0);
    const sha = createHash('sha256').update(body).digest('hex');
    expect(origin.uploads.at(-1)).toEqual({ bytes: size, sha256: sha });
  }, 60_000);

  it('resolves the harness zone at the exits: curl to http://origin.tornet.test through the reference client', async () => {
    expect(net.dns?.zone).toBe('tornet.test');
    const r = await curl(['--socks5-hostname', `127.0.0.1:${net.socksPort}`, `http://${ORIGIN_HOSTNAME}:${origin.port}/bytes/1000`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.sha256).toBe(deterministicBytesSha256(1000));
  }, 60_000);

  it('reaches the onion service through the reference client', async () => {
    const size = 1_000_000;
    const r = await curl(['--socks5-hostname', `127.0.0.1:${net.socksPort}`, `http://${net.onionAddress}/bytes/${size}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.sha256).toBe(deterministicBytesSha256(size));
  }, 60_000);

  it('stops every daemon and removes its directories', async () => {
    const pids = [...net.authorities, ...net.relays, net.onionService!, net.client!].map((n) => n.pid);
    expect(processesMentioning(net.root).sort()).toEqual([...pids].sort());
    await net.stop();
    for (const pid of pids) expect(fs.existsSync(`/proc/${pid}/cmdline`) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(net.root)).toBe(false);
    expect(processesMentioning(net.root)).toEqual([]);
    expect(fs.existsSync(net.root)).toBe(false);
    // The DNS server's UDP port is free again.
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: net.dns!.host, port: net.dns!.port, exclusive: true }, () => resolve());
    });
    sock.close();
    await net.stop(); // idempotent
  }, 30_000);
});

describe('tornet: failed bring-up', () => {
  it('times out with log tails and leaves nothing behind', async () => {
    const printed: string[] = [];
    const err = await startTorNet({ authorities: 1, relays: 0, exits: 0, referenceClient: false, timeoutMs: 3_000, log: (l) => printed.push(l) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TorNetError);
    const message = (err as TorNetError).message;
    expect(message).toMatch(/timed out after 3000 ms/);
    expect((err as TorNetError).logTails).toMatch(/----- auth0 \(authority, pid \d+\)/);
    expect(printed.at(-1)).toContain((err as TorNetError).logTails);
    const root = /(\/\S+\/onionplane-tornet-[^/\s]+)\//.exec(message)?.[1];
    expect(root).toBeDefined();
    expect(fs.existsSync(root!)).toBe(false);
    expect(processesMentioning(root!)).toEqual([]);
  }, 60_000);
});

// The CLI behind `npm run tornet`, compiled on the fly (only its own import graph) so the test does not depend
// on a prior build. A one-authority network keeps each run to a few seconds.
describe('tornet CLI: up / status / down, foreground interrupt, owner killed', () => {
  // Made in beforeAll, which vitest skips (with afterAll) when every test here is filtered out.
  let work: string;
  let state: string;
  let small: string[];
  let cli: string;

  function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [cli, ...args], { timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
  }

  function readState(): { root: string; authorities: { pid: number }[] } {
    return JSON.parse(fs.readFileSync(state, 'utf8')) as { root: string; authorities: { pid: number }[] };
  }

  async function waitGone(root: string, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (processesMentioning(root).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  }

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'onionplane-tornet-cli-'));
    state = path.join(work, 'state.json');
    small = ['--authorities', '1', '--relays', '0', '--exits', '0', '--no-client', '--root', path.join(work, 'roots'), '--state', state];
    const out = path.join(work, 'build');
    const tsc = path.resolve('node_modules/typescript/bin/tsc');
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        [tsc, '--outDir', out, '--rootDir', path.resolve('.'), '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
          '--types', 'node', '--skipLibCheck', '--strict', path.resolve('test/harness/tornet-cli.ts'),
          // Spawned (not imported) by the harness for a detached network's DNS server.
          path.resolve('test/harness/tornet/dns-serve.ts')],
        (err, stdout) => (err ? reject(new Error(`tsc failed: ${stdout}`)) : resolve()),
      ),
    );
    fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}\n');
    cli = path.join(out, 'test/harness/tornet-cli.js');
  }, 60_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('up leaves a detached network that status reports and down removes', async () => {
    const up = await run(['up', '--param', 'sendme_accept_min_version=1', ...small]);
    expect(up.stderr).toMatch(/tornet: up in \d+ ms/);
    expect(up.code).toBe(0);
    const { root, authorities } = readState();
    expect(processesMentioning(root)).toEqual([authorities[0]!.pid]);

    const status = await run(['status', '--state', state]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/auth0 +authority +pid \d+ +running/);
    expect(status.stdout).toContain('consensus params sendme_accept_min_version=1');
    expect((await run(['up', ...small])).stderr).toMatch(/already running/);

    const down = await run(['down', '--state', state]);
    expect(down.code).toBe(0);
    expect(processesMentioning(root)).toEqual([]);
    expect(fs.existsSync(root)).toBe(false);
    expect(fs.existsSync(state)).toBe(false);
    expect((await run(['status', '--state', state])).code).toBe(3);
  }, 120_000);

  it('a detached network with an exit keeps its DNS server as a process that down stops', async () => {
    const withExit = small.map((a, i) => (small[i - 1] === '--exits' ? '1' : a));
    const up = await run(['up', ...withExit]);
    expect(up.code, up.stderr).toBe(0);
    const d = JSON.parse(fs.readFileSync(state, 'utf8')) as TorNetDescription;
    const dns = d.dns!;
    expect(dns.pid).toBeGreaterThan(0);
    expect(processesMentioning(d.root).sort()).toEqual([d.authorities[0]!.pid, d.relays[0]!.pid, dns.pid!].sort());
    // The CLI has exited; the server still answers for the exits.
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const sock = dgram.createSocket('udp4');
      const timer = setTimeout(() => reject(new Error('no DNS answer')), 5000);
      sock.once('message', (m) => {
        clearTimeout(timer);
        sock.close();
        resolve(m);
      });
      sock.send(emitQuery(7, ORIGIN_HOSTNAME, RrType.A), dns.port, dns.host);
    });
    const parsed = parseResponse(reply);
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(parsed.answers.map((a) => [...a.data].join('.'))).toEqual(['127.0.0.1']);
    expect(fs.readFileSync(dns.resolvConfFile, 'utf8')).toBe(`nameserver 127.0.0.1:${dns.port}\n`);

    expect((await run(['down', '--state', state])).code).toBe(0);
    expect(processesMentioning(d.root)).toEqual([]);
    expect(fs.existsSync(d.root)).toBe(false);
  }, 120_000);

  it('a foreground network stops on SIGINT', async () => {
    const child = spawn(process.execPath, [cli, 'up', '--foreground', ...small], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes('running in the foreground')) resolve();
      });
      child.on('exit', () => reject(new Error(`CLI exited early:\n${stderr}`)));
    });
    const { root } = readState();
    expect(processesMentioning(root)).toHaveLength(1);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(processesMentioning(root)).toEqual([]);
    expect(fs.existsSync(root)).toBe(false);
    expect(fs.existsSync(state)).toBe(false);
  }, 120_000);

  it('daemons of a SIGKILLed owner exit by themselves and the next start sweeps the root', async () => {
    const child = spawn(process.execPath, [cli, 'up', '--foreground', ...small], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes('running in the foreground')) resolve();
      });
      child.on('exit', () => reject(new Error(`CLI exited early:\n${stderr}`)));
    });
    const { root } = readState();
    child.kill('SIGKILL');
    // tor polls its owning process every 15 s (__OwningControllerProcess).
    await waitGone(root, 40_000);
    expect(processesMentioning(root)).toEqual([]);
    expect(fs.existsSync(root)).toBe(true);

    const up = await run(['up', ...small]);
    expect(up.code).toBe(0);
    expect(up.stderr).toContain(`removed abandoned ${root}`);
    expect(fs.existsSync(root)).toBe(false);
    expect((await run(['down', '--state', state])).code).toBe(0);
  }, 150_000);
});
