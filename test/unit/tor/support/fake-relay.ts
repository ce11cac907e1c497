// A scripted relay for proto unit tests: answers the link handshake with real certificates captured
// from a chutney network (arti's test data), answers CREATE_FAST, and runs relay-side tor1 for a
// one-hop circuit. Written from tor-spec; it only mirrors what a test needs.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hexToBytes } from '../../../../src/tor/bytes/index.js';
import {
  ChanCmd, ChannelCellDecoder, encodeChannelCell, encodeCertsBody, encodeVersionsBody, encodeNetinfoBody,
  encodeAuthChallengeBody, encodeCreatedFastBody, encodeRelayBody, decodeRelayBody, type ChannelCell, type RelayBody,
} from '../../../../src/tor/cell/index.js';
import { kdfTor, splitRelayKeys, Tor1CircuitCrypto, type RelayKeys } from '../../../../src/tor/crypto/index.js';

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

/** Relay-side tor1 for one hop: its forward direction is the client's backward one. */
export class RelayHop {
  private readonly mirror = new Tor1CircuitCrypto();
  constructor(readonly keys: RelayKeys) {
    this.mirror.addHop({ df: keys.db, db: keys.df, kf: keys.kb, kb: keys.kf });
  }
  /** Originate a relay cell toward the client; returns the relay's 20-byte digest (SENDME tag). */
  originate(command: number, streamId: number, data: Uint8Array): { body: Uint8Array; tag: Uint8Array } {
    const b = encodeRelayBody({ command, streamId, data });
    if (!b.ok) throw new Error(b.error.message);
    const tag = this.mirror.encryptOutbound(b.value, 0);
    return { body: b.value, tag };
  }
  /** Decrypt a cell from the client; null if not recognized. */
  receive(body: Uint8Array): { msg: RelayBody; tag: Uint8Array } | null {
    const copy = body.slice();
    const rec = this.mirror.decryptInbound(copy);
    if (!rec) return null;
    const m = decodeRelayBody(copy);
    if (!m.ok) throw new Error(m.error.message);
    return { msg: m.value, tag: rec.tag };
  }
}

/** Collects everything the client sends and decodes it as a relay would. */
export class FakeRelay {
  readonly decoder = new ChannelCellDecoder({ firstCellShortCircId: true });
  readonly cells: ChannelCell[] = [];
  hop: RelayHop | null = null;
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
    this.hop = new RelayHop(splitRelayKeys(k.subarray(20)));
    return cell(this.circId, ChanCmd.CREATED_FAST, encodeCreatedFastBody({ y, kh }));
  }

  /** A RELAY cell from this relay to the client. */
  relayCell(command: number, streamId: number, data: Uint8Array = new Uint8Array(0)): { bytes: Uint8Array; tag: Uint8Array } {
    const { body, tag } = this.hop!.originate(command, streamId, data);
    return { bytes: cell(this.circId, ChanCmd.RELAY, body), tag };
  }

  rawCell(command: number, body: Uint8Array): Uint8Array {
    return cell(this.circId, command, body);
  }

  /** Decrypt the RELAY / RELAY_EARLY cells the client sent since the last call. */
  relayMessages(): { early: boolean; msg: RelayBody; tag: Uint8Array }[] {
    return this.take()
      .filter((c) => c.command === ChanCmd.RELAY || c.command === ChanCmd.RELAY_EARLY)
      .map((c) => {
        const r = this.hop!.receive(c.body);
        if (!r) throw new Error('relay could not recognize a client cell');
        return { early: c.command === ChanCmd.RELAY_EARLY, ...r };
      });
  }
}
