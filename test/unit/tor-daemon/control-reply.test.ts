import { describe, expect, it } from 'vitest';
import {
  ControlReplyParser,
  getinfoValues,
  parseBootstrapPhase,
  parseCircuitStatus,
  parseStreamStatus,
} from '../../../src/tor-daemon/control-reply.js';
import { renderTorrc } from '../../../src/tor-daemon/torrc.js';

describe('control-port replies', () => {
  it('parses mid, data and end lines, split anywhere, and events', () => {
    const p = new ControlReplyParser();
    const text =
      '250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="/var/lib/tor/control_auth_cookie"\r\n250-VERSION Tor="0.4.9.11"\r\n250 OK\r\n' +
      '650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=45 TAG=requesting_descriptors SUMMARY="Asking for relay descriptors"\r\n' +
      '250+circuit-status=\r\n1 BUILT $AAAA~guard,$BBBB~middle,$CCCC~exit BUILD_FLAGS=NEED_CAPACITY PURPOSE=GENERAL TIME_CREATED=2026-11-22T01:00:00.000000\r\n..dotted\r\n.\r\n250 OK\r\n';
    const replies = [];
    for (let i = 0; i < text.length; i += 7) replies.push(...p.push(text.slice(i, i + 7)));
    expect(replies).toHaveLength(3);
    expect(replies[0]!.lines.map((l) => l.text)).toEqual([
      'PROTOCOLINFO 1',
      'AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="/var/lib/tor/control_auth_cookie"',
      'VERSION Tor="0.4.9.11"',
      'OK',
    ]);
    expect(replies[1]!.isEvent).toBe(true);
    const values = getinfoValues(replies[2]!);
    expect(values.get('circuit-status')).toBe(
      '1 BUILT $AAAA~guard,$BBBB~middle,$CCCC~exit BUILD_FLAGS=NEED_CAPACITY PURPOSE=GENERAL TIME_CREATED=2026-11-22T01:00:00.000000\n.dotted',
    );
    const circ = parseCircuitStatus(values.get('circuit-status')!.split('\n')[0]!)!;
    expect(circ.path.map((h) => h.nickname)).toEqual(['guard', 'middle', 'exit']);
    expect(circ.purpose).toBe('GENERAL');
  });

  it('rejects malformed lines', () => {
    expect(() => new ControlReplyParser().push('hello\r\n')).toThrow(/malformed reply line/);
  });

  it('parses bootstrap phases and stream status', () => {
    expect(parseBootstrapPhase('NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"')).toEqual({ progress: 100, tag: 'done', summary: 'Done' });
    expect(parseBootstrapPhase('garbage')).toBeUndefined();
    expect(parseStreamStatus('12 SUCCEEDED 3 127.0.0.1:8080 SOURCE_ADDR=127.0.0.1:5555 PURPOSE=USER')).toMatchObject({
      id: '12',
      status: 'SUCCEEDED',
      circuitId: '3',
      target: '127.0.0.1:8080',
    });
    expect(parseStreamStatus('12 CLOSED 3 example.com:80 REASON=DONE')!.reason).toBe('DONE');
  });
});

describe('managed torrc', () => {
  const auth = 'auth0 orport=5000 no-v2 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 127.0.0.1:7000 AAAABBBBCCCCDDDDEEEEFFFF0000111122223333';
  it('writes private ports, cookie auth and the private network settings', () => {
    const t = renderTorrc({ dataDir: '/tmp/x', dirAuthorities: [auth], testNetwork: true, ownerPid: 42 });
    expect(t).toContain('SocksPort 127.0.0.1:auto\n');
    expect(t).toContain('CookieAuthentication 1\n');
    expect(t).toContain('__OwningControllerProcess 42\n');
    expect(t).toContain('TestingTorNetwork 1\n');
    expect(t).toContain(`DirAuthority ${auth}\n`);
  });
  it('refuses lines that are not DirAuthority lines or would inject options', () => {
    expect(() => renderTorrc({ dataDir: '/x', dirAuthorities: [`${auth}\nSocksPort 0.0.0.0:9050`], testNetwork: false, ownerPid: 1 })).toThrow(/line breaks/);
    expect(() => renderTorrc({ dataDir: '/x', dirAuthorities: ['hello'], testNetwork: false, ownerPid: 1 })).toThrow(/not a DirAuthority line/);
  });
});
