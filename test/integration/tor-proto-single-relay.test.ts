// One standalone C tor relay on 127.0.0.1 (no network: a fake local DirAuthority keeps it from reaching
// out): link handshake with CERTS validation, CREATE_FAST, BEGIN_DIR fetch of its own descriptor,
// and ntor CREATE2 with the ntor-onion-key parsed from that descriptor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { hexToBytes } from '../../src/tor/bytes/index.js';
import { openTlsChannel, buildFastCircuit, buildNtorCircuit, httpGetOverDirStream, openDirStream, readToEnd } from '../../src/tor/transport/index.js';

/** The relay's ntor public key from `keys/secret_onion_key_ntor` (32-byte tag | secret | public). */
function readNtorPublicKey(root: string): Uint8Array {
  const f = fs.readFileSync(`${root}/data/keys/secret_onion_key_ntor`);
  if (f.length !== 96 || !f.subarray(0, 18).toString('latin1').startsWith('== c25519v1: onion')) throw new Error('unexpected ntor key file');
  return new Uint8Array(f.subarray(64, 96));
}

interface Relay { proc: ChildProcess; dir: string; orPort: number; rsaId: Uint8Array; ed25519Id: Uint8Array }

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

async function startRelay(): Promise<Relay> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onionplane-proto-relay-'));
  fs.chmodSync(dir, 0o700);
  const orPort = await freePort();
  const fakeAuth = await freePort();
  const torrc = [
    `DataDirectory ${dir}/data`, `ORPort 127.0.0.1:${orPort}`, 'Address 127.0.0.1', 'AssumeReachable 1',
    'PublishServerDescriptor 0', 'ExitRelay 0', 'ExitPolicy reject *:*', 'SocksPort 0', 'Nickname protorelay',
    `Log notice file ${dir}/notice.log`, 'ContactInfo onionplane-test', `__OwningControllerProcess ${process.pid}`,
    // A local, non-existent authority: the relay never contacts the public network.
    `DirAuthority fake orport=${fakeAuth} no-v2 v3ident=${'0'.repeat(39)}1 127.0.0.1:${fakeAuth} ${'0'.repeat(39)}2`,
  ].join('\n');
  fs.writeFileSync(`${dir}/torrc`, torrc);
  const proc = spawn('tor', ['-f', `${dir}/torrc`], { stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error('relay did not start');
    const log = fs.existsSync(`${dir}/notice.log`) ? fs.readFileSync(`${dir}/notice.log`, 'utf8') : '';
    if (/Bootstrapped 0%|Now checking whether IPv4 ORPort/.test(log) && fs.existsSync(`${dir}/data/fingerprint-ed25519`)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const rsaHex = fs.readFileSync(`${dir}/data/fingerprint`, 'utf8').trim().split(' ')[1]!;
  const edB64 = fs.readFileSync(`${dir}/data/fingerprint-ed25519`, 'utf8').trim().split(' ')[1]!;
  return { proc, dir, orPort, rsaId: hexToBytes(rsaHex), ed25519Id: new Uint8Array(Buffer.from(edB64, 'base64')) };
}

describe('tor proto against one C tor relay', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(() => {
    if (relay?.proc.pid) {
      try { process.kill(relay.proc.pid, 'SIGTERM'); } catch { /* already gone */ }
    }
    if (relay) fs.rmSync(relay.dir, { recursive: true, force: true });
  });

  it('completes the link handshake and verifies identities bound to TLS', async () => {
    const ch = await openTlsChannel({ host: '127.0.0.1', port: relay.orPort, expected: { rsaId: relay.rsaId, ed25519Id: relay.ed25519Id } });
    expect([4, 5]).toContain(ch.info.linkVersion);
    expect(Buffer.from(ch.info.peer.rsaId).equals(Buffer.from(relay.rsaId))).toBe(true);
    expect(Math.abs(ch.info.clockSkewSeconds)).toBeLessThan(60);
    ch.close();
  });

  it('refuses a relay whose RSA identity is not the expected one', async () => {
    const wrong = relay.rsaId.slice();
    wrong[0]! ^= 1;
    await expect(openTlsChannel({ host: '127.0.0.1', port: relay.orPort, expected: { rsaId: wrong } })).rejects.toThrow(/CERTS_INVALID/);
  });

  it('CREATE_FAST + BEGIN_DIR carries HTTP; ntor CREATE2 works with the relay ntor key', async () => {
    const ch = await openTlsChannel({ host: '127.0.0.1', port: relay.orPort, expected: { rsaId: relay.rsaId, ed25519Id: relay.ed25519Id } });
    const circ = await buildFastCircuit(ch);
    expect(circ.hops).toBe(1);
    // A relay without a consensus answers directory requests, if only with 404: the bytes crossed
    // CREATE_FAST keys, tor1 crypto both ways, BEGIN_DIR, DATA and END.
    const resp = Buffer.from(await httpGetOverDirStream(circ, '/tor/server/authority')).toString('latin1');
    expect(resp).toMatch(/^HTTP\/1.0 (200|404) /);
    circ.destroy();

    const ntorKey = readNtorPublicKey(relay.dir);
    const ntorCirc = await buildNtorCircuit(ch, { rsaId: relay.rsaId, ntorKey });
    const dir = await openDirStream(ntorCirc);
    await dir.write(new Uint8Array(Buffer.from('GET /tor/server/authority HTTP/1.0\r\n\r\n')));
    const again = Buffer.from(await readToEnd(dir)).toString('latin1');
    expect(again.split('\r\n')[0]).toBe(resp.split('\r\n')[0]);
    expect(dir.endReason).toBe('DONE');
    // A wrong ntor key fails the handshake at the relay: it answers with DESTROY.
    const bad = ntorKey.slice();
    bad[0]! ^= 0x55;
    await expect(buildNtorCircuit(ch, { rsaId: relay.rsaId, ntorKey: bad })).rejects.toThrow(/circuit closed/);
    ch.close();
  });
});
