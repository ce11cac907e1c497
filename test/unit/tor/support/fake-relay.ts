// A scripted relay for proto unit tests: answers the link handshake with real certificates captured
// from a chutney network (arti's test data), answers CREATE_FAST, and runs relay-side tor1 for a
// one-hop circuit. Written from tor-spec; it only mirrors what a test needs.
import {
  createCipheriv, createHash, createHmac, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes,
  type Cipher, type Hash, type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hexToBytes } from '../../../../src/tor/bytes/index.js';
import {
  ChanCmd, ChannelCellDecoder, encodeChannelCell, encodeCertsBody, encodeVersionsBody, encodeNetinfoBody,
  encodeAuthChallengeBody, encodeCreatedFastBody, encodeRelayBody, decodeRelayBody, decodeExtend2Body, encodeCreated2Body,
  RelayCmd, type ChannelCell, type RelayBody,
} from '../../../../src/tor/cell/index.js';
import { kdfTor, splitRelayKeys, type RelayKeys } from '../../../../src/tor/crypto/index.js';

export const certsFixture = JSON.parse(
  readFileSync(new URL('../../../fixtures/tor/proto/chutney-certs.json', import.meta.url), 'utf8'),
) as Record<string, string>;

export const FIXTURE_NOW = Date.parse(certsFixture.validAt!);
export const FIXTURE_TLS = hexToBytes(certsFixture.tlsCertSha256!);
export const FIXTURE_IDS = { rsaId: hexToBytes(certsFixture.rsaId!), ed25519Id: hexToBytes(certsFixture.ed25519Id!) };

function cell(circId: number, command: number, body: Uint8Array, idLen: 2 | 4 = 4): Uint8Array {
  const r = encodeChannelCell({ circId, command, body }, idLen);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** The relay's handshake flight: VERSIONS, CERTS, AUTH_CHALLENGE, NETINFO (plus a VPADDING). */
export function relayHandshakeBytes(opts: { versions?: number[]; certs?: { certType: number; body: Uint8Array }[]; netinfoFirst?: boolean } = {}): Uint8Array {
  const certs = opts.certs ?? [
    { certType: 2, body: hexToBytes(certsFixture.certType2!) },
    { certType: 4, body: hexToBytes(certsFixture.certType4!) },
    { certType: 5, body: hexToBytes(certsFixture.certType5!) },
    { certType: 7, body: hexToBytes(certsFixture.certType7!) },
  ];
  const parts = [
    cell(0, ChanCmd.VERSIONS, encodeVersionsBody(opts.versions ?? [3, 4, 5]), 2),
    ...(opts.netinfoFirst ? [] : [cell(0, ChanCmd.CERTS, encodeCertsBody(certs))]),
    cell(0, ChanCmd.VPADDING, new Uint8Array(3)),
    cell(0, ChanCmd.AUTH_CHALLENGE, encodeAuthChallengeBody({ challenge: new Uint8Array(32).fill(0xff), methods: [3] })),
    cell(0, ChanCmd.NETINFO, encodeNetinfoBody({ time: Math.floor(FIXTURE_NOW / 1000), otherAddr: { type: 4, bytes: hexToBytes('7f000001') }, myAddrs: [{ type: 4, bytes: hexToBytes('7f000002') }] })),
  ];
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** Relay-side tor1 for one hop, written straight from tor-spec §5.5 with node:crypto. */
export class RelayHop {
  private readonly fwdCipher: Cipher;
  private fwdDigest: Hash;
  private readonly bwdCipher: Cipher;
  private readonly bwdDigest: Hash;
  constructor(readonly keys: RelayKeys) {
    this.fwdCipher = createCipheriv('aes-128-ctr', keys.kf, Buffer.alloc(16));
    this.fwdDigest = createHash('sha1').update(keys.df);
    this.bwdCipher = createCipheriv('aes-128-ctr', keys.kb, Buffer.alloc(16));
    this.bwdDigest = createHash('sha1').update(keys.db);
  }
  /** Peel our forward layer in place; the decoded message if the cell is for us. */
  forward(body: Uint8Array): { msg: RelayBody; tag: Uint8Array } | null {
    body.set(this.fwdCipher.update(body));
    if (body[1] !== 0 || body[2] !== 0) return null;
    const zeroed = body.slice();
    zeroed.fill(0, 5, 9);
    const trial = this.fwdDigest.copy().update(zeroed);
    const tag = new Uint8Array(trial.copy().digest());
    if (Buffer.compare(Buffer.from(tag.subarray(0, 4)), Buffer.from(body.subarray(5, 9))) !== 0) return null;
    this.fwdDigest = trial;
    const m = decodeRelayBody(body);
    if (!m.ok) throw new Error(m.error.message);
    return { msg: m.value, tag };
  }
  /** Originate a cell toward the client (sets the digest, adds our layer); returns our tag. */
  originate(body: Uint8Array): Uint8Array {
    body.fill(0, 1, 3);
    body.fill(0, 5, 9);
    this.bwdDigest.update(body);
    const tag = new Uint8Array(this.bwdDigest.copy().digest());
    body.set(tag.subarray(0, 4), 5);
    this.backward(body);
    return tag;
  }
  /** Add our backward layer to a cell from further out. */
  backward(body: Uint8Array): void {
    body.set(this.bwdCipher.update(body));
  }
}

// ntor responder (tor-spec §5.1.4), for EXTENDED2 in tests.
const PROTOID = Buffer.from('ntor-curve25519-sha256-1');
const tag = (s: string) => Buffer.concat([PROTOID, Buffer.from(s)]);
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');

export interface NtorServerKey {
  readonly rsaId: Uint8Array;
  readonly secret: KeyObject;
  readonly publicKey: Uint8Array;
}

export function ntorServerKey(rsaId: Uint8Array): NtorServerKey {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { rsaId, secret: privateKey, publicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12)) };
}

/** Answer an ntor client handshake; `tamper` corrupts AUTH. */
export function ntorServerReply(key: NtorServerKey, clientMsg: Uint8Array, tamper = false): { reply: Uint8Array; keys: RelayKeys } {
  const id = clientMsg.subarray(0, 20);
  const b = clientMsg.subarray(20, 52);
  const x = clientMsg.subarray(52, 84);
  if (Buffer.compare(Buffer.from(id), Buffer.from(key.rsaId)) !== 0 || Buffer.compare(Buffer.from(b), Buffer.from(key.publicKey)) !== 0) {
    throw new Error('ntor handshake for another relay');
  }
  const eph = generateKeyPairSync('x25519');
  const y = eph.publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
  const X = createPublicKey({ key: Buffer.concat([X25519_SPKI, x]), format: 'der', type: 'spki' });
  const xy = diffieHellman({ privateKey: eph.privateKey, publicKey: X });
  const xb = diffieHellman({ privateKey: key.secret, publicKey: X });
  const secretInput = Buffer.concat([xy, xb, id, b, x, y, PROTOID]);
  const verify = createHmac('sha256', tag(':verify')).update(secretInput).digest();
  const auth = createHmac('sha256', tag(':mac')).update(Buffer.concat([verify, id, b, y, x, PROTOID, Buffer.from('Server')])).digest();
  if (tamper) auth[0]! ^= 1;
  const okm = new Uint8Array(hkdfSync('sha256', secretInput, tag(':key_extract'), tag(':key_expand'), 72));
  return { reply: new Uint8Array(Buffer.concat([y, auth])), keys: splitRelayKeys(okm) };
}

/**
 * Collects everything the client sends and plays a chain of relays behind the first one: hop 0
 * answers CREATE_FAST, later hops are added by answering EXTEND2 with EXTENDED2.
 */
export class FakeRelay {
  readonly decoder = new ChannelCellDecoder({ firstCellShortCircId: true });
  readonly cells: ChannelCell[] = [];
  readonly hops: RelayHop[] = [];
  circId = 0;

  /** The client channel's `send` sink. */
  readonly sink = (bytes: Uint8Array): void => {
    const r = this.decoder.push(bytes);
    if (!r.ok) throw new Error(`client sent undecodable bytes: ${r.error.message}`);
    this.cells.push(...r.value);
  };

  take(): ChannelCell[] {
    return this.cells.splice(0);
  }

  /** Answer the pending CREATE_FAST; `tamper` corrupts KH. */
  createdFast(tamper = false): Uint8Array {
    const create = this.take().find((c) => c.command === ChanCmd.CREATE_FAST);
    if (!create) throw new Error('no CREATE_FAST');
    this.circId = create.circId;
    const x = create.body.subarray(0, 20);
    const y = new Uint8Array(randomBytes(20));
    const k = kdfTor(Uint8Array.from([...x, ...y]), 92);
    const kh = k.slice(0, 20);
    if (tamper) kh[0]! ^= 1;
    this.hops.length = 0;
    this.hops.push(new RelayHop(splitRelayKeys(k.subarray(20))));
    return cell(this.circId, ChanCmd.CREATED_FAST, encodeCreatedFastBody({ y, kh }));
  }

  /** A RELAY cell originated by hop `from` (default: the last) toward the client. */
  relayCell(command: number, streamId: number, data: Uint8Array = new Uint8Array(0), from = this.hops.length - 1): { bytes: Uint8Array; tag: Uint8Array } {
    const b = encodeRelayBody({ command, streamId, data });
    if (!b.ok) throw new Error(b.error.message);
    const body = b.value;
    const t = this.hops[from]!.originate(body);
    for (let j = from - 1; j >= 0; j--) this.hops[j]!.backward(body);
    return { bytes: cell(this.circId, ChanCmd.RELAY, body), tag: t };
  }

  rawCell(command: number, body: Uint8Array): Uint8Array {
    return cell(this.circId, command, body);
  }

  /** Decrypt the RELAY / RELAY_EARLY cells the client sent since the last call, hop by hop. */
  relayMessages(): { early: boolean; hop: number; msg: RelayBody; tag: Uint8Array }[] {
    return this.take()
      .filter((c) => c.command === ChanCmd.RELAY || c.command === ChanCmd.RELAY_EARLY)
      .map((c) => {
        const body = c.body.slice();
        for (let i = 0; i < this.hops.length; i++) {
          const r = this.hops[i]!.forward(body);
          if (r) return { early: c.command === ChanCmd.RELAY_EARLY, hop: i, ...r };
        }
        throw new Error('no relay recognized a client cell');
      });
  }

  /** Answer an EXTEND2 (already taken from relayMessages) as the current last hop. */
  extended2(key: NtorServerKey, extend2Body: Uint8Array, tamper = false): Uint8Array {
    const ext = decodeExtend2Body(extend2Body);
    if (!ext.ok) throw new Error(ext.error.message);
    const { reply, keys } = ntorServerReply(key, ext.value.handshakeData, tamper);
    const out = this.relayCell(RelayCmd.EXTENDED2, 0, encodeCreated2Body(reply));
    if (!tamper) this.hops.push(new RelayHop(keys));
    return out.bytes;
  }
}
