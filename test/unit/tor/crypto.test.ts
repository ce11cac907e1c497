import { describe, expect, it } from 'vitest';
import { createCipheriv, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hexToBytes, bytesToHex } from '../../../src/tor/bytes/index.js';
import {
  kdfTor, hkdfSha256, createFastClientStart, createFastClientComplete, ntorClientStart, ntorClientComplete,
  ntorClientCompleteRaw, x25519FromSecret, splitRelayKeys, Tor1CircuitCrypto, SendmeTagQueue, isSendmeTriggeringCell,
} from '../../../src/tor/crypto/index.js';
import { encodeRelayBody, decodeRelayBody } from '../../../src/tor/cell/index.js';

const h = hexToBytes;
const hex = bytesToHex;
const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'ascii'));

describe('KDF-TOR (C tor test_crypto.c vectors via arti)', () => {
  it('matches the published expansions', () => {
    expect(hex(kdfTor(ascii(''), 100))).toBe(
      '5ba93c9db0cff93f52b521d7420e43f6eda2784fbf8b4530d8d246dd74ac53a13471bba17941dff7c4ea21bb365bbeeaf5f2c654883e56d11e43c44e9842926af7ca0a8cca12604f945414f07b01e13da42c6cf1de3abfdea9b95f34687cbbe92b9a7383');
    expect(hex(kdfTor(ascii('Tor'), 100))).toBe(
      '776c6214fc647aaa5f683c737ee66ec44f03d0372e1cce69227950f236ddf1e329a7ce7c227903303f525a8c6662426e8034870642a6dabbd41b5d97ec9bf2312ea729992f48f8ea2d0ba83f45dfda1a80bdc8b80de01b23e3e0ffae099b3e4ccf28dc28');
    expect(hex(kdfTor(ascii('AN ALARMING ITEM TO FIND ON A MONTHLY AUTO-DEBIT NOTICE'), 100))).toBe(
      'a340b5d126086c3ab29c2af4179196dbf95e1c72431419d3314844bf8f6afb6098db952b95581fb6c33625709d6f4400b8e7ace18a70579fad83c0982ef73f89395bcc39493ad53a685854daf2ba9b78733b805d9a6824c907ee1dba5ac27a1e466d4d10');
  });
});

describe('ntor HKDF (C tor test_crypto.c vectors via arti)', () => {
  const tKey = ascii('ntor-curve25519-sha256-1:key_extract');
  const mExpand = ascii('ntor-curve25519-sha256-1:key_expand');
  it('matches the published expansions', () => {
    expect(hex(hkdfSha256(ascii('Tor'), tKey, mExpand, 100))).toBe(
      '5521492a85139a8d9107a2d5c0d9c91610d0f95989975ebee6c02a4f8d622a6cfdf9b7c7edd3832e2760ded1eac309b76f8d66c4a3c4d6225429b3a016e3c3d45911152fc87bc2de9630c3961be9fdb9f93197ea8e5977180801926d3321fa21513e59ac');
    expect(hex(hkdfSha256(ascii('AN ALARMING ITEM TO FIND ON YOUR CREDIT-RATING STATEMENT'), tKey, mExpand, 100))).toBe(
      'a2aa9b50da7e481d30463adb8f233ff06e9571a0ca6ab6df0fb206fa34e5bc78d063fc291501beec53b36e5a0e434561200c5f8bd13e0f88b3459600b4dc21d69363e2895321c06184879d94b18f078411be70b767c7fc40679a9440a0c95ea83a23efbf');
  });
  it('lays out Df | Db | Kf | Kb | KH', () => {
    const m = Uint8Array.from({ length: 92 }, (_, i) => i);
    const k = splitRelayKeys(m);
    expect([k.df[0], k.db[0], k.kf[0], k.kb[0], k.kb.length]).toEqual([0, 20, 40, 56, 16]);
  });
});

describe('ntor client (arti testvec)', () => {
  const id = h('69546f6c64596f7541626f75745374616972732e');
  const bPk = h('ccbc8541904d18af08753eae967874749e6149f873de937f57f8fd903a21c471');
  const xSk = h('706f6461792069207075742e2e2e2e2e2e2e2e4a454c4c59206f6e2074686973');
  const clientHs = '69546f6c64596f7541626f75745374616972732eccbc8541904d18af08753eae967874749e6149f873de937f57f8fd903a21c471e65dfdbef8b2635837fe2cebc086a8096eae3213e6830dc407516083d412b078';
  const serverHs = h('390480a14362761d6aec1fea840f6e9e928fb2adb7b25c670be1045e35133a371cbdf68b89923e1f85e8e18ee6e805ea333fe4849c790ffd2670bd80fec95cc8');
  const keys = '0c62dee7f48893370d0ef896758d35729867beef1a5121df80e00f79ed349af39b51cae125719182f19d932a667dae1afbf2e336e6910e7822223e763afad0a13342157969dc6b79';

  it('produces the client message and derives the published keys', () => {
    const eph = x25519FromSecret(xSk);
    expect(hex(eph.publicKey)).toBe('e65dfdbef8b2635837fe2cebc086a8096eae3213e6830dc407516083d412b078');
    const start = ntorClientStart({ rsaId: id, ntorKey: bPk }, eph);
    if (!start.ok) throw new Error('start');
    expect(hex(start.value.message)).toBe(clientHs);
    const raw = ntorClientCompleteRaw(start.value.state, serverHs, keys.length / 2);
    expect(raw.ok && hex(raw.value)).toBe(keys);
    const rk = ntorClientComplete(start.value.state, serverHs);
    expect(rk.ok && hex(rk.value.kb)).toBe(keys.slice(112, 144));
  });
  it('rejects a tampered AUTH, a wrong-length reply and a degenerate Y', () => {
    const start = ntorClientStart({ rsaId: id, ntorKey: bPk }, x25519FromSecret(xSk));
    if (!start.ok) throw new Error('start');
    const bad = serverHs.slice();
    bad[60]! ^= 7;
    const r1 = ntorClientComplete(start.value.state, bad);
    expect(!r1.ok && r1.error.code).toBe('HANDSHAKE_AUTH_FAILED');
    const r2 = ntorClientComplete(start.value.state, serverHs.subarray(0, 63));
    expect(!r2.ok && r2.error.code).toBe('BAD_HANDSHAKE_LEN');
    const zeroY = serverHs.slice();
    zeroY.fill(0, 0, 32);
    const r3 = ntorClientComplete(start.value.state, zeroY);
    expect(!r3.ok && r3.error.code).toBe('DH_DEGENERATE');
  });
});

describe('CREATE_FAST (arti testvec, generated from C tor)', () => {
  const cases = [
    ['080E247DF7C252FCD2DC10F459703480C223E3A6', 'BA95C0D092335428BF80093BBED0B7A26C49E1E8696FBF9C8D6BE26504219C000D26AFE370FCEF04',
      'AFA89B4FC8CF882335A582C52478B5FCB1E08DAF707E2C2D23B8C27D30BD461F3DF98A3AF82221CB658AD0AA8680B99067E4F7DBC546970EA9A56B26433C71DA867BDD09C14A1308BC327D6A448D71D2382B3AB6AF0BB4E19649A8DFF607DB9C57A04AC3'],
    ['5F786C724C2F5978474A04FA63772057AD896A03', '6210B037001405742FE78B6F5B34E6DB3C9F2F7E24239498613E0ED872E110A00774A3FCB37A7507',
      'D41B65D83FB4B34A322B658BE4D706EDCD8B62813757E719118C394E1F22E1C8EA8959BAB30E856A914C3054946F547397094DE031F5BCA384C65C8880BF7AAB9CE7BEE33971F9DE8C22A23366F46BF8B5E5112321E216B0E02C62EEA3ABB72A0E062592'],
  ] as const;
  it('checks KH and derives keys that follow KH in the KDF-TOR stream', () => {
    for (const [x, reply, keyStream] of cases) {
      const { state, message } = createFastClientStart(h(x));
      expect(hex(message)).toBe(x.toLowerCase());
      const r = createFastClientComplete(state, h(reply).subarray(0, 20), h(reply).subarray(20));
      if (!r.ok) throw new Error(r.error.message);
      // arti's vector is the key stream after KH: Df | Db | Kf | Kb ...
      const ks = keyStream.toLowerCase();
      expect(hex(r.value.df) + hex(r.value.db) + hex(r.value.kf) + hex(r.value.kb)).toBe(ks.slice(0, 144));
      const bad = h(reply).slice(20);
      bad[15]! ^= 16;
      expect(createFastClientComplete(state, h(reply).subarray(0, 20), bad).ok).toBe(false);
    }
  });
});

describe('tor1 relay crypto', () => {
  const fx = JSON.parse(readFileSync(new URL('../../fixtures/tor/proto/tor1-cell-crypt.json', import.meta.url), 'utf8')) as {
    keyMaterial: string[]; shakeSeed: string; vectors: { cell: number; encrypted: string }[];
  };
  const setup = () => {
    const c = new Tor1CircuitCrypto();
    for (const k of fx.keyMaterial) c.addHop(splitRelayKeys(ascii(k)));
    return c;
  };

  it('matches C tor ciphertexts for 51 DATA cells to the third hop (arti cell_crypt vectors)', () => {
    const c = setup();
    const stream = createHash('shake256', { outputLength: 51 * 498 }).update(ascii(fx.shakeSeed)).digest();
    const byCell = new Map(fx.vectors.map((v) => [v.cell, v.encrypted]));
    let checked = 0;
    for (let n = 0; n < 51; n++) {
      const body = new Uint8Array(509);
      body[0] = 2; body[4] = 1; body[9] = 1; body[10] = 242;
      body.set(stream.subarray(n * 498, (n + 1) * 498), 11);
      c.encryptOutbound(body, 2);
      const want = byCell.get(n);
      if (want) {
        expect(hex(body)).toBe(want);
        checked++;
      }
    }
    expect(checked).toBe(fx.vectors.length);
  });

  it('recognizes inbound cells at the right hop, commits digests, and rejects garbage', () => {
    const client = setup();
    const relays = fx.keyMaterial.map((k) => new RelayBackwardEmulator(splitRelayKeys(ascii(k))));
    for (let round = 0; round < 20; round++) {
      const origin = round % 3;
      const r = encodeRelayBody({ command: 2, streamId: 7, data: ascii(`hello ${round}`) });
      if (!r.ok) throw new Error('encode');
      const body = r.value;
      const tagOut = relays[origin]!.originate(body);
      for (let j = origin - 1; j >= 0; j--) relays[j]!.relay(body);
      const rec = client.decryptInbound(body);
      expect(rec?.hop).toBe(origin);
      expect(hex(rec!.tag)).toBe(hex(tagOut));
      const d = decodeRelayBody(body);
      expect(d.ok && Buffer.from(d.value.data).toString()).toBe(`hello ${round}`);
    }
    expect(client.decryptInbound(new Uint8Array(509).fill(0xaa))).toBeNull();
  });
});

/** A relay's backward direction, written straight from tor-spec §5.5.3 with node:crypto. */
class RelayBackwardEmulator {
  private readonly cipher;
  private readonly digest;
  constructor(keys: { kb: Uint8Array; db: Uint8Array }) {
    this.cipher = createCipheriv('aes-128-ctr', keys.kb, Buffer.alloc(16));
    this.digest = createHash('sha1').update(keys.db);
  }
  originate(body: Uint8Array): Uint8Array {
    body.fill(0, 1, 3);
    body.fill(0, 5, 9);
    this.digest.update(body);
    const tag = new Uint8Array(this.digest.copy().digest());
    body.set(tag.subarray(0, 4), 5);
    this.relay(body);
    return tag;
  }
  relay(body: Uint8Array): void {
    body.set(this.cipher.update(body));
  }
}

describe('SENDME v1 bookkeeping', () => {
  it('records the 100th, 200th … DATA cell and matches FIFO', () => {
    const triggering: number[] = [];
    let window = 1000;
    for (let n = 1; n <= 1000; n++) {
      if (isSendmeTriggeringCell(window, 100, 1000)) triggering.push(n);
      window--;
    }
    expect(triggering).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    const q = new SendmeTagQueue(2);
    expect(q.push(h('01'.repeat(20)))).toBe(true);
    expect(q.push(h('02'.repeat(20)))).toBe(true);
    expect(q.push(h('03'.repeat(20)))).toBe(false);
    expect(q.matchOldest(h('01'.repeat(20)))).toBe(true);
    expect(q.matchOldest(h('01'.repeat(20)))).toBe(false);
    expect(q.matchOldest(h('02'.repeat(20)))).toBe(false);
  });
});
