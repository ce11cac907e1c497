import { describe, expect, it } from 'vitest';
import { ipLiteralBytes, targetKind } from '../../../../src/tor/client/target-name.js';

describe('targetKind', () => {
  it('tells IP literals, onion and exit names from hostnames', () => {
    expect(targetKind('192.0.2.10')).toBe('ipv4');
    expect(targetKind('2001:db8::1')).toBe('ipv6');
    expect(targetKind(`${'b'.repeat(56)}.onion`)).toBe('onion');
    expect(targetKind('www.EXAMPLE.Onion.')).toBe('onion');
    expect(targetKind('onion')).toBe('onion');
    expect(targetKind('www.example.com.relay1.exit')).toBe('exit');
    expect(targetKind('origin.tornet.test')).toBe('hostname');
    expect(targetKind('onion.example.com')).toBe('hostname');
    expect(targetKind('999.1.1.1')).toBe('hostname');
  });
});

describe('ipLiteralBytes', () => {
  it('encodes IPv4 and IPv6 literals, including :: and an IPv4 tail', () => {
    expect([...ipLiteralBytes('192.0.2.10', 'ipv4')]).toEqual([192, 0, 2, 10]);
    expect(Buffer.from(ipLiteralBytes('2001:db8::1', 'ipv6')).toString('hex')).toBe('20010db8000000000000000000000001');
    expect(Buffer.from(ipLiteralBytes('::', 'ipv6')).toString('hex')).toBe('0'.repeat(32));
    expect(Buffer.from(ipLiteralBytes('::ffff:192.0.2.1', 'ipv6')).toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(Buffer.from(ipLiteralBytes('fe80:1:2:3:4:5:6:7', 'ipv6')).toString('hex')).toBe('fe800001000200030004000500060007');
  });
});
