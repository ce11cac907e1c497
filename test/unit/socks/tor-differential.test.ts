// Differential test: the same client bytes to C tor's SocksPort and to our engine must get the same
// answer (reply bytes, and whether the connection is closed). The tor daemon is kept off the network:
// its only "bridge" is 127.0.0.1:1, so it never bootstraps and never leaves loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SocksServerSession } from '../../../src/socks/index.js';
import { baseConfig, CLIENT, hex, toHex } from './helpers.js';

const torAvailable = spawnSync('tor', ['--version']).status === 0;

interface Outcome {
  reply: string;
  closed: boolean;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Send the parts (a pause between each), then collect until close or a quiet period. */
function probeTor(port: number, parts: Uint8Array[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = (closed: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ reply: Buffer.concat(got).toString('hex'), closed });
    };
    sock.on('data', (d) => got.push(d));
    sock.on('end', () => done(true));
    sock.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? done(true) : reject(e)));
    sock.on('connect', async () => {
      for (const p of parts) {
        sock.write(p);
        await new Promise((r) => setTimeout(r, 60));
      }
      timer = setTimeout(() => done(false), 300);
    });
  });
}

function probeEngine(parts: Uint8Array[]): Outcome {
  const { session } = SocksServerSession.accept({ ...baseConfig, safeSocks: true, extendedErrors: true }, CLIENT, 0);
  let reply = '';
  let closed = false;
  for (const p of parts) {
    for (const a of session.receive(p, 1)) {
      if (a.type === 'send') reply += toHex(a.bytes);
      if (a.type === 'close') closed = true;
    }
  }
  return { reply, closed };
}

const h = (s: string) => hex(s);
const G = h('050100');
const CASES: [string, Uint8Array[]][] = [
  ['greeting no-auth', [G]],
  ['greeting user/pass', [h('050102')]],
  ['greeting both methods', [h('05020002')]],
  ['greeting GSSAPI only', [h('050101')]],
  ['user/pass accepted', [h('050102'), h('0101610162')]],
  ['user/pass bad version', [h('050102'), h('0500')]],
  ['BIND', [G, h('050200030161' + '0050')]],
  ['UDP ASSOCIATE', [G, h('050300030161' + '0050')]],
  ['unknown command', [G, h('050900030161' + '0050')]],
  ['CONNECT hostname (held open)', [G, h('05010003' + '0b' + Buffer.from('example.com').toString('hex') + '0050')]],
  ['CONNECT IPv4 under SafeSocks', [G, h('050100017f0000010050')]],
  ['CONNECT IPv6 under SafeSocks', [G, h('05010004' + '00'.repeat(15) + '01' + '0050')]],
  ['RESOLVE IPv4 under SafeSocks', [G, h('05f00001010203040000')]],
  ['hostname with a space', [G, h('0501000303612062' + '0050')]],
  ['empty hostname', [G, h('05010003000050')]],
  ['RESOLVE_PTR of a name', [G, h('05f10003036162630000')]],
  ['SOCKS4 CONNECT IPv4 under SafeSocks', [h('040100507f00000100')]],
  ['SOCKS4 BIND', [h('0402005000000001006100')]],
  ['SOCKS4 address 0.0.0.0', [h('040100500000000000')]],
  ['SOCKS4a CONNECT hostname (held open)', [h('0401005000000001' + '00' + Buffer.from('example.com').toString('hex') + '00')]],
];

describe.skipIf(!torAvailable)('SOCKS replies match C tor', () => {
  let tor: ChildProcess | undefined;
  let dir = '';
  let port = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'onionplane-tor-'));
    chmodSync(dir, 0o700);
    port = await freePort();
    writeFileSync(
      join(dir, 'torrc'),
      [
        `DataDirectory ${dir}`,
        `SocksPort 127.0.0.1:${port} ExtendedErrors`,
        'SafeSocks 1',
        'UseBridges 1',
        'Bridge 127.0.0.1:1',
        'AvoidDiskWrites 1',
        'Log err stderr',
      ].join('\n'),
    );
    tor = spawn('tor', ['-f', join(dir, 'torrc'), '--RunAsDaemon', '0'], { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      const up = await new Promise<boolean>((r) => {
        const s = createConnection({ host: '127.0.0.1', port }, () => (s.destroy(), r(true)));
        s.on('error', () => r(false));
      });
      if (up) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('tor SocksPort did not open');
  }, 30_000);

  afterAll(async () => {
    if (tor && tor.exitCode === null) {
      const exited = new Promise((r) => tor!.once('exit', r));
      tor.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('for every case in the table', async () => {
    // One at a time: with many probes in flight at once, replies from tor arrived incomplete.
    const results = [];
    for (const [name, parts] of CASES) results.push({ name, tor: await probeTor(port, parts), ours: probeEngine(parts) });
    for (const r of results) expect({ case: r.name, ...r.ours }).toEqual({ case: r.name, ...r.tor });
  });

  it('HTTP on the SOCKS port: same status line, connection closed', async () => {
    const req = [new Uint8Array(Buffer.from('GET / HTTP/1.0\r\n\r\n'))];
    const t = await probeTor(port, req);
    const o = probeEngine(req);
    const statusLine = (x: Outcome) => Buffer.from(x.reply, 'hex').toString('latin1').split('\r\n')[0];
    expect(statusLine(o)).toBe(statusLine(t));
    expect(o.closed).toBe(t.closed);
  });

  it('known, deliberate differences', async () => {
    // Unknown ATYP: RFC 1928 says 0x08 (tor says 0x01).
    const atyp = [G, h('0501000200000000000000')];
    expect((await probeTor(port, atyp)).reply).toBe('0500' + '05010001000000000000');
    expect(probeEngine(atyp).reply).toBe('0500' + '05080001000000000000');
    // A hostname that is an IP literal is IP-only too: safe-socks refuses it (tor lets it through).
    const literal = [G, Uint8Array.of(5, 1, 0, 3, 7, ...Buffer.from('1.2.3.4'), 0, 80)];
    expect(await probeTor(port, literal)).toEqual({ reply: '0500', closed: false });
    expect(probeEngine(literal)).toEqual({ reply: '0500' + '05020001000000000000', closed: true });
  });
});
