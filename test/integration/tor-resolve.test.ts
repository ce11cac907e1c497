// Names through the private network: the harness's own DNS server (the machine is offline) answers the
// exits, so SOCKS RESOLVE (0xF0), RESOLVE_PTR (0xF1) and CONNECT to a hostname work end to end, first
// through the reference C tor client, then through onionplane's SOCKS port with the embedded backend.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirAuthorityStanza, printDiagnosticsOnFailure, startGateway, waitBootstrapped, waitFor, type Gateway } from '../harness/gateway.js';
import { curlSocks, runInNetns } from '../harness/netns-client.js';
import { deterministicBytesSha256, startOriginServer, type OriginServer } from '../harness/origin-server.js';
import { emitQuery, encodeName, parseResponse, RrType } from '../harness/tornet/dns-wire.js';
import { DnsZone, ORIGIN_HOSTNAME, reverseName, startTorNet, type TorNet } from '../harness/tornet/index.js';
import { decodeReply, type Socks5ReplyMessage } from '../../src/socks/client.js';

const UNKNOWN_HOSTNAME = 'nowhere.tornet.test';
/** Outside the zone: the harness answers NXDOMAIN for the whole world. */
const FOREIGN_HOSTNAME = 'www.example.com';
/** A second name for the origin, to see records beyond the default one. */
const ALIAS_HOSTNAME = 'www.tornet.test';
/**
 * C tor exits refuse reverse lookups of internal addresses (127/8, 10/8, …) before asking DNS, so the
 * PTR checks use a documentation address (TEST-NET-1), which the zone maps back to this name.
 */
const PTR_HOSTNAME = 'ptr.tornet.test';
const PTR_ADDRESS = '192.0.2.10';
const SOCKS5_HOST_UNREACHABLE = 0x04;
const SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED = 0x08;
/** A well-formed v3 onion address nobody serves: it must never reach an exit (nor its DNS). */
const ONION_ADDRESS = `${'b'.repeat(56)}.onion`;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * One SOCKS5 exchange (no auth) as a separate node process, optionally inside a network namespace:
 * greeting, then `request` (hex), then the reply bytes as hex on stdout. The child stops after one
 * complete reply, on close, or after its timeout.
 */
const EXCHANGE_SCRIPT = `
const net = require('node:net');
const [host, port, requestHex, timeoutMs] = JSON.parse(process.env.SOCKS_EXCHANGE);
let buf = Buffer.alloc(0), stage = 0;
const done = () => { process.stdout.write(buf.toString('hex')); process.exit(0); };
setTimeout(done, timeoutMs);
const s = net.connect({ host, port }, () => s.write(Buffer.from([5, 1, 0])));
s.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (stage === 0 && buf.length >= 2) { buf = buf.subarray(2); stage = 1; s.write(Buffer.from(requestHex, 'hex')); }
  if (stage === 1 && buf.length >= 5) {
    const atyp = buf[3];
    const need = atyp === 1 || atyp === 0 ? 10 : atyp === 4 ? 22 : 7 + buf[4];
    if (buf.length >= need) done();
  }
});
s.on('error', done);
s.on('close', done);
`;

function socksRequest(command: number, target: { host: string } | { ipv4: string }, port = 0): Buffer {
  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  if ('host' in target) {
    const name = Buffer.from(target.host, 'latin1');
    return Buffer.concat([Buffer.from([5, command, 0, 3, name.length]), name, portBytes]);
  }
  return Buffer.concat([Buffer.from([5, command, 0, 1, ...target.ipv4.split('.').map(Number)]), portBytes]);
}

async function socksExchange(netns: string | undefined, proxyHost: string, proxyPort: number, request: Buffer, timeoutMs = 60_000): Promise<Socks5ReplyMessage> {
  const env = { SOCKS_EXCHANGE: JSON.stringify([proxyHost, proxyPort, request.toString('hex'), timeoutMs]) };
  const argv = [process.execPath, '-e', EXCHANGE_SCRIPT];
  const out = netns
    ? (await runInNetns(netns, argv, { env, timeoutMs: timeoutMs + 5000 })).stdout.toString()
    : await new Promise<string>((resolve) => {
        const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
        let s = '';
        child.stdout.on('data', (d: Buffer) => (s += d.toString()));
        child.on('close', () => resolve(s));
      });
  const r = decodeReply(Buffer.from(out, 'hex'));
  if (r.status !== 'ok') throw new Error(`no complete SOCKS5 reply (${r.status === 'error' ? r.error : 'incomplete'}): "${out}"`);
  return r.value;
}

const RESOLVE = 0xf0;
const RESOLVE_PTR = 0xf1;

/** curl on the host (reference client) or in a namespace (onionplane), remote name resolution. */
function curl(netns: string | undefined, proxy: string, url: string, timeoutMs = 60_000): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  if (netns) return curlSocks(netns, proxy, url, [], timeoutMs);
  return new Promise((resolve) => {
    const child = spawn('curl', ['-sS', '--fail', '--max-time', String(timeoutMs / 1000), '--socks5-hostname', proxy, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

function udpQuery(port: number, name: string, type: number): Promise<ReturnType<typeof parseResponse>> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error('DNS query timed out'));
    }, 5000);
    sock.once('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(parseResponse(msg));
    });
    sock.send(emitQuery(0x1234, name, type), port, '127.0.0.1');
  });
}

function tcpQuery(port: number, name: string, type: number): Promise<ReturnType<typeof parseResponse>> {
  return new Promise((resolve, reject) => {
    const q = emitQuery(0x4321, name, type);
    const prefix = Buffer.from([q.length >> 8, q.length & 0xff]);
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(Buffer.concat([prefix, q])));
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.destroy();
        resolve(parseResponse(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    s.on('error', reject);
  });
}

describe('the harness DNS zone (no network)', () => {
  const zone = new DnsZone({ [ORIGIN_HOSTNAME]: '127.0.0.1' });
  const rcode = (reply: Uint8Array | undefined): number | undefined => (reply === undefined ? undefined : reply[3]! & 0xf);

  it('answers malformed or unsupported messages with FORMERR/NOTIMP, drops headerless ones and responses', () => {
    const q = Buffer.from(emitQuery(9, ORIGIN_HOSTNAME, RrType.A));
    expect(rcode(zone.answer(q, 512))).toBe(0);
    expect(rcode(zone.answer(q.subarray(0, q.length - 2), 512))).toBe(1); // question cut short
    const loop = Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]); // name points at itself
    expect(rcode(zone.answer(loop, 512))).toBe(1);
    const notify = Buffer.from(q);
    notify[2] = (notify[2]! & 0x87) | (4 << 3); // opcode NOTIFY
    expect(rcode(zone.answer(notify, 512))).toBe(4);
    const response = Buffer.from(q);
    response[2] = response[2]! | 0x80;
    expect(zone.answer(response, 512)).toBeUndefined();
    expect(zone.answer(q.subarray(0, 5), 512)).toBeUndefined();
    expect(() => new DnsZone({ 'origin.elsewhere.test': '127.0.0.1' })).toThrow(/outside the zone/);
  });

  it('never throws on arbitrary bytes and echoes the question with its id', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const reply = zone.answer(bytes, 512);
        if (reply !== undefined) {
          expect(reply.length).toBeLessThanOrEqual(512);
          expect(reply[0]).toBe(bytes[0]);
          expect(reply[1]).toBe(bytes[1]);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('names resolved at the exits of the private network', () => {
  let origin: OriginServer;
  let tornet: TorNet;

  beforeAll(async () => {
    origin = await startOriginServer();
    try {
      tornet = await startTorNet({
        relays: 2,
        exits: 2,
        dns: { records: { [ORIGIN_HOSTNAME]: '127.0.0.1', [ALIAS_HOSTNAME]: ['127.0.0.1', '::1'], [PTR_HOSTNAME]: PTR_ADDRESS } },
      });
    } catch (e) {
      await origin.stop();
      throw e;
    }
  }, 200_000);

  afterAll(async () => {
    await tornet?.stop();
    await origin?.stop();
  });

  describe('the harness DNS server', () => {
    it('is described and named in every exit torrc', async () => {
      const dns = tornet.dns!;
      expect(dns.host).toBe('127.0.0.1');
      expect(dns.zone).toBe('tornet.test');
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(dns.resolvConfFile, 'utf8')).toBe(`nameserver 127.0.0.1:${dns.port}\n`);
      for (const r of tornet.relays) {
        const torrc = readFileSync(r.torrcFile, 'utf8');
        expect(torrc.includes(`ServerDNSResolvConfFile ${dns.resolvConfFile}`)).toBe(r.role === 'exit');
      }
    });

    it('answers A, AAAA, PTR, NODATA and NXDOMAIN over UDP and TCP', async () => {
      const port = tornet.dns!.port;
      for (const query of [udpQuery, tcpQuery]) {
        const a = await query(port, 'OrIgIn.TorNet.Test', RrType.A);
        if (typeof a === 'string') throw new Error(a);
        expect(a.rcode).toBe(0);
        expect(a.authoritative).toBe(true);
        expect(a.answers.map((x) => [x.type, [...x.data].join('.')])).toEqual([[RrType.A, '127.0.0.1']]);

        const nodata = await query(port, ORIGIN_HOSTNAME, RrType.AAAA);
        if (typeof nodata === 'string') throw new Error(nodata);
        expect([nodata.rcode, nodata.answers.length]).toEqual([0, 0]);

        const v6 = await query(port, ALIAS_HOSTNAME, RrType.AAAA);
        if (typeof v6 === 'string') throw new Error(v6);
        expect(v6.answers.map((x) => Buffer.from(x.data).toString('hex'))).toEqual(['00000000000000000000000000000001']);

        for (const [addr, name] of [['127.0.0.1', ORIGIN_HOSTNAME], [PTR_ADDRESS, PTR_HOSTNAME]] as const) {
          const ptr = await query(port, reverseName(addr), RrType.PTR);
          if (typeof ptr === 'string') throw new Error(ptr);
          expect(ptr.answers.map((x) => x.type)).toEqual([RrType.PTR]);
          expect(Buffer.from(ptr.answers[0]!.data)).toEqual(Buffer.from(encodeName(name)));
        }

        for (const name of [UNKNOWN_HOSTNAME, FOREIGN_HOSTNAME]) {
          const nx = await query(port, name, RrType.A);
          if (typeof nx === 'string') throw new Error(nx);
          expect([nx.rcode, nx.answers.length]).toEqual([3, 0]);
        }
      }
    });
  });

  describe('through the reference C tor client', () => {
    const proxy = (): [string, number] => ['127.0.0.1', tornet.socksPort!];

    it('RESOLVE gives the zone address', async () => {
      const r = await socksExchange(undefined, ...proxy(), socksRequest(RESOLVE, { host: ORIGIN_HOSTNAME }));
      expect(r.code).toBe(0);
      expect(r.bound).toEqual({ kind: 'ipv4', addr: '127.0.0.1', port: 0 });
    }, 70_000);

    it('RESOLVE of an unknown name fails with host unreachable', async () => {
      for (const host of [UNKNOWN_HOSTNAME, FOREIGN_HOSTNAME]) {
        const r = await socksExchange(undefined, ...proxy(), socksRequest(RESOLVE, { host }));
        expect(r.code, host).toBe(SOCKS5_HOST_UNREACHABLE);
      }
    }, 130_000);

    it('RESOLVE_PTR gives the zone name back; a loopback address is refused by the exit', async () => {
      const r = await socksExchange(undefined, ...proxy(), socksRequest(RESOLVE_PTR, { ipv4: PTR_ADDRESS }));
      expect(r.code).toBe(0);
      expect(r.bound).toEqual({ kind: 'host', host: PTR_HOSTNAME, port: 0 });
      const internal = await socksExchange(undefined, ...proxy(), socksRequest(RESOLVE_PTR, { ipv4: '127.0.0.1' }));
      expect(internal.code).toBe(SOCKS5_HOST_UNREACHABLE);
    }, 70_000);

    it('the exits asked the harness DNS server, in tor\'s randomised letter case', async () => {
      await socksExchange(undefined, ...proxy(), socksRequest(RESOLVE, { host: ORIGIN_HOSTNAME }));
      await socksExchange(undefined, ...proxy(), socksRequest(RESOLVE_PTR, { ipv4: PTR_ADDRESS }));
      const asked = tornet.dnsQueries()!;
      const origins = asked.filter((q) => q.name === ORIGIN_HOSTNAME && q.type === RrType.A);
      expect(origins.length).toBeGreaterThan(0);
      // ServerDNSRandomizeCase: 16 letters all lower case by chance in every query is ~2^-16 per query.
      expect(origins.some((q) => q.asSent !== ORIGIN_HOSTNAME)).toBe(true);
      expect(asked.some((q) => q.name === reverseName(PTR_ADDRESS) && q.type === RrType.PTR)).toBe(true);
    }, 70_000);

    it('answers RESOLVE of an IP address itself, without an exit', async () => {
      for (const request of [socksRequest(RESOLVE, { host: PTR_ADDRESS }), socksRequest(RESOLVE, { ipv4: PTR_ADDRESS })]) {
        const r = await socksExchange(undefined, ...proxy(), request);
        expect(r.code).toBe(0);
        expect(r.bound).toEqual({ kind: 'ipv4', addr: PTR_ADDRESS, port: 0 });
      }
      expect(tornet.dnsQueries()!.map((q) => q.name)).not.toContain(PTR_ADDRESS);
    }, 70_000);

    it('refuses RESOLVE of an onion address locally: no exit looks it up', async () => {
      const r = await socksExchange(undefined, ...proxy(), socksRequest(RESOLVE, { host: ONION_ADDRESS }));
      expect(r.code).toBe(SOCKS5_HOST_UNREACHABLE);
      expect(tornet.dnsQueries()!.map((q) => q.name)).not.toContain(ONION_ADDRESS);
    }, 70_000);

    it('RESOLVE_PTR of a hostname is an unsupported address type', async () => {
      for (const host of [ORIGIN_HOSTNAME, reverseName(PTR_ADDRESS)]) {
        const r = await socksExchange(undefined, ...proxy(), socksRequest(RESOLVE_PTR, { host }));
        expect(r.code, host).toBe(SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED);
      }
    }, 70_000);

    it('curl --socks5-hostname fetches http://origin.tornet.test', async () => {
      const r = await curl(undefined, `127.0.0.1:${tornet.socksPort}`, `http://${ORIGIN_HOSTNAME}:${origin.port}/bytes/100000`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(sha(r.stdout)).toBe(deterministicBytesSha256(100_000));
    }, 70_000);

    it('CONNECT to an unknown name fails with host unreachable', async () => {
      const r = await socksExchange(undefined, ...proxy(), socksRequest(0x01, { host: UNKNOWN_HOSTNAME }, origin.port));
      expect(r.code).toBe(SOCKS5_HOST_UNREACHABLE);
    }, 70_000);
  });

  describe('through onionplane with the embedded backend', () => {
    const GW = '10.94.0.1';
    const PROXY_PORT = 9050;
    let gw: Gateway;
    printDiagnosticsOnFailure(() => gw?.d);

    beforeAll(async () => {
      gw = await startGateway({
        prefix: 'opdns',
        subnet: '10.94.0',
        tor: `enabled\nbackend embedded\ndata-dir $DIR/tor\ncache-dir $DIR/tor-cache\ntest-network on\nsafe-logging off\n${dirAuthorityStanza(tornet.dirAuthorityLines)}`,
      });
      await waitBootstrapped(gw.d);
      // A young network: exits refuse streams from relays missing from their own consensus for a while.
      await waitFor(
        'a first stream through onionplane',
        async () => ((await curlSocks(gw.ns.netns, `${GW}:${PROXY_PORT}`, origin.url('/bytes/10'), [], 20_000)).code === 0 ? true : undefined),
        90_000,
      );
    }, 240_000);

    afterAll(async () => {
      await gw?.close();
    });

    it('RESOLVE gives the zone address', async () => {
      const r = await socksExchange(gw.ns.netns, GW, PROXY_PORT, socksRequest(RESOLVE, { host: ORIGIN_HOSTNAME }));
      expect(r.code).toBe(0);
      expect(r.bound).toEqual({ kind: 'ipv4', addr: '127.0.0.1', port: 0 });
    }, 70_000);

    it('RESOLVE of an unknown name fails with host unreachable', async () => {
      for (const host of [UNKNOWN_HOSTNAME, FOREIGN_HOSTNAME]) {
        const r = await socksExchange(gw.ns.netns, GW, PROXY_PORT, socksRequest(RESOLVE, { host }));
        expect(r.code, host).toBe(SOCKS5_HOST_UNREACHABLE);
      }
    }, 130_000);

    it('RESOLVE_PTR gives the zone name back; a loopback address is refused by the exit', async () => {
      const r = await socksExchange(gw.ns.netns, GW, PROXY_PORT, socksRequest(RESOLVE_PTR, { ipv4: PTR_ADDRESS }));
      expect(r.code).toBe(0);
      expect(r.bound).toEqual({ kind: 'host', host: PTR_HOSTNAME, port: 0 });
      const internal = await socksExchange(gw.ns.netns, GW, PROXY_PORT, socksRequest(RESOLVE_PTR, { ipv4: '127.0.0.1' }));
      expect(internal.code).toBe(SOCKS5_HOST_UNREACHABLE);
    }, 70_000);

    it('curl --socks5-hostname fetches http://origin.tornet.test', async () => {
      const r = await curl(gw.ns.netns, `${GW}:${PROXY_PORT}`, `http://${ORIGIN_HOSTNAME}:${origin.port}/bytes/100000`);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(sha(r.stdout)).toBe(deterministicBytesSha256(100_000));
    }, 70_000);

    it('CONNECT to an unknown name fails with host unreachable', async () => {
      const r = await socksExchange(gw.ns.netns, GW, PROXY_PORT, socksRequest(0x01, { host: UNKNOWN_HOSTNAME }, origin.port));
      expect(r.code).toBe(SOCKS5_HOST_UNREACHABLE);
    }, 70_000);

    it('RESOLVE_PTR of a hostname is an unsupported address type', async () => {
      for (const host of [ORIGIN_HOSTNAME, reverseName(PTR_ADDRESS)]) {
        const r = await socksExchange(gw.ns.netns, GW, PROXY_PORT, socksRequest(RESOLVE_PTR, { host }));
        expect(r.code, host).toBe(SOCKS5_ADDRESS_TYPE_NOT_SUPPORTED);
      }
    }, 70_000);

    // An exit asked about a .onion name would look it up in DNS: it and its resolver would learn which onion
    // service the user wants. C tor refuses them locally; so does the embedded client.
    it('never lets an exit look up an onion address', async () => {
      const resolve = await socksExchange(gw.ns.netns, GW, PROXY_PORT, socksRequest(RESOLVE, { host: ONION_ADDRESS }));
      expect(resolve.code).not.toBe(0);
      const connect = await socksExchange(gw.ns.netns, GW, PROXY_PORT, socksRequest(0x01, { host: ONION_ADDRESS }, 80));
      expect(connect.code).not.toBe(0);
      expect(tornet.dnsQueries()!.map((q) => q.name)).not.toContain(ONION_ADDRESS);
    }, 130_000);

    // RESOLVE of an IP address (as a name or as ATYP IPv4) is answered with that address, locally, as C tor does.
    it('answers RESOLVE of an IP address itself', async () => {
      for (const request of [socksRequest(RESOLVE, { host: PTR_ADDRESS }), socksRequest(RESOLVE, { ipv4: PTR_ADDRESS })]) {
        const r = await socksExchange(gw.ns.netns, GW, PROXY_PORT, request);
        expect(r.code).toBe(0);
        expect(r.bound).toEqual({ kind: 'ipv4', addr: PTR_ADDRESS, port: 0 });
      }
    }, 130_000);
  });
});
