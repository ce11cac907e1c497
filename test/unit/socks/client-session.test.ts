import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Socks5ClientSession, SocksServerSession, type SocksAction } from '../../../src/socks/index.js';
import { baseConfig, CLIENT, hex, toHex } from './helpers.js';

const sends = (acts: SocksAction[]) => Uint8Array.from(acts.flatMap((a) => (a.type === 'send' ? [...a.bytes] : [])));

describe('Socks5ClientSession', () => {
  it('pipelined no-auth CONNECT against the server engine', () => {
    const client = new Socks5ClientSession({ command: 'connect', target: { kind: 'host', host: 'example.com', port: 443 }, pipeline: true });
    const { session } = SocksServerSession.accept(baseConfig, CLIENT, 0);
    const first = session.receive(client.start(), 0);
    expect(first.some((a) => a.type === 'open')).toBe(true);
    const reply = [...sends(first), ...sends(session.connected({ kind: 'ipv4', addr: '10.0.0.1', port: 9 })), 0x41, 0x42];
    const r = client.receive(Uint8Array.from(reply));
    expect(r.outcome).toEqual({ status: 'succeeded', bound: { kind: 'ipv4', addr: '10.0.0.1', port: 9 }, data: Uint8Array.of(0x41, 0x42) });
    expect(client.receive(hex('00'))).toEqual({});
  });

  it('step-by-step user/pass RESOLVE, fed one byte at a time', () => {
    const client = new Socks5ClientSession({ command: 'resolve', target: { kind: 'host', host: 'a.example', port: 0 }, auth: { username: 'iso-1', password: '' }, pipeline: false });
    const { session } = SocksServerSession.accept(baseConfig, CLIENT, 0);
    let toServer = client.start();
    expect(toHex(toServer)).toBe('050102');
    let outcome;
    for (let round = 0; round < 4 && !outcome; round++) {
      const acts = session.receive(toServer, 0);
      let toClient = sends(acts);
      if (acts.some((a) => a.type === 'open')) toClient = Uint8Array.from([...toClient, ...sends(session.resolved({ kind: 'ipv6', addr: '2001:db8::5' }))]);
      toServer = new Uint8Array(0);
      for (const b of toClient) {
        const r = client.receive(Uint8Array.of(b));
        if (r.send) toServer = Uint8Array.from([...toServer, ...r.send]);
        if (r.outcome) outcome = r.outcome;
      }
    }
    expect(outcome).toMatchObject({ status: 'succeeded', bound: { kind: 'ipv6', addr: '2001:db8::5', port: 0 } });
  });

  it('reports refusals and protocol errors', () => {
    const c1 = new Socks5ClientSession({ command: 'connect', target: { kind: 'ipv4', addr: '1.2.3.4', port: 80 } });
    expect(toHex(c1.start())).toBe('050100');
    expect(toHex(c1.receive(hex('0500')).send!)).toBe('05010001010203040050');
    expect(c1.receive(hex('05020001000000000000')).outcome).toEqual({ status: 'failed', code: 2 });
    const c2 = new Socks5ClientSession({ command: 'connect', target: { kind: 'ipv4', addr: '1.2.3.4', port: 80 } });
    expect(c2.receive(hex('05ff')).outcome).toEqual({ status: 'protocol-error', error: 'no-acceptable-method' });
    const c3 = new Socks5ClientSession({ command: 'connect', target: { kind: 'ipv4', addr: '1.2.3.4', port: 80 }, auth: { username: 'u', password: 'p' }, pipeline: true });
    expect(c3.receive(hex('0502 0101')).outcome).toEqual({ status: 'protocol-error', error: 'auth-rejected' });
    const c4 = new Socks5ClientSession({ command: 'connect', target: { kind: 'ipv4', addr: '1.2.3.4', port: 80 } });
    expect(c4.receive(hex('0400')).outcome).toMatchObject({ status: 'protocol-error' });
  });

  it('never throws on arbitrary server bytes', () => {
    fc.assert(fc.property(fc.boolean(), fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (auth, chunks) => {
      const c = new Socks5ClientSession({ command: 'connect', target: { kind: 'host', host: 'x.onion', port: 80 }, auth: auth ? { username: 'a', password: 'b' } : undefined });
      c.start();
      for (const ch of chunks) c.receive(ch);
    }));
  });
});
