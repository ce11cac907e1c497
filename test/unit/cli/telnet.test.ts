import { describe, expect, it } from 'vitest';
import { center, formatExp, formatTimeInterval } from '../../../src/cli/format.js';
import { IAC, SB, SE, SERVER_GREETING, TelnetDecoder, ttypeReply } from '../../../src/cli/telnet.js';

describe('telnet decoding', () => {
  it('sends the option sequence VPP sends on accept', () => {
    expect(Buffer.from(SERVER_GREETING).toString('hex')).toBe(
      'fffc22' + 'fffe22' + 'fffb03' + 'fffd03' + 'fffb01' + 'fffe01' + 'fffd18' + 'fffa1801fff0' + 'fffd1f' + 'fffa1f01fff0',
    );
  });

  it('decodes the terminal type vppctl sends, split across chunks', () => {
    const d = new TelnetDecoder();
    const reply = ttypeReply('vppctl');
    expect(Buffer.from(reply).toString('hex')).toBe('fffa1800' + Buffer.from('vppctl').toString('hex') + 'fff0');
    const events = [...d.push(reply.subarray(0, 5)), ...d.push(reply.subarray(5)), ...d.push(Buffer.from('show version\n\0'))];
    expect(events[0]).toEqual({ kind: 'ttype', term: 'vppctl' });
    expect(Buffer.from((events[1] as { bytes: Uint8Array }).bytes).toString()).toBe('show version\n\0');
  });

  it('handles escaped IAC, option verbs, NAWS and the client-side TTYPE request', () => {
    const d = new TelnetDecoder();
    const ev = d.push(Uint8Array.from([0x41, IAC, IAC, 0x42, IAC, 253, 24, IAC, SB, 31, 0, 80, 0, 24, IAC, SE, IAC, SB, 24, 1, IAC, SE]));
    expect(ev).toEqual([
      { kind: 'data', bytes: Uint8Array.from([0x41, 0xff, 0x42]) },
      { kind: 'option', verb: 253, option: 24 },
      { kind: 'naws', cols: 80, rows: 24 },
      { kind: 'ttype-request' },
    ]);
  });

  it('bounds a never-ending subnegotiation', () => {
    const d = new TelnetDecoder();
    d.push(Uint8Array.from([IAC, SB, 24, 0]));
    for (let i = 0; i < 1000; i++) d.push(new Uint8Array(1024).fill(0x61));
    expect(d.push(Uint8Array.from([IAC, SE]))[0]).toMatchObject({ kind: 'ttype' });
    expect((d.push(Uint8Array.from([IAC, SB, 24, 0, 0x61, IAC, SE]))[0] as { term: string }).term).toBe('a');
  });
});

describe('VPP formatting', () => {
  it('centres with the odd pad on the left and truncates', () => {
    expect(center('ab', 5)).toBe('  ab ');
    expect(center('Count', 10)).toBe('   Count  ');
    expect(center('abcdef', 4)).toBe('abcd');
  });
  it('prints exponents like VPP', () => {
    expect(formatExp(0, 4)).toBe('0.0000e0');
    expect(formatExp(2160, 2)).toBe('2.16e3');
    expect(formatExp(0.0123, 2)).toBe('1.23e-2');
  });
  it('formats trace time intervals', () => {
    expect(formatTimeInterval(3_723_000_456_000n)).toBe('01:02:03:000456');
  });
});
