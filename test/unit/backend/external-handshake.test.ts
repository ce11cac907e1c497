import { describe, expect, it } from 'vitest';
import { Socks5ClientHandshake, socks5ReplyToEndReason } from '../../../src/backend/external/handshake.js';
import { parseSocksAddress } from '../../../src/backend/external/config.js';
import { StreamEndReason, endReasonToSocks5Reply } from '../../../src/socks/codes.js';

const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');

describe('SOCKS5 client handshake to a Tor SOCKS port', () => {
  it('authenticates with the isolation key, then CONNECTs by name, and keeps early bytes', () => {
    const hs = new Socks5ClientHandshake('connect', { kind: 'host', host: 'example.org', port: 80 }, 'key1', 'pw');
    expect(hex(hs.start())).toBe('050102');
    const a = hs.receive(Uint8Array.of(5, 2));
    expect(a.status).toBe('continue');
    expect(hex((a as { send: Uint8Array }).send)).toBe('01' + '04' + Buffer.from('key1').toString('hex') + '02' + Buffer.from('pw').toString('hex'));
    const b = hs.receive(Uint8Array.of(1, 0));
    expect(hex((b as { send: Uint8Array }).send)).toBe('05010003' + '0b' + Buffer.from('example.org').toString('hex') + '0050');
    // The reply split in two chunks, followed by the first bytes of the stream.
    expect(hs.receive(Uint8Array.of(5, 0, 0, 1, 127)).status).toBe('continue');
    const done = hs.receive(Uint8Array.of(0, 0, 1, 0x1f, 0x90, 0x48, 0x49));
    expect(done.status).toBe('done');
    if (done.status === 'done') {
      expect(done.reply.bound).toEqual({ kind: 'ipv4', addr: '127.0.0.1', port: 8080 });
      expect(Buffer.from(done.rest).toString()).toBe('HI');
    }
  });

  it('maps failure replies back to END reasons, and onion errors to their codes', () => {
    const run = (code: number) => {
      const hs = new Socks5ClientHandshake('connect', { kind: 'ipv4', addr: '10.0.0.1', port: 443 }, 'k', 'p');
      hs.start();
      hs.receive(Uint8Array.of(5, 2));
      hs.receive(Uint8Array.of(1, 0));
      return hs.receive(Uint8Array.of(5, code, 0, 1, 0, 0, 0, 0, 0, 0));
    };
    // Round trip of C tor's mapping where it is one-to-one.
    for (const reason of [StreamEndReason.EXITPOLICY, StreamEndReason.CONNECTREFUSED, StreamEndReason.TIMEOUT]) {
      expect(run(endReasonToSocks5Reply(reason))).toMatchObject({ status: 'failed', reason });
    }
    expect(run(0xf6)).toMatchObject({ status: 'failed', reason: StreamEndReason.MISC, onionCode: 0xf6 });
    expect(socks5ReplyToEndReason(0x01)).toBe(StreamEndReason.MISC);
  });

  it('fails cleanly on a port that refuses authentication or talks nonsense', () => {
    const a = new Socks5ClientHandshake('connect', { kind: 'host', host: 'x', port: 1 }, 'k', 'p');
    a.start();
    expect(a.receive(Uint8Array.of(5, 0xff))).toMatchObject({ status: 'failed', reason: StreamEndReason.TORPROTOCOL });
    const b = new Socks5ClientHandshake('connect', { kind: 'host', host: 'x', port: 1 }, 'k', 'p');
    b.start();
    b.receive(Uint8Array.of(5, 2));
    expect(b.receive(Uint8Array.of(1, 1))).toMatchObject({ status: 'failed', detail: 'SOCKS authentication refused' });
    const c = new Socks5ClientHandshake('connect', { kind: 'host', host: 'x', port: 1 }, 'k', 'p');
    c.start();
    expect(c.receive(new Uint8Array(700))).toMatchObject({ status: 'failed' });
  });

  it('parses SOCKS addresses', () => {
    expect(parseSocksAddress('127.0.0.1:9050')).toEqual({ socksHost: '127.0.0.1', socksPort: 9050 });
    expect(parseSocksAddress('[::1]:9150')).toEqual({ socksHost: '::1', socksPort: 9150 });
    expect(parseSocksAddress('127.0.0.1')).toBeUndefined();
    expect(parseSocksAddress('h:70000')).toBeUndefined();
  });
});
