import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { DirServer } from '../../../../src/tor/dirmgr/index.js';
import { parseDirAuthorityLine, parseMdConsensus } from '../../../../src/tor/netdoc/index.js';

/** Documents captured from the private network, and directory servers answering from them. */

const fixtures = fileURLToPath(new URL('../../../fixtures/tor/netdoc/', import.meta.url));
const fx = (n: string) => readFileSync(fixtures + n);

export const authorities = fx('dir-authorities.txt').toString().split('\n').filter((l) => l !== '').map(parseDirAuthorityLine);
export const consensusRaw = fx('consensus-microdesc.txt');
export const consensus = parseMdConsensus(consensusRaw);
export const certsRaw = fx('keys-all.txt');
export const mdsRaw = fx('microdescs.txt');

/** Answers a request path with a body, or undefined for 404. */
export type Handler = (path: string) => Buffer | string | undefined;

/** One HTTP/1.0 exchange per opened stream; `log` gets `<server> <path>` per request. */
export function fakeServer(name: string, handler: Handler, log: string[] = []): DirServer {
  return {
    name,
    open: async () => {
      let req = '';
      const d = new Duplex({
        read() {},
        write(chunk: Buffer, _e, cb) {
          req += chunk.toString('latin1');
          if (req.endsWith('\r\n\r\n')) {
            const path = req.split(' ')[1]!;
            log.push(`${name} ${path}`);
            const body = handler(path);
            d.push(body === undefined ? 'HTTP/1.0 404 Not found\r\n\r\n' : Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), Buffer.from(body)]));
            d.push(null);
          }
          cb();
        },
      });
      return d;
    },
  };
}

/** A server whose streams never open (connection refused). */
export function deadServer(name: string, log: string[] = []): DirServer {
  return {
    name,
    open: () => {
      log.push(`${name} refused`);
      return Promise.reject(new Error('ECONNREFUSED'));
    },
  };
}

/** Each microdescriptor's text by its base64 SHA-256 digest (no padding), as /tor/micro/d/ names them. */
const mdByDigest = new Map(
  mdsRaw
    .toString('latin1')
    .split(/(?=^onion-key$)/m)
    .map((t) => [createHash('sha256').update(t, 'latin1').digest('base64').replace(/=+$/, ''), t] as const),
);

/** What a cache answers to /tor/micro/d/<d1>-<d2>…: the requested ones it has, 404 when none. */
export function microdescsFor(path: string, from: ReadonlyMap<string, string> = mdByDigest): string | undefined {
  const wanted = path.slice('/tor/micro/d/'.length).replace(/\.z$/, '').split('-');
  const found = wanted.map((d) => from.get(d)).filter((t) => t !== undefined);
  return found.length > 0 ? found.join('') : undefined;
}

export const goodHandler: Handler = (path) => {
  if (path === '/tor/keys/all' || path.startsWith('/tor/keys/fp-sk/')) return certsRaw;
  if (path === '/tor/status-vote/current/consensus-microdesc') return consensusRaw;
  if (path.startsWith('/tor/micro/d/')) return microdescsFor(path);
  return undefined;
};

/** The consensus with one byte of a router entry changed: its signatures no longer verify. */
export function tamperedConsensus(): string {
  const text = consensusRaw.toString('latin1');
  const at = text.indexOf('\nr relay1 ') + 4;
  return text.slice(0, at) + 'Z' + text.slice(at + 1);
}

/** The microdescriptors with one byte of the first ntor key changed: one digest no longer matches. */
export function tamperedMicrodescs(): string {
  const text = mdsRaw.toString('latin1');
  const at = text.indexOf('ntor-onion-key ') + 20;
  return text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
}
