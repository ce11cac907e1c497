// The private network's own DNS: an authoritative server for the harness zone on 127.0.0.1, UDP and TCP
// on one port, so exit relays (ServerDNSResolvConfFile) resolve test names on an offline machine.
// Socket glue only; the answers come from DnsZone.

import dgram from 'node:dgram';
import net, { type AddressInfo } from 'node:net';
import { DNS_UDP_MAX } from './dns-wire.js';
import { DnsZone, type DnsRecords } from './dns-zone.js';

export interface DnsServerOptions {
  records: DnsRecords;
  zone?: string;
  host?: string;
  /** 0 (default): any free port, the same one for UDP and TCP. */
  port?: number;
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
  readonly zone: DnsZone;
  /** `nameserver <host>:<port>`: a resolv.conf line libevent's evdns (and so tor) understands. */
  resolvConf(): string;
  stop(): Promise<void>;
}

/** Where a DNS server process (dns-serve.ts) reports its port once listening. */
export function portFileOf(zoneFile: string): string {
  return `${zoneFile}.port`;
}

/** A TCP client may pipeline queries; more than this unanswered in its buffer closes it. */
const TCP_MAX_BUFFER = 64 * 1024;
const TCP_IDLE_MS = 10_000;
const TCP_MAX_CONNECTIONS = 64;

function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket({ type: 'udp4' });
    sock.once('error', reject);
    sock.bind({ address: host, port, exclusive: true }, () => {
      sock.off('error', reject);
      resolve(sock);
    });
  });
}

function listenTcp(server: net.Server, host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onError = (): void => resolve(false);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve(true);
    });
  });
}

function serveTcpConnection(sock: net.Socket, zone: DnsZone): void {
  let buf = Buffer.alloc(0);
  sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
  sock.on('error', () => sock.destroy());
  sock.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (buf.length > TCP_MAX_BUFFER) return void sock.destroy();
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) break;
      const reply = zone.answer(buf.subarray(2, 2 + len), 65535);
      buf = buf.subarray(2 + len);
      if (reply === undefined) continue;
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(reply.length, 0);
      sock.write(Buffer.concat([prefix, reply]));
    }
  });
}

/** Starts the server; with port 0 it retries until one port is free for both UDP and TCP. */
export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const host = opts.host ?? '127.0.0.1';
  const zone = new DnsZone(opts.records, opts.zone);
  for (let attempt = 0; ; attempt++) {
    const udp = await bindUdp(host, opts.port ?? 0);
    const port = (udp.address() as AddressInfo).port;
    const tcp = net.createServer((sock) => serveTcpConnection(sock, zone));
    tcp.maxConnections = TCP_MAX_CONNECTIONS;
    if (!(await listenTcp(tcp, host, port))) {
      udp.close();
      if (opts.port || attempt >= 20) throw new Error(`dns server: TCP port ${port} on ${host} is taken`);
      continue;
    }
    udp.on('message', (msg, rinfo) => {
      const reply = zone.answer(msg, DNS_UDP_MAX);
      if (reply !== undefined) udp.send(reply, rinfo.port, rinfo.address);
    });
    // A send to a vanished client must not take the server down.
    udp.on('error', () => undefined);
    const sockets = new Set<net.Socket>();
    tcp.on('connection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    let stopping: Promise<void> | undefined;
    return {
      host,
      port,
      zone,
      resolvConf: () => `nameserver ${host}:${port}\n`,
      stop() {
        stopping ??= new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          let left = 2;
          const done = (): void => void (--left === 0 && resolve());
          udp.close(done);
          tcp.close(done);
        });
        return stopping;
      },
    };
  }
}
