// A minimal SOCKS5 HTTP/1.0 GET over node:net, for tests that fetch through a SOCKS port.

import { connect } from 'node:net';

export interface SocksFetchOptions {
  socksHost?: string;
  socksPort: number;
  host: string;
  port: number;
  path: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
}

/** Fetches `path` through SOCKS5 (CONNECT by domain name) and returns the response body. */
export function socks5Fetch(opts: SocksFetchOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: opts.socksHost ?? '127.0.0.1', port: opts.socksPort });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('socks5Fetch timed out'));
    }, opts.timeoutMs ?? 60_000);
    let stage: 'method' | 'auth' | 'connect' | 'body' = 'method';
    let buf = Buffer.alloc(0);
    const chunks: Buffer[] = [];
    const useAuth = opts.username !== undefined;
    s.on('connect', () => s.write(Buffer.from(useAuth ? [5, 1, 2] : [5, 1, 0])));
    const sendConnect = () => {
      const host = Buffer.from(opts.host);
      s.write(Buffer.concat([Buffer.from([5, 1, 0, 3, host.length]), host, Buffer.from([opts.port >> 8, opts.port & 0xff])]));
      stage = 'connect';
    };
    s.on('data', (d) => {
      if (stage === 'body') {
        chunks.push(d);
        return;
      }
      buf = Buffer.concat([buf, d]);
      if (stage === 'method' && buf.length >= 2) {
        if (buf[1] === 2) {
          const u = Buffer.from(opts.username ?? '');
          const p = Buffer.from(opts.password ?? '');
          s.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
          stage = 'auth';
        } else if (buf[1] === 0) sendConnect();
        else return reject(new Error(`socks method refused: ${buf[1]}`));
        buf = buf.subarray(2);
      }
      if (stage === 'auth' && buf.length >= 2) {
        if (buf[1] !== 0) return reject(new Error('socks auth refused'));
        buf = buf.subarray(2);
        sendConnect();
      }
      if (stage === 'connect' && buf.length >= 10) {
        if (buf[1] !== 0) {
          s.destroy();
          return reject(new Error(`socks connect failed: reply ${buf[1]}`));
        }
        const rest = buf.subarray(10);
        stage = 'body';
        if (rest.length) chunks.push(rest);
        s.write(`GET ${opts.path} HTTP/1.0\r\nHost: ${opts.host}\r\n\r\n`);
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('end', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const sep = all.indexOf('\r\n\r\n');
      if (sep < 0) return reject(new Error('no HTTP response'));
      resolve(all.subarray(sep + 4));
    });
  });
}
