import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConsensusParams, renderTorrc, votingSchedule, type TorrcInput } from '../../harness/tornet/torrc.js';
import { formatDirAuthorityLine } from '../../harness/tornet/dir-authority-line.js';

const AUTH_LINE = formatDirAuthorityLine({
  nickname: 'auth0',
  address: '127.0.0.1',
  orPort: 20001,
  dirPort: 20002,
  v3ident: 'A'.repeat(40),
  rsaFingerprint: 'B'.repeat(40),
});

function input(over: Partial<TorrcInput>): TorrcInput {
  return { role: 'relay', nickname: 'relay0', dataDir: '/tmp/x/relay0', dirAuthorityLines: [AUTH_LINE], schedule: votingSchedule(), orPort: 20010, ...over };
}

function lines(text: string): string[] {
  return text.trimEnd().split('\n');
}

describe('renderTorrc', () => {
  it('puts the test-network basics and every DirAuthority line in every role', () => {
    const roles: TorrcInput[] = [
      input({ role: 'authority', nickname: 'auth0', dirPort: 20002 }),
      input({ role: 'relay' }),
      input({ role: 'exit', nickname: 'exit0' }),
      input({ role: 'client', nickname: 'client0', orPort: undefined, socksPort: 20020 }),
      input({ role: 'onion-service', nickname: 'onion0', orPort: undefined, onionService: { dir: '/tmp/x/hs', virtualPort: 80, targetPort: 8080 } }),
    ];
    for (const r of roles) {
      const l = lines(renderTorrc(r));
      expect(l).toContain('TestingTorNetwork 1');
      expect(l).toContain(`Nickname ${r.nickname}`);
      expect(l).toContain(`DataDirectory ${r.dataDir}`);
      expect(l).toContain(AUTH_LINE);
      expect(l).toContain('TestingDirAuthVoteHSDir *');
      expect(l).toContain('V3AuthNIntervalsValid 3');
      // Nothing listens beyond loopback.
      for (const port of l.filter((x) => /^(ORPort|DirPort|SocksPort) /.test(x))) expect(port).toMatch(/ (0|127\.0\.0\.1:\d+)( |$)/);
    }
  });

  it('makes authorities vote fast, with the extra consensus parameters', () => {
    const l = lines(renderTorrc(input({ role: 'authority', nickname: 'auth0', dirPort: 20002, consensusParams: ['sendme_accept_min_version=1', 'cc_alg=2'] })));
    expect(l).toEqual(
      expect.arrayContaining([
        'AuthoritativeDirectory 1',
        'V3AuthoritativeDirectory 1',
        'AssumeReachable 1',
        'AuthDirMaxServersPerAddr 0',
        'TestingV3AuthInitialVotingInterval 5',
        'V3AuthVotingInterval 10',
        'DirPort 127.0.0.1:20002',
        'ExitPolicy reject *:*',
        'ConsensusParams sendme_accept_min_version=1 cc_alg=2',
      ]),
    );
  });

  it('gives exits a loopback-accepting policy that still summarises as an exit', () => {
    const l = lines(renderTorrc(input({ role: 'exit', nickname: 'exit0' })));
    expect(l).toEqual(expect.arrayContaining(['ExitRelay 1', 'ExitPolicyRejectPrivate 0', 'ExitPolicy accept 127.0.0.0/8:*']));
    expect(l).not.toContain('ExitPolicy reject *:*');
    const relay = lines(renderTorrc(input({ role: 'relay' })));
    expect(relay).toEqual(expect.arrayContaining(['ExitRelay 0', 'ExitPolicy reject *:*']));
  });

  it('gives the client a SocksPort and the onion host its HiddenService lines, neither an ORPort', () => {
    const c = lines(renderTorrc(input({ role: 'client', nickname: 'client0', orPort: undefined, socksPort: 20020 })));
    expect(c).toContain('SocksPort 127.0.0.1:20020');
    expect(c.some((x) => x.startsWith('ORPort'))).toBe(false);
    const hs = lines(renderTorrc(input({ role: 'onion-service', nickname: 'onion0', orPort: undefined, onionService: { dir: '/d/hs', virtualPort: 80, targetPort: 8080 } })));
    expect(hs).toEqual(expect.arrayContaining(['SocksPort 0', 'HiddenServiceDir /d/hs', 'HiddenServicePort 80 127.0.0.1:8080']));
    expect(hs.some((x) => x.startsWith('ORPort'))).toBe(false);
  });

  it('ties daemons to their owner and skips GeoIP when asked', () => {
    const l = lines(renderTorrc(input({ owningPid: 4242, emptyFile: '/tmp/x/empty' })));
    expect(l).toEqual(expect.arrayContaining(['__OwningControllerProcess 4242', 'GeoIPFile /tmp/x/empty', 'GeoIPv6File /tmp/x/empty']));
    expect(lines(renderTorrc(input({}))).some((x) => x.startsWith('__Owning'))).toBe(false);
  });

  it('refuses a role without the port it needs', () => {
    expect(() => renderTorrc(input({ role: 'authority', dirPort: undefined }))).toThrow(/dirPort/);
    expect(() => renderTorrc(input({ role: 'client', socksPort: undefined }))).toThrow(/socksPort/);
    expect(() => renderTorrc(input({ role: 'onion-service' }))).toThrow(/onionService/);
  });
});

describe('votingSchedule / checkConsensusParams', () => {
  it('keeps vote + dist delay under half the interval', () => {
    const s = votingSchedule(10, 2);
    expect(s.voteDelay + s.distDelay).toBeLessThan(s.interval / 2);
    expect(() => votingSchedule(9)).toThrow(RangeError);
    expect(() => votingSchedule(10, 1)).toThrow(RangeError);
  });

  it('accepts name=integer only', () => {
    expect(checkConsensusParams(['sendme_accept_min_version=1', 'x=-3'])).toEqual(['sendme_accept_min_version=1', 'x=-3']);
    for (const bad of ['novalue', 'a=b', 'a=1 b=2', '=1', 'a=1\nDirPort 1']) expect(() => checkConsensusParams([bad])).toThrow(RangeError);
  });
});

// tor itself is the judge of whether the generated files are valid.
describe.skipIf(!fs.existsSync('/usr/bin/tor'))('renderTorrc output accepted by tor --verify-config', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onionplane-torrc-unit-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const empty = path.join(dir, 'empty');
  fs.writeFileSync(empty, '');

  const cases: TorrcInput[] = [
    input({ role: 'authority', nickname: 'auth0', dirPort: 20002, consensusParams: ['sendme_accept_min_version=1'] }),
    input({ role: 'relay' }),
    input({ role: 'exit', nickname: 'exit0' }),
    input({ role: 'client', nickname: 'client0', orPort: undefined, socksPort: 20020 }),
    input({ role: 'onion-service', nickname: 'onion0', orPort: undefined, onionService: { dir: '', virtualPort: 80, targetPort: 8080 } }),
  ];
  for (const c of cases) {
    it(c.role, () => {
      const dataDir = path.join(dir, c.nickname);
      fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const torrc = path.join(dataDir, 'torrc');
      const hs = c.onionService ? { ...c.onionService, dir: path.join(dataDir, 'hs') } : undefined;
      fs.writeFileSync(torrc, renderTorrc({ ...c, dataDir, onionService: hs, emptyFile: empty, owningPid: process.pid }));
      const out = execFileSync('/usr/bin/tor', ['--verify-config', '-f', torrc, '--defaults-torrc', empty], { encoding: 'utf8' });
      expect(out).toContain('Configuration was valid');
    });
  }
});
