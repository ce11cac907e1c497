// A congestion-controlled 2-hop circuit against a scripted relay chain: CREATE_FAST to hop 1, then
// EXTEND2 with ntor v3 (asking for congestion control unless askCc is false) to hop 2, which answers
// the CC request with sendme_inc `inc` (null: no CC response).
import { generateKeyPairSync } from 'node:crypto';
import { hexToBytes } from '../../../../src/tor/bytes/index.js';
import {
  RelayCmd, HandshakeType, decodeExtend2Body, decodeNtorV3Extensions, encodeCreated2Body, encodeNtorV3Extensions, NtorV3ExtType,
} from '../../../../src/tor/cell/index.js';
import { ntorV3ServerHandshake, splitRelayKeys, TOR1_KEY_MATERIAL_LEN } from '../../../../src/tor/crypto/index.js';
import { CC_DEFAULT_PARAMS, Channel, type CircuitEvent } from '../../../../src/tor/proto/index.js';
import { FakeRelay, RelayHop, relayHandshakeBytes, FIXTURE_NOW, FIXTURE_TLS, FIXTURE_IDS } from './fake-relay.js';

export function v3Key(n: number) {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    rsaId: new Uint8Array(20).fill(n),
    ed25519Id: new Uint8Array(32).fill(n),
    ntorKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12)),
    secret: privateKey,
  };
}

/** Returns the channel, the scripted relay, the circuit, its events, and the extension types hop 2 was asked for. */
export function ccCircuit(opts: { inc: number | null; askCc?: boolean }, now = FIXTURE_NOW) {
  const relay = new FakeRelay();
  const ch = new Channel({ expected: FIXTURE_IDS, tlsCertSha256: FIXTURE_TLS, peerAddr: { type: 4, bytes: hexToBytes('7f000001') }, send: relay.sink });
  ch.start(now);
  ch.receive(relayHandshakeBytes(), now);
  relay.take();
  const c = ch.createCircuitFast(now);
  if (!c.ok) throw new Error(c.error.message);
  const circ = c.value;
  const events: CircuitEvent[] = [];
  circ.onEvent = (e) => events.push(e);
  ch.receive(relay.createdFast(), now);
  const key = v3Key(2);
  const r = circ.extend({ ...key, addr: '10.0.0.2', port: 9002, ntorV3: true, ...(opts.askCc === false ? {} : { congestionControl: CC_DEFAULT_PARAMS }) }, now);
  if (!r.ok) throw new Error(r.error.message);
  const [m] = relay.relayMessages();
  const ext = decodeExtend2Body(m!.msg.data);
  if (!ext.ok) throw new Error('extend2');
  if (ext.value.handshakeType !== HandshakeType.NTOR_V3) throw new Error(`EXTEND2 handshake type ${ext.value.handshakeType}, not ntor v3`);
  let requested: number[] = [];
  const srv = ntorV3ServerHandshake(key, ext.value.handshakeData, (cm) => {
    const exts = decodeNtorV3Extensions(cm);
    requested = exts.ok ? exts.value.map((e) => e.type) : [];
    const reply = encodeNtorV3Extensions(opts.inc === null ? [] : [{ type: NtorV3ExtType.CC_RESPONSE, body: Uint8Array.of(opts.inc) }]);
    if (!reply.ok) throw new Error('reply');
    return reply.value;
  }, TOR1_KEY_MATERIAL_LEN);
  if (!srv.ok) throw new Error(srv.error.message);
  ch.receive(relay.relayCell(RelayCmd.EXTENDED2, 0, encodeCreated2Body(srv.value.reply)).bytes, now);
  if (circ.state === 'open') relay.hops.push(new RelayHop(splitRelayKeys(srv.value.keys)));
  return { ch, relay, circ, events, requested };
}
