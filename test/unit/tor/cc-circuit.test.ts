// Congestion control through the proto engines against a scripted relay chain: ntor v3 EXTEND2 with
// the CC request, the exit's CC response, circuit SENDMEs every sendme_inc cells, no stream SENDMEs,
// uploads limited by cwnd and by the exit's XOFF, and a slow consumer stopping the exit with XOFF.
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../../src/tor/bytes/index.js';
import {
  ChanCmd, RelayCmd, HandshakeType, decodeSendmeBody, decodeXonBody, encodeConnectedBody, encodeCreated2Body,
  encodeXoffBody, encodeXonBody, NtorV3ExtType, RELAY_DATA_MAX, encodeSendmeBody,
} from '../../../src/tor/cell/index.js';
import { ntorV3ServerHandshake, TOR1_KEY_MATERIAL_LEN } from '../../../src/tor/crypto/index.js';
import { CC_DEFAULT_PARAMS, Channel, type Circuit, type StreamEvent } from '../../../src/tor/proto/index.js';
import { FakeRelay, relayHandshakeBytes, FIXTURE_NOW, FIXTURE_TLS, FIXTURE_IDS } from './support/fake-relay.js';
import { ccCircuit, v3Key } from './support/cc-circuit.js';

const now = FIXTURE_NOW;

function openStream(ch: Channel, relay: FakeRelay, circ: Circuit, freeSpace: () => number) {
  const s = circ.beginStream('127.0.0.1', 80, { freeSpace }, now);
  if (!s.ok) throw new Error(s.error.message);
  const ev: StreamEvent[] = [];
  s.value.onEvent = (e) => ev.push(e);
  relay.relayMessages();
  ch.receive(relay.relayCell(RelayCmd.CONNECTED, s.value.id, encodeConnectedBody({ addr: null })).bytes, now);
  return { stream: s.value, ev };
}

describe('ntor v3 hop with congestion control (scripted relay)', () => {
  it('asks for CC in the encrypted extensions and takes the exit\'s sendme_inc', () => {
    const { circ, events, requested } = ccCircuit({ inc: 31 });
    expect(requested).toEqual([NtorV3ExtType.CC_REQUEST]);
    expect(events.at(-1)).toEqual({ type: 'extended', hops: 2 });
    expect(circ.ccOf(1)?.sendmeInc).toBe(31);
    expect(circ.ccOf(0)).toBeNull();
  });

  it('without a CC response the hop keeps fixed windows; an unasked or out-of-range response closes the circuit', () => {
    const plain = ccCircuit({ inc: null });
    expect(plain.circ.state).toBe('open');
    expect(plain.circ.ccOf(1)).toBeNull();
    expect(plain.circ.windowsOf(1)).toEqual({ packageWindow: 1000, deliverWindow: 1000 });
    const unasked = ccCircuit({ inc: 31, askCc: false });
    expect(unasked.requested).toEqual([]);
    expect(unasked.circ.state).toBe('closed');
    const far = ccCircuit({ inc: 90 });
    expect(far.circ.state).toBe('closed');
    const ev = far.events.at(-1)!;
    expect(ev.type === 'closed' && ev.error?.code).toBe('PROTOCOL_VIOLATION');
  });

  it('sends a v1 circuit SENDME every 31 DATA cells and no stream SENDMEs', () => {
    const { ch, relay, circ } = ccCircuit({ inc: 31 });
    const { stream, ev } = openStream(ch, relay, circ, () => Number.POSITIVE_INFINITY);
    expect(stream.xonXoff).toBe(true);
    const tags: string[] = [];
    for (let i = 1; i <= 620; i++) {
      const c = relay.relayCell(RelayCmd.DATA, stream.id, new Uint8Array(RELAY_DATA_MAX).fill(i & 0xff));
      if (i % 31 === 0) tags.push(bytesToHex(c.tag));
      ch.receive(c.bytes, now);
    }
    expect(ev.filter((e) => e.type === 'data').length).toBe(620);
    const out = relay.relayMessages();
    const circSendmes = out.filter((m) => m.msg.command === RelayCmd.SENDME && m.msg.streamId === 0);
    expect(circSendmes.map((m) => { const s = decodeSendmeBody(m.msg.data); return s.ok && s.value.version === 1 ? bytesToHex(s.value.tag) : ''; })).toEqual(tags);
    expect(out.filter((m) => m.msg.command === RelayCmd.SENDME && m.msg.streamId !== 0)).toEqual([]);
    // 620 cells is more than the 500-cell stream window: no window applies with CC.
    expect(stream.state).toBe('open');
  });

  it('a stream SENDME from the exit on a CC circuit is a protocol violation', () => {
    const { ch, relay, circ } = ccCircuit({ inc: 31 });
    const { stream, ev } = openStream(ch, relay, circ, () => 1 << 20);
    ch.receive(relay.relayCell(RelayCmd.SENDME, stream.id, new Uint8Array(0)).bytes, now);
    expect(ev.at(-1)).toMatchObject({ type: 'end', error: { code: 'PROTOCOL_VIOLATION' } });
  });

  it('uploads stop at cwnd and resume on the exit\'s authenticated SENDMEs; the exit\'s XOFF/XON pause and resume them', () => {
    const { ch, relay, circ } = ccCircuit({ inc: 31 });
    const { stream, ev } = openStream(ch, relay, circ, () => 1 << 20);
    const cc = circ.ccOf(1)!;
    const big = new Uint8Array(200 * RELAY_DATA_MAX).fill(7);
    let t = now;
    const sent = stream.write(big, t);
    expect(sent).toBe(124 * RELAY_DATA_MAX); // cc_cwnd_init
    expect(stream.writableBytes).toBe(0);
    const data = relay.relayMessages().filter((m) => m.msg.command === RelayCmd.DATA);
    expect(data.length).toBe(124);
    // The exit acknowledges cells 31 and 62 after 20 ms: slow start grows cwnd by 31 per SENDME.
    t += 20;
    for (const i of [30, 61]) ch.receive(relay.relayCell(RelayCmd.SENDME, 0, encodeSendmeBody({ version: 1, tag: data[i]!.tag })).bytes, t);
    expect(cc.counters.sendmesIn).toBe(2);
    expect(cc.cwnd).toBe(124 + 62);
    expect(cc.inflight).toBe(124 - 62);
    expect(ev.some((e) => e.type === 'writable')).toBe(true);
    expect(stream.writableBytes).toBe((186 - 62) * RELAY_DATA_MAX);
    // XOFF from the exit: nothing more is taken until its XON.
    ch.receive(relay.relayCell(RelayCmd.XOFF, stream.id, encodeXoffBody()).bytes, t);
    expect(stream.stoppedByExit).toBe(true);
    expect(stream.writableBytes).toBe(0);
    expect(stream.write(big, t)).toBe(0);
    const writable = ev.filter((e) => e.type === 'writable').length;
    ch.receive(relay.relayCell(RelayCmd.XON, stream.id, encodeXonBody(8000)).bytes, t);
    expect(stream.stoppedByExit).toBe(false);
    expect(stream.advisedKbps).toBe(8000);
    expect(ev.filter((e) => e.type === 'writable').length).toBe(writable + 1);
    expect(stream.write(big, t)).toBe(124 * RELAY_DATA_MAX);
    // A SENDME with a wrong tag closes the circuit.
    ch.receive(relay.relayCell(RelayCmd.SENDME, 0, encodeSendmeBody({ version: 1, tag: new Uint8Array(20) })).bytes, t);
    expect(circ.state).toBe('closed');
  });

  it('the exit\'s XON rate advisory paces uploads (token bucket, 100 ms burst); XON with rate 0 lifts it', () => {
    const { ch, relay, circ } = ccCircuit({ inc: 31 });
    const { stream } = openStream(ch, relay, circ, () => 1 << 20);
    expect(stream.uploadAllowance(now)).toBe(Number.POSITIVE_INFINITY);
    expect(stream.uploadResumeAt(now)).toBeNull();
    // 800 kbit/s = 100 bytes/ms; burst = max(31 cells, 100 ms) = 15438 bytes.
    ch.receive(relay.relayCell(RelayCmd.XON, stream.id, encodeXonBody(800)).bytes, now);
    expect(stream.uploadAllowance(now)).toBe(31 * RELAY_DATA_MAX);
    expect(stream.write(new Uint8Array(31 * RELAY_DATA_MAX), now)).toBe(31 * RELAY_DATA_MAX);
    expect(stream.uploadAllowance(now)).toBe(0);
    expect(stream.uploadResumeAt(now)).toBeCloseTo(now + RELAY_DATA_MAX / 100, 6);
    expect(stream.uploadAllowance(now + 50)).toBe(5000);
    expect(stream.uploadAllowance(now + 10_000)).toBe(31 * RELAY_DATA_MAX); // capped at the burst
    ch.receive(relay.relayCell(RelayCmd.XON, stream.id, encodeXonBody(0)).bytes, now + 10_000);
    expect(stream.uploadAllowance(now + 10_000)).toBe(Number.POSITIVE_INFINITY);
  });

  it('a slow consumer: XOFF once half its space is used, nothing more while the exit obeys, XON when drained', () => {
    const { ch, relay, circ } = ccCircuit({ inc: 31 });
    const capacity = 512 * 1024;
    let buffered = 0;
    const { stream, ev } = openStream(ch, relay, circ, () => capacity - buffered);
    ev.length = 0;
    stream.onEvent = (e) => {
      if (e.type === 'data') buffered += e.data.length;
      ev.push(e);
    };
    // The exit sends until it sees our XOFF (it obeys at once in this script).
    let cells = 0;
    while (!relay.relayMessages().some((m) => m.msg.command === RelayCmd.XOFF)) {
      ch.receive(relay.relayCell(RelayCmd.DATA, stream.id, new Uint8Array(RELAY_DATA_MAX)).bytes, now);
      cells++;
      if (cells > 2000) throw new Error('no XOFF');
    }
    expect(stream.flowCounters.xoffSent).toBe(1);
    expect(buffered).toBeGreaterThanOrEqual(capacity / 2);
    expect(buffered).toBeLessThan(capacity / 2 + RELAY_DATA_MAX);
    // In-flight cells after XOFF still arrive; no second XOFF is sent.
    for (let i = 0; i < 100; i++) ch.receive(relay.relayCell(RelayCmd.DATA, stream.id, new Uint8Array(RELAY_DATA_MAX)).bytes, now);
    expect(stream.flowCounters.xoffSent).toBe(1);
    expect(stream.awaitingConsumer).toBe(true);
    // Draining a little is not enough; down to a quarter full sends XON (rate 0 = unlimited).
    buffered = capacity / 2;
    stream.notifyConsumed(now);
    expect(relay.relayMessages().some((m) => m.msg.command === RelayCmd.XON)).toBe(false);
    buffered = capacity / 4;
    stream.notifyConsumed(now);
    const xon = relay.relayMessages().filter((m) => m.msg.command === RelayCmd.XON);
    expect(xon.length).toBe(1);
    const body = decodeXonBody(xon[0]!.msg.data);
    expect(body.ok && body.value.kbpsEwma).toBe(0);
    expect(stream.awaitingConsumer).toBe(false);
    expect(stream.flowCounters.xonSent).toBe(1);
  });

  it('CREATE2 with ntor v3 to the first hop', () => {
    const relay = new FakeRelay();
    const ch = new Channel({ expected: FIXTURE_IDS, tlsCertSha256: FIXTURE_TLS, peerAddr: { type: 4, bytes: hexToBytes('7f000001') }, send: relay.sink });
    ch.start(now);
    ch.receive(relayHandshakeBytes(), now);
    relay.take();
    const key = v3Key(1);
    const c = ch.createCircuit({ ...key, ntorV3: true, congestionControl: CC_DEFAULT_PARAMS }, now);
    if (!c.ok) throw new Error(c.error.message);
    const create = relay.take().find((x) => x.command === ChanCmd.CREATE2)!;
    const htype = (create.body[0]! << 8) | create.body[1]!;
    expect(htype).toBe(HandshakeType.NTOR_V3);
    const len = (create.body[2]! << 8) | create.body[3]!;
    const srv = ntorV3ServerHandshake(key, create.body.subarray(4, 4 + len), () => Uint8Array.of(1, NtorV3ExtType.CC_RESPONSE, 1, 31), TOR1_KEY_MATERIAL_LEN);
    if (!srv.ok) throw new Error(srv.error.message);
    relay.circId = create.circId;
    ch.receive(relay.rawCell(ChanCmd.CREATED2, encodeCreated2Body(srv.value.reply)), now);
    expect(c.value.state).toBe('open');
    expect(c.value.ccOf(0)?.sendmeInc).toBe(31);
  });
});
