import { describe, expect, it } from 'vitest';
import { createPrivateKey } from 'node:crypto';
import { hexToBytes, bytesToHex } from '../../../src/tor/bytes/index.js';
import { ntorV3ClientStart, ntorV3ClientComplete, ntorV3ServerHandshake, x25519FromSecret } from '../../../src/tor/crypto/index.js';

const h = hexToBytes;
const hex = bytesToHex;

// Test vectors of C tor's src/test/test_ntor_v3.c (from the Python reference, confirmed with arti).
const V = {
  bSecret: '4051daa5921cfa2a1c27b08451324919538e79e788a81b38cbed097a5dff454a',
  bPublic: 'f8307a2bc1870b00b828bb74dbb8fd88e632a6375ab3bcd1ae706aaa8b6cdd1d',
  id: '9fad2af287ef942632833d21f946c6260c33fae6172b60006e86e4a6911753a2',
  xSecret: 'b825a3719147bcbe5fb1d0b0fcb9c09e51948048e2e3283d2ab7b45b5ef38b49',
  xPublic: '252fe9ae91264c91d4ecb8501f79d0387e34ad8ca0f7c995184f7d11d5da4f46',
  ySecret: '4865a5b7689dafd978f529291c7171bc159be076b92186405d13220b80e2a053',
  yPublic: '4bf4814326fdab45ad5184f5518bd7fae25dc59374062698201a50a22954246d',
  clientMessage: '68656c6c6f20776f726c64',
  verification: '78797a7a79',
  clientHandshake:
    '9fad2af287ef942632833d21f946c6260c33fae6172b60006e86e4a6911753a2f8307a2bc1870b00b828bb74dbb8fd88e632a6375ab3bcd1ae706aaa8b6cdd1d252fe9ae91264c91d4ecb8501f79d0387e34ad8ca0f7c995184f7d11d5da4f463bebd9151fd3b47c180abc9e044d53565f04d82bbb3bebed3d06cea65db8be9c72b68cd461942088502f67',
  serverMessage: '486f6c61204d756e646f',
  serverHandshake:
    '4bf4814326fdab45ad5184f5518bd7fae25dc59374062698201a50a22954246d2fc5f8773ca824542bc6cf6f57c7c29bbf4e5476461ab130c5b18ab0a91276651202c3e1e87c0d32054c',
  keys:
    '9c19b631fd94ed86a817e01f6c80b0743a43f5faebd39cfaa8b00fa8bcc65c3bfeaa403d91acbd68a821bf6ee8504602b094a254392a07737d5662768c7a9fb1b2814bb34780eaee6e867c773e28c212ead563e98a1cd5d5b4576f5ee61c59bde025ff2851bb19b721421694f263818e3531e43a9e4e3e2c661e2ad547d8984caa28ebecd3e4525452299be26b9185a20a90ce1eac20a91f2832d731b54502b09749b5a2a2949292f8cfcbeffb790c7790ed935a9d251e7e336148ea83b063a5618fcff674a44581585fd22077ca0e52c59a24347a38d1a1ceebddbf238541f226b8f88d0fb9c07a1bcd2ea764bbbb5dacdaf5312a14c0b9e4f06309b0333b4a',
};

const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const serverKey = () => ({
  ed25519Id: h(V.id),
  ntorKey: h(V.bPublic),
  secret: createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(V.bSecret, 'hex')]), format: 'der', type: 'pkcs8' }),
});

describe('ntor v3 (C tor test_ntor_v3.c vectors)', () => {
  it('client onion skin, relay answer, and both sides\' keys match the published bytes', () => {
    const x = x25519FromSecret(h(V.xSecret));
    expect(hex(x.publicKey)).toBe(V.xPublic);
    const start = ntorV3ClientStart({ ed25519Id: h(V.id), ntorKey: h(V.bPublic) }, h(V.clientMessage), h(V.verification), x);
    if (!start.ok) throw new Error(start.error.message);
    expect(hex(start.value.onionSkin)).toBe(V.clientHandshake);

    const y = x25519FromSecret(h(V.ySecret));
    expect(hex(y.publicKey)).toBe(V.yPublic);
    let seen = '';
    const srv = ntorV3ServerHandshake(serverKey(), start.value.onionSkin, (cm) => ((seen = hex(cm)), h(V.serverMessage)), 256, h(V.verification), y);
    if (!srv.ok) throw new Error(srv.error.message);
    expect(seen).toBe(V.clientMessage);
    expect(hex(srv.value.reply)).toBe(V.serverHandshake);
    expect(hex(srv.value.keys)).toBe(V.keys);

    const done = ntorV3ClientComplete(start.value.state, h(V.serverHandshake), 256);
    if (!done.ok) throw new Error(done.error.message);
    expect(hex(done.value.serverMessage)).toBe(V.serverMessage);
    expect(hex(done.value.keys)).toBe(V.keys);
  });

  it('rejects a tampered AUTH, a short reply, and a tampered client MAC', () => {
    const start = ntorV3ClientStart({ ed25519Id: h(V.id), ntorKey: h(V.bPublic) }, h(V.clientMessage), h(V.verification), x25519FromSecret(h(V.xSecret)));
    if (!start.ok) throw new Error('start');
    const bad = h(V.serverHandshake);
    bad[40] ^= 1;
    const r = ntorV3ClientComplete(start.value.state, bad, 72);
    expect(!r.ok && r.error.code).toBe('HANDSHAKE_AUTH_FAILED');
    const short = ntorV3ClientComplete(start.value.state, bad.subarray(0, 63), 72);
    expect(!short.ok && short.error.code).toBe('BAD_HANDSHAKE_LEN');
    const skin = start.value.onionSkin.slice();
    skin[skin.length - 1] ^= 1;
    const s = ntorV3ServerHandshake(serverKey(), skin, () => new Uint8Array(0), 72, h(V.verification));
    expect(!s.ok && s.error.code).toBe('HANDSHAKE_AUTH_FAILED');
  });

  it('round-trips with fresh keys and the circuit-extend verification string', () => {
    const b = x25519FromSecret(h(V.bSecret));
    const start = ntorV3ClientStart({ ed25519Id: h(V.id), ntorKey: b.publicKey }, Uint8Array.of(1, 1, 0));
    if (!start.ok) throw new Error('start');
    const srv = ntorV3ServerHandshake({ ed25519Id: h(V.id), ntorKey: b.publicKey, secret: b.secret }, start.value.onionSkin, () => Uint8Array.of(1, 2, 1, 31), 72);
    if (!srv.ok) throw new Error(srv.error.message);
    expect(hex(srv.value.clientMessage)).toBe('010100');
    const done = ntorV3ClientComplete(start.value.state, srv.value.reply, 72);
    if (!done.ok) throw new Error(done.error.message);
    expect(hex(done.value.serverMessage)).toBe('0102011f');
    expect(hex(done.value.keys)).toBe(hex(srv.value.keys));
  });
});
