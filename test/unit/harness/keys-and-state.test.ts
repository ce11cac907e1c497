import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuthorityKeys, createRelayIdentity, parseCertificateFingerprint, parseFingerprintFile } from '../../harness/tornet/keys.js';
import { readStateFile, sweepAbandonedRoots, writeOwnerRecord, writeStateFile, ROOT_PREFIX } from '../../harness/tornet/state.js';
import { socks5ConnectRequest } from '../../harness/tornet/socks-probe.js';
import { isOurTorRunning } from '../../harness/tornet/daemon.js';
import { registerForCleanup, unregisterFromCleanup } from '../../harness/tornet/cleanup.js';
import type { TorNetDescription } from '../../harness/tornet/types.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onionplane-harness-unit-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('fingerprint files', () => {
  it('parses tor-gencert certificates and tor fingerprint files', () => {
    expect(parseCertificateFingerprint('dir-key-certificate-version 3\nfingerprint 0659dc7e78b8549e97fefa33ca621a170071be70\n')).toBe(
      '0659DC7E78B8549E97FEFA33CA621A170071BE70',
    );
    expect(() => parseCertificateFingerprint('dir-key-certificate-version 3\n')).toThrow();
    expect(parseFingerprintFile('relay0 AB0F 30CA 0707 6ACA 0E1A C1CB D1AF 3FEA 7DAC 35B7\n')).toBe('AB0F30CA07076ACA0E1AC1CBD1AF3FEA7DAC35B7');
    expect(parseFingerprintFile('relay0 w3L+h/Ds+GqW+KU62aWJu7R5+niO9CCSymsNhauQzwg\n')).toBe('w3L+h/Ds+GqW+KU62aWJu7R5+niO9CCSymsNhauQzwg');
  });
});

describe.skipIf(!fs.existsSync('/usr/bin/tor-gencert'))('key creation with the real tools', () => {
  it('tor-gencert makes an authority certificate whose fingerprint is the v3ident', async () => {
    const dir = path.join(tmp, 'auth0');
    const v3ident = await createAuthorityKeys(dir, 7000);
    expect(v3ident).toMatch(/^[0-9A-F]{40}$/);
    const cert = fs.readFileSync(path.join(dir, 'keys', 'authority_certificate'), 'utf8');
    expect(cert).toContain('dir-address 127.0.0.1:7000');
    expect(cert).toContain(`fingerprint ${v3ident}`);
    // The identity key's SHA-1 (over its PKCS#1 DER) is the fingerprint.
    const m = /dir-identity-key\n(-----BEGIN RSA PUBLIC KEY-----[\s\S]+?-----END RSA PUBLIC KEY-----)/.exec(cert)!;
    const { createPublicKey, createHash } = await import('node:crypto');
    const der = createPublicKey(m[1]!).export({ type: 'pkcs1', format: 'der' });
    expect(createHash('sha1').update(der).digest('hex').toUpperCase()).toBe(v3ident);
  });

  it('tor --list-fingerprint gives a relay identity that the daemon keeps', async () => {
    const dir = path.join(tmp, 'relay0');
    const id = await createRelayIdentity(dir, 'relay0', 7001);
    expect(id.rsaFingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(id.ed25519Id).toMatch(/^[A-Za-z0-9+/]{43}$/);
    expect(Buffer.from(id.ed25519Id, 'base64')).toHaveLength(32);
    // Same keys on a second run: identities live in the data directory.
    expect(await createRelayIdentity(dir, 'relay0', 7001)).toEqual(id);
  });
});

describe('state files', () => {
  it('round-trips a description and refuses foreign JSON', () => {
    const d: TorNetDescription = {
      root: '/tmp/x', dirAuthorityLines: ['DirAuthority a'], authorities: [], relays: [], consensusParams: [],
      votingIntervalSeconds: 10, bringUpMs: 1, startedAt: new Date(0).toISOString(), socksPort: 9,
    };
    const file = path.join(tmp, 'state', 'state.json');
    writeStateFile(d, file);
    expect(readStateFile(file)).toEqual(d);
    fs.writeFileSync(file, '{"hello":1}');
    expect(() => readStateFile(file)).toThrow(/not a tornet state file/);
    expect(() => readStateFile(path.join(tmp, 'none.json'))).toThrow(/no tornet state/);
  });

  it('sweeps roots whose owner and daemons are gone, and only those', () => {
    const parent = path.join(tmp, 'sweep');
    fs.mkdirSync(parent);
    // A PID that existed and is now gone.
    const deadPid = spawnSync('true').pid!;
    const mk = (name: string, ownerPid: number, detached = false) => {
      const root = path.join(parent, ROOT_PREFIX + name);
      fs.mkdirSync(root);
      writeOwnerRecord(root, { ownerPid, detached, daemons: [{ pid: deadPid, torrcFile: path.join(root, 'a/torrc') }] });
      return root;
    };
    const abandoned = mk('dead', deadPid);
    const mine = mk('mine', process.pid);
    const liveOwner = mk('live', process.ppid);
    const detachedDone = mk('detached', process.ppid, true);
    const foreign = path.join(parent, ROOT_PREFIX + 'no-owner-file');
    fs.mkdirSync(foreign);
    expect(sweepAbandonedRoots(parent).sort()).toEqual([abandoned, detachedDone].sort());
    for (const kept of [mine, liveOwner, foreign]) expect(fs.existsSync(kept)).toBe(true);
  });
});

describe('daemon identity checks', () => {
  it('only recognises a PID whose command line names the torrc', () => {
    expect(isOurTorRunning(process.pid, '/nonexistent/torrc')).toBe(false);
    expect(isOurTorRunning(2 ** 22 + 1, '/x')).toBe(false);
  });
});

describe('cleanup hooks', () => {
  it('are installed while a network is registered and removed after', () => {
    const before = process.listenerCount('SIGINT');
    const net = { teardownSync: () => undefined };
    registerForCleanup(net);
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    expect(process.listenerCount('SIGTERM')).toBeGreaterThan(0);
    unregisterFromCleanup(net);
    expect(process.listenerCount('SIGINT')).toBe(before);
  });
});

describe('socks5ConnectRequest', () => {
  it('encodes a domain-name CONNECT', () => {
    expect(socks5ConnectRequest('ab.onion', 80)).toEqual(Buffer.from([5, 1, 0, 3, 8, ...Buffer.from('ab.onion'), 0, 80]));
    expect(() => socks5ConnectRequest('', 80)).toThrow(RangeError);
  });
});

describe('socks5Probe', async () => {
  const net = await import('node:net');
  const { socks5Probe } = await import('../../harness/tornet/socks-probe.js');

  /** A SOCKS5 server that answers CONNECT with `reply` and records the request. */
  async function fakeSocks(reply: number): Promise<{ port: number; requests: Buffer[]; close(): void }> {
    const requests: Buffer[] = [];
    const server = net.createServer((sock) => {
      let greeted = false;
      sock.on('data', (d: Buffer) => {
        if (!greeted) {
          greeted = true;
          expect([...d]).toEqual([5, 1, 0]);
          sock.write(Buffer.from([5, 0]));
        } else {
          requests.push(d);
          sock.write(Buffer.from([5, reply, 0, 1, 0, 0, 0, 0, 0, 0]));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { port: (server.address() as import('node:net').AddressInfo).port, requests, close: () => server.close() };
  }

  it('returns the reply code of the CONNECT', async () => {
    for (const code of [0, 5, 0xf0]) {
      const s = await fakeSocks(code);
      try {
        expect(await socks5Probe(s.port, 'x.onion', 80, 2000)).toBe(code);
        expect(s.requests[0]).toEqual(socks5ConnectRequest('x.onion', 80));
      } finally {
        s.close();
      }
    }
  });

  it('rejects when nothing listens', async () => {
    const s = await fakeSocks(0);
    s.close();
    await expect(socks5Probe(s.port, 'x.onion', 80, 2000)).rejects.toThrow();
  });
});
