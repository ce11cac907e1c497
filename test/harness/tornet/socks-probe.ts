// A one-shot SOCKS5 CONNECT (RFC 1928, domain-name address) through the reference client, used to tell when
// a destination such as the onion service is reachable. Resolves the reply code (0 = succeeded).

import net from 'node:net';

export function socks5ConnectRequest(host: string, port: number): Buffer {
  const name = Buffer.from(host, 'ascii');
  if (name.length === 0 || name.length > 255) throw new RangeError(`bad SOCKS host name length ${name.length}`);
  return Buffer.concat([Buffer.from([0x05, 0x01, 0x00, 0x03, name.length]), name, Buffer.from([port >> 8, port & 0xff])]);
}

export function socks5Probe(socksPort: number, host: string, port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port: socksPort });
    let stage: 'greeting' | 'reply' = 'greeting';
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`SOCKS probe to ${host}:${port} timed out`)), timeoutMs);
    function finish(result: number | Error): void {
      clearTimeout(timer);
      sock.destroy();
      if (typeof result === 'number') resolve(result);
      else reject(result);
    }
    sock.on('connect', () => sock.write(Buffer.from([0x05, 0x01, 0x00])));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (stage === 'greeting') {
        if (buf.length < 2) return;
        if (buf[0] !== 0x05 || buf[1] !== 0x00) return finish(new Error('SOCKS server refused no-auth'));
        buf = buf.subarray(2);
        stage = 'reply';
        sock.write(socks5ConnectRequest(host, port));
      }
      if (stage === 'reply' && buf.length >= 2) finish(buf[1]!);
    });
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish(new Error('SOCKS connection closed before a reply')));
  });
}
