// Differential test: the same client bytes to C tor's SocksPort and to our engine must get the same
// answer (reply bytes, and whether the connection is closed). The tor daemon is kept off the network:
// its only "bridge" is 127.0.0.1:1, so it never bootstraps and never leaves loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socks5ClientSession, SocksServerSession, type Socks5ClientOptions } from '../../../src/socks/index.js';
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

/**
 * Send the parts one at a time, each only after tor answered the previous one: C tor answers only the
 * last message of a pipelined handshake, so coalesced parts would change its reply. After the last part,
 * collect until tor closes, or has sent `expectLen` bytes and then stays quiet.
 */
function probeTor(port: number, parts: Uint8Array[], expectLen: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    let gotLen = 0;
    let closed = false;
    let onChange: (() => void) | undefined;
    const changed = () => onChange?.();
    const until = (pred: () => boolean, maxMs: number) =>
      new Promise<void>((r) => {
        const t = setTimeout(() => ((onChange = undefined), r()), maxMs);
        onChange = () => {
          if (pred()) {
            clearTimeout(t);
            onChange = undefined;
            r();
          }
        };
        changed();
      });
    sock.on('data', (d) => {
      got.push(d);
      gotLen += d.length;
      changed();
    });
    const onClose = () => {
      closed = true;
      changed();
    };
    sock.on('end', onClose);
    sock.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? onClose() : reject(e)));
    sock.on('connect', async () => {
      for (let i = 0; i < parts.length; i++) {
        const before = gotLen;
        sock.write(parts[i]!);
        if (i < parts.length - 1) await until(() => closed || gotLen > before, 5000);
      }
      await until(() => closed || gotLen >= expectLen, 5000);
      if (!closed) await until(() => closed, 250);
      sock.destroy();
      resolve({ reply: Buffer.concat(got).toString('hex'), closed });
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
      // Up means: answers a SOCKS5 greeting (the port can accept before the main loop serves it).
      const up = await new Promise<boolean>((r) => {
        const s = createConnection({ host: '127.0.0.1', port }, () => s.write(Uint8Array.of(5, 1, 0)));
        s.on('data', () => (s.destroy(), r(true)));
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
    const results = await Promise.all(
      CASES.map(async ([name, parts]) => {
        const ours = probeEngine(parts);
        return { name, ours, tor: await probeTor(port, parts, ours.reply.length / 2) };
      }),
    );
    for (const r of results) expect({ case: r.name, ...r.ours }).toEqual({ case: r.name, ...r.tor });
  });

  it('HTTP on the SOCKS port: same status line, connection closed', async () => {
    const req = [new Uint8Array(Buffer.from('GET / HTTP/1.0\r\n\r\n'))];
    const t = await probeTor(port, req, 1);
    const o = probeEngine(req);
    const statusLine = (x: Outcome) => Buffer.from(x.reply, 'hex').toString('latin1').split('\r\n')[0];
    expect(statusLine(o)).toBe(statusLine(t));
    expect(o.closed).toBe(t.closed);
  });

  it('known, deliberate differences', async () => {
    // Unknown ATYP: RFC 1928 says 0x08 (tor says 0x01).
    const atyp = [G, h('0501000200000000000000')];
    expect((await probeTor(port, atyp, 12)).reply).toBe('0500' + '05010001000000000000');
    expect(probeEngine(atyp).reply).toBe('0500' + '05080001000000000000');
    // A hostname that is an IP literal is IP-only too: safe-socks refuses it (tor lets it through).
    const literal = [G, Uint8Array.of(5, 1, 0, 3, 7, ...Buffer.from('1.2.3.4'), 0, 80)];
    expect(await probeTor(port, literal, 2)).toEqual({ reply: '0500', closed: false });
    expect(probeEngine(literal)).toEqual({ reply: '0500' + '05020001000000000000', closed: true });
  });

  it('C tor answers only the last message of a pipelined handshake', async () => {
    // Greeting + request in one segment: no method-selection reply, just the request's reply.
    const t = await probeTor(port, [h('050100' + '05010001010203040050')], 10);
    expect(t).toEqual({ reply: '05020001000000000000', closed: true });
    // Our engine answers every message, in order, as RFC 1928 describes.
    expect(probeEngine([h('050100' + '05010001010203040050')]).reply).toBe('0500' + '05020001000000000000');
  });

  it('the client session reads C tor replies', async () => {
    const run = (opts: Socks5ClientOptions) =>
      new Promise<unknown>((resolve, reject) => {
        const c = new Socks5ClientSession(opts);
        const sock = createConnection({ host: '127.0.0.1', port }, () => sock.write(c.start()));
        const timer = setTimeout(() => (sock.destroy(), resolve('pending')), 300);
        sock.on('data', (d) => {
          const r = c.receive(d);
          if (r.send) sock.write(r.send);
          if (r.outcome) {
            clearTimeout(timer);
            sock.destroy();
            resolve(r.outcome);
          }
        });
        sock.on('error', reject);
      });
    expect(await run({ command: 'connect', target: { kind: 'ipv4', addr: '1.2.3.4', port: 80 } })).toEqual({ status: 'failed', code: 0x02 });
    expect(await run({ command: 'resolve_ptr', target: { kind: 'host', host: 'abc', port: 0 }, auth: { username: 'k', password: '' } })).toEqual({ status: 'failed', code: 0x08 });
    expect(await run({ command: 'connect', target: { kind: 'host', host: 'example.com', port: 80 }, auth: { username: 'k', password: 'x' } })).toBe('pending');
  });
});
