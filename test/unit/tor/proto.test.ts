import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../../../src/tor/bytes/index.js';
import {
  ChanCmd, RelayCmd, EndReason, DestroyReason, decodeNetinfoBody, decodeSendmeBody, decodeExtend2Body, decodeDestroyBody,
  encodeConnectedBody, encodeEndBody, encodeResolvedBody, encodeSendmeBody, encodeTruncatedBody, RELAY_DATA_MAX,
} from '../../../src/tor/cell/index.js';
import { Channel, type ChannelEvent, type Circuit, type CircuitEvent, type Stream, type StreamEvent } from '../../../src/tor/proto/index.js';
import { FakeRelay, relayHandshakeBytes, ntorServerKey, FIXTURE_IDS, FIXTURE_NOW, FIXTURE_TLS } from './support/fake-relay.js';

const now = FIXTURE_NOW;

function openChannel(expected = FIXTURE_IDS): { ch: Channel; relay: FakeRelay; events: ChannelEvent[] } {
  const relay = new FakeRelay();
  const ch = new Channel({ expected, tlsCertSha256: FIXTURE_TLS, peerAddr: { type: 4, bytes: hexToBytes('7f000001') }, send: relay.sink });
  const events: ChannelEvent[] = [];
  ch.onEvent = (e) => events.push(e);
  ch.start(now);
  return { ch, relay, events };
}

function openCircuit(): { ch: Channel; relay: FakeRelay; circ: Circuit; events: CircuitEvent[] } {
  const { ch, relay } = openChannel();
  ch.receive(relayHandshakeBytes(), now);
  relay.take();
  const c = ch.createCircuitFast(now);
  if (!c.ok) throw new Error(c.error.message);
  const events: CircuitEvent[] = [];
  c.value.onEvent = (e) => events.push(e);
  ch.receive(relay.createdFast(), now);
  return { ch, relay, circ: c.value, events };
}

function openDir(circ: Circuit, relay: FakeRelay, ch: Channel, freeSpace?: () => number): { stream: Stream; events: StreamEvent[] } {
  const s = circ.beginDir(freeSpace ? { freeSpace } : {}, now);
  if (!s.ok) throw new Error(s.error.message);
  const events: StreamEvent[] = [];
  s.value.onEvent = (e) => events.push(e);
  const [begin] = relay.relayMessages();
  expect(begin!.msg.command).toBe(RelayCmd.BEGIN_DIR);
  ch.receive(relay.relayCell(RelayCmd.CONNECTED, s.value.id).bytes, now);
  return { stream: s.value, events };
}

describe('channel handshake', () => {
  it('sends VERSIONS with a 2-byte circuit id and completes on a real certificate chain', () => {
    const { ch, relay, events } = openChannel();
    const flight = relayHandshakeBytes();
    // Deliver in awkward pieces.
    for (let i = 0; i < flight.length; i += 333) ch.receive(flight.subarray(i, i + 333), now);
    const sent = relay.take();
    expect(sent.map((c) => c.command)).toEqual([ChanCmd.VERSIONS, ChanCmd.NETINFO]);
    expect(sent[0]!.circId).toBe(0);
    const ni = decodeNetinfoBody(sent[1]!.body);
    expect(ni.ok && ni.value.time === 0 && bytesToHex(ni.value.otherAddr!.bytes)).toBe('7f000001');
    expect(ch.state).toBe('open');
    expect(events[0]!.type).toBe('open');
    if (events[0]!.type === 'open') {
      expect(events[0]!.info.linkVersion).toBe(5);
      expect(bytesToHex(events[0]!.info.peer.ed25519Id)).toBe(bytesToHex(FIXTURE_IDS.ed25519Id));
    }
  });

  it('negotiates link version 4 when that is the best the relay offers', () => {
    const { ch, events } = openChannel();
    ch.receive(relayHandshakeBytes({ versions: [3, 4] }), now);
    expect(events[0]!.type === 'open' && events[0]!.info.linkVersion).toBe(4);
  });

  it('never throws on random bytes after the handshake', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { ch, relay } = openChannel();
      ch.receive(relayHandshakeBytes(), now);
      const c = ch.createCircuitFast(now);
      if (!c.ok) throw new Error('create');
      ch.receive(relay.createdFast(), now);
      let x = seed;
      const junk = new Uint8Array(2000).map(() => ((x = (x * 1103515245 + 12345) >>> 0) >>> 24));
      // Aim some cells at the live circuit so they get past routing into the relay crypto.
      for (let off = 0; off + 514 <= junk.length; off += 514) {
        junk[off] = (c.value.circId >>> 24) & 0xff; junk[off + 1] = (c.value.circId >>> 16) & 0xff;
        junk[off + 2] = (c.value.circId >>> 8) & 0xff; junk[off + 3] = c.value.circId & 0xff;
        if (seed % 2 === 0) junk[off + 4] = ChanCmd.RELAY;
      }
      expect(() => ch.receive(junk, now)).not.toThrow();
      expect(['open', 'closed']).toContain(ch.state);
    }
  });

  const failures: [string, () => { ch: Channel; events: ChannelEvent[] }, string][] = [
    ['wrong RSA identity', () => { const o = openChannel({ rsaId: new Uint8Array(20), ed25519Id: FIXTURE_IDS.ed25519Id }); o.ch.receive(relayHandshakeBytes(), now); return o; }, 'CERTS_INVALID'],
    ['expired certificates', () => { const o = openChannel(); o.ch.receive(relayHandshakeBytes(), Date.parse('2031-01-01T00:00:00Z')); return o; }, 'CERTS_INVALID'],
    ['no common link version', () => { const o = openChannel(); o.ch.receive(relayHandshakeBytes({ versions: [1, 2, 3] }), now); return o; }, 'NO_COMMON_VERSION'],
    ['NETINFO before CERTS', () => { const o = openChannel(); o.ch.receive(relayHandshakeBytes({ netinfoFirst: true }), now); return o; }, 'UNEXPECTED_CELL'],
    ['missing cross-cert', () => {
      const o = openChannel();
      const f = relayHandshakeBytes({ certs: [{ certType: 4, body: new Uint8Array(10) }] });
      o.ch.receive(f, now);
      return o;
    }, 'CERTS_INVALID'],
    ['garbage instead of VERSIONS', () => { const o = openChannel(); o.ch.receive(hexToBytes('0000 08 0000'), now); return o; }, 'CELL_DECODE'],
  ];
  for (const [name, run, code] of failures) {
    it(`closes with ${code} on ${name}`, () => {
      const { ch, events } = run();
      expect(ch.state).toBe('closed');
      const last = events.at(-1)!;
      expect(last.type === 'closed' && last.error?.code).toBe(code);
      expect(ch.createCircuitFast(now).ok).toBe(false);
    });
  }
});

describe('circuits', () => {
  it('CREATE_FAST opens a one-hop circuit with an MSB-set id', () => {
    const { circ, events } = openCircuit();
    expect(events).toEqual([{ type: 'open' }]);
    expect(circ.hops).toBe(1);
    expect(circ.circId >>> 31).toBe(1);
  });

  it('a bad KH fails the handshake and sends DESTROY', () => {
    const { ch, relay } = openChannel();
    ch.receive(relayHandshakeBytes(), now);
    relay.take();
    const c = ch.createCircuitFast(now);
    if (!c.ok) throw new Error('create');
    const events: CircuitEvent[] = [];
    c.value.onEvent = (e) => events.push(e);
    ch.receive(relay.createdFast(true), now);
    const closed = events.at(-1)!;
    expect(closed.type === 'closed' && closed.error?.code).toBe('CIRCUIT_HANDSHAKE_FAILED');
    const destroy = relay.take().find((x) => x.command === ChanCmd.DESTROY)!;
    expect(decodeDestroyBody(destroy.body)).toEqual({ ok: true, value: DestroyReason.PROTOCOL });
    expect(ch.circuitCount).toBe(0);
  });

  it('DESTROY from the relay closes the circuit and ends its streams', () => {
    const { ch, relay, circ, events } = openCircuit();
    const { events: sev } = openDir(circ, relay, ch);
    ch.receive(relay.rawCell(ChanCmd.DESTROY, Uint8Array.of(DestroyReason.OR_IDENTITY)), now);
    expect(events.at(-1)).toEqual({ type: 'closed', reason: DestroyReason.OR_IDENTITY, remote: true, error: null });
    expect(sev.at(-1)).toMatchObject({ type: 'end', reason: EndReason.DESTROY, remote: false });
    expect(relay.take().some((c) => c.command === ChanCmd.DESTROY)).toBe(false);
  });

  it('an unrecognized relay cell destroys the circuit (PROTOCOL)', () => {
    const { ch, relay, events } = openCircuit();
    ch.receive(relay.rawCell(ChanCmd.RELAY, new Uint8Array(509).fill(0x5a)), now);
    const closed = events.at(-1)!;
    expect(closed.type === 'closed' && closed.error?.code).toBe('UNRECOGNIZED_RELAY_CELL');
    expect(relay.take().some((c) => c.command === ChanCmd.DESTROY)).toBe(true);
  });

  it('EXTEND2 goes in RELAY_EARLY with link specifiers; TRUNCATED reopens; the 9th EXTEND2 is refused', () => {
    const { ch, relay, circ, events } = openCircuit();
    const target = { rsaId: new Uint8Array(20).fill(1), ed25519Id: new Uint8Array(32).fill(2), ntorKey: new Uint8Array(32).fill(9), addr: '127.0.0.1', port: 5001 };
    for (let i = 0; i < 8; i++) {
      const r = circ.extend(target, now);
      expect(r.ok).toBe(true);
      expect(circ.state).toBe('extending');
      expect(circ.extend(target, now).ok).toBe(false); // one at a time
      const [m] = relay.relayMessages();
      expect(m!.early).toBe(true);
      expect(m!.msg.command).toBe(RelayCmd.EXTEND2);
      const ext = decodeExtend2Body(m!.msg.data);
      expect(ext.ok && ext.value.linkSpecifiers.map((l) => l.type)).toEqual([0, 2, 3]);
      expect(ext.ok && ext.value.handshakeType).toBe(2);
      ch.receive(relay.relayCell(RelayCmd.TRUNCATED, 0, encodeTruncatedBody(DestroyReason.CONNECTFAILED)).bytes, now);
      expect(events.at(-1)).toEqual({ type: 'truncated', hops: 1, reason: DestroyReason.CONNECTFAILED });
      expect(circ.state).toBe('open');
    }
    const ninth = circ.extend(target, now);
    expect(!ninth.ok && ninth.error.code).toBe('RELAY_EARLY_EXHAUSTED');
    // A one-hop circuit has nothing to truncate.
    const t = circ.truncate(1, now);
    expect(!t.ok && t.error.code).toBe('BAD_ARGUMENT');
  });
});

describe('multi-hop circuits', () => {
  function extendTo(ch: Channel, relay: FakeRelay, circ: Circuit, n: number) {
    const key = ntorServerKey(new Uint8Array(20).fill(n));
    const r = circ.extend({ rsaId: key.rsaId, ntorKey: key.publicKey, addr: '10.0.0.' + n, port: 9000 + n }, now);
    if (!r.ok) throw new Error(r.error.message);
    const [m] = relay.relayMessages();
    expect(m!.hop).toBe(circ.hops - 1);
    return { key, body: m!.msg.data };
  }

  it('extends to three hops; cells reach and come from the right hop through every layer', () => {
    const { ch, relay, circ, events } = openCircuit();
    for (const n of [2, 3]) {
      const { key, body } = extendTo(ch, relay, circ, n);
      ch.receive(relay.extended2(key, body), now);
      expect(events.at(-1)).toEqual({ type: 'extended', hops: n });
    }
    expect(circ.hops).toBe(3);
    const s = circ.beginStream('127.0.0.1', 80, {}, now);
    if (!s.ok) throw new Error('begin');
    const sev: StreamEvent[] = [];
    s.value.onEvent = (e) => sev.push(e);
    const [begin] = relay.relayMessages();
    expect([begin!.hop, begin!.msg.command]).toEqual([2, RelayCmd.BEGIN]);
    ch.receive(relay.relayCell(RelayCmd.CONNECTED, s.value.id).bytes, now);
    let tag100: Uint8Array | null = null;
    for (let i = 1; i <= 100; i++) {
      const c = relay.relayCell(RelayCmd.DATA, s.value.id, new Uint8Array(RELAY_DATA_MAX).fill(i));
      if (i === 100) tag100 = c.tag;
      ch.receive(c.bytes, now);
    }
    expect(sev.filter((e) => e.type === 'data').length).toBe(100);
    const circSendme = relay.relayMessages().find((m) => m.msg.command === RelayCmd.SENDME && m.msg.streamId === 0)!;
    expect(circSendme.hop).toBe(2);
    const sm = decodeSendmeBody(circSendme.msg.data);
    expect(sm.ok && sm.value.version === 1 && bytesToHex(sm.value.tag)).toBe(bytesToHex(tag100!));
    // A cell from the middle hop is recognized there (a DROP), and a TRUNCATED from it cuts the exit off.
    ch.receive(relay.relayCell(RelayCmd.DROP, 0, new Uint8Array(0), 1).bytes, now);
    expect(circ.state).toBe('open');
    ch.receive(relay.relayCell(RelayCmd.TRUNCATED, 0, encodeTruncatedBody(DestroyReason.CHANNEL_CLOSED), 1).bytes, now);
    expect(events.at(-1)).toEqual({ type: 'truncated', hops: 2, reason: DestroyReason.CHANNEL_CLOSED });
    expect(sev.at(-1)).toMatchObject({ type: 'end', reason: EndReason.DESTROY });
    expect(circ.streamCount).toBe(0);
  });

  it('an EXTENDED2 with a bad AUTH closes the circuit', () => {
    const { ch, relay, circ, events } = openCircuit();
    const { key, body } = extendTo(ch, relay, circ, 2);
    ch.receive(relay.extended2(key, body, true), now);
    const ev = events.at(-1)!;
    expect(ev.type === 'closed' && ev.error?.code).toBe('CIRCUIT_HANDSHAKE_FAILED');
    expect(relay.take().some((c) => c.command === ChanCmd.DESTROY)).toBe(true);
  });

  it('an EXTENDED2 nobody asked for is a protocol violation', () => {
    const { ch, relay, circ, events } = openCircuit();
    ch.receive(relay.relayCell(RelayCmd.EXTENDED2, 0, new Uint8Array(66)).bytes, now);
    expect(circ.state).toBe('closed');
    const ev = events.at(-1)!;
    expect(ev.type === 'closed' && ev.error?.code).toBe('PROTOCOL_VIOLATION');
  });
});

describe('flow control', () => {
  it('sends an authenticated circuit SENDME after 100 DATA cells and a stream SENDME after 50', () => {
    const { ch, relay, circ } = openCircuit();
    const { stream, events } = openDir(circ, relay, ch);
    let tag100: Uint8Array | null = null;
    for (let i = 1; i <= 100; i++) {
      const c = relay.relayCell(RelayCmd.DATA, stream.id, new Uint8Array(RELAY_DATA_MAX).fill(i));
      if (i === 100) tag100 = c.tag;
      ch.receive(c.bytes, now);
    }
    expect(events.filter((e) => e.type === 'data').length).toBe(100);
    const sent = relay.relayMessages().filter((m) => m.msg.command === RelayCmd.SENDME);
    const streamSendmes = sent.filter((m) => m.msg.streamId === stream.id);
    const circSendmes = sent.filter((m) => m.msg.streamId === 0);
    expect(streamSendmes.length).toBe(2);
    expect(streamSendmes.every((m) => m.msg.data.length === 0)).toBe(true);
    expect(circSendmes.length).toBe(1);
    const body = decodeSendmeBody(circSendmes[0]!.msg.data);
    expect(body.ok && body.value.version === 1 && bytesToHex(body.value.tag)).toBe(bytesToHex(tag100!));
    expect(circ.windowsOf(0)!.deliverWindow).toBe(1000);
    expect(stream.deliverWindow).toBe(500);
  });

  it('withholds stream SENDMEs while the consumer is full and sends them after notifyConsumed', () => {
    const { ch, relay, circ } = openCircuit();
    let free = 0;
    const { stream } = openDir(circ, relay, ch, () => free);
    for (let i = 0; i < 60; i++) ch.receive(relay.relayCell(RelayCmd.DATA, stream.id, new Uint8Array(100)).bytes, now);
    expect(relay.relayMessages().filter((m) => m.msg.command === RelayCmd.SENDME && m.msg.streamId !== 0)).toEqual([]);
    expect(stream.deliverWindow).toBe(440);
    free = 500 * RELAY_DATA_MAX; // room for 440 + 50 cells + slack, but only one increment is due
    stream.notifyConsumed(now);
    expect(relay.relayMessages().filter((m) => m.msg.command === RelayCmd.SENDME && m.msg.streamId === stream.id).length).toBe(1);
    expect(stream.deliverWindow).toBe(490);
  });

  it('ends a stream that overruns its deliver window (TORPROTOCOL)', () => {
    const { ch, relay, circ } = openCircuit();
    const { stream, events } = openDir(circ, relay, ch, () => 0);
    for (let i = 0; i < 501; i++) ch.receive(relay.relayCell(RelayCmd.DATA, stream.id, new Uint8Array(10)).bytes, now);
    const end = events.at(-1)!;
    expect(end.type === 'end' && end.reason === EndReason.TORPROTOCOL && end.error?.code).toBe('PROTOCOL_VIOLATION');
    const sentEnd = relay.relayMessages().find((m) => m.msg.command === RelayCmd.END)!;
    expect(sentEnd.msg.data[0]).toBe(EndReason.TORPROTOCOL);
    expect(circ.state).toBe('open');
  });

  it('stops writing at the stream window and resumes on the stream SENDME', () => {
    const { ch, relay, circ } = openCircuit();
    const { stream, events } = openDir(circ, relay, ch);
    const big = new Uint8Array(600 * RELAY_DATA_MAX);
    expect(stream.write(big, now)).toBe(500 * RELAY_DATA_MAX);
    expect(stream.writableBytes).toBe(0);
    const data = relay.relayMessages().filter((m) => m.msg.command === RelayCmd.DATA);
    expect(data.length).toBe(500);
    expect(data.every((m) => m.msg.data.length === RELAY_DATA_MAX)).toBe(true);
    ch.receive(relay.relayCell(RelayCmd.SENDME, stream.id).bytes, now);
    expect(events.at(-1)).toEqual({ type: 'writable' });
    expect(stream.write(big, now)).toBe(50 * RELAY_DATA_MAX);
    // Ten SENDMEs refill the window to 500; one more would exceed it and is a violation.
    for (let i = 0; i < 10; i++) ch.receive(relay.relayCell(RelayCmd.SENDME, stream.id).bytes, now);
    expect(stream.packageWindow).toBe(500);
    ch.receive(relay.relayCell(RelayCmd.SENDME, stream.id).bytes, now);
    expect(stream.state).toBe('closed');
    expect(events.at(-1)).toMatchObject({ type: 'end', reason: EndReason.TORPROTOCOL });
  });

  it('checks circuit SENDME v1 tags against the 100th DATA cell and rejects forgeries', () => {
    const run = (forge: 'none' | 'wrong-tag' | 'v0') => {
      const { ch, relay, circ, events } = openCircuit();
      const streams = [openDir(circ, relay, ch).stream, openDir(circ, relay, ch).stream, openDir(circ, relay, ch).stream];
      // 3 streams × 500 cells would exceed the circuit window: it stops at 1000.
      let sent = 0;
      for (const s of streams) sent += s.write(new Uint8Array(500 * RELAY_DATA_MAX), now);
      expect(sent).toBe(1000 * RELAY_DATA_MAX);
      expect(circ.windowsOf(0)!.packageWindow).toBe(0);
      const data = relay.relayMessages().filter((m) => m.msg.command === RelayCmd.DATA);
      expect(data.length).toBe(1000);
      const tag = data[99]!.tag;
      const body = forge === 'v0' ? encodeSendmeBody({ version: 0 })
        : encodeSendmeBody({ version: 1, tag: forge === 'wrong-tag' ? data[100]!.tag : tag });
      const writable: string[] = [];
      streams[2]!.onEvent = (e) => writable.push(e.type);
      ch.receive(relay.relayCell(RelayCmd.SENDME, 0, body).bytes, now);
      return { circ, events, writable };
    };
    const good = run('none');
    expect(good.circ.state).toBe('open');
    expect(good.circ.windowsOf(0)!.packageWindow).toBe(100);
    expect(good.writable).toContain('writable');
    for (const f of ['wrong-tag', 'v0'] as const) {
      const bad = run(f);
      expect(bad.circ.state).toBe('closed');
      const ev = bad.events.at(-1)!;
      expect(ev.type === 'closed' && ev.error?.code).toBe('SENDME_UNAUTHENTICATED');
    }
  });
});

describe('streams', () => {
  it('BEGIN carries host:port and flags; CONNECTED and END(EXITPOLICY) are reported', () => {
    const { ch, relay, circ } = openCircuit();
    const s = circ.beginStream('example.com', 443, { flags: 1 }, now);
    if (!s.ok) throw new Error('begin');
    const events: StreamEvent[] = [];
    s.value.onEvent = (e) => events.push(e);
    const [begin] = relay.relayMessages();
    expect(begin!.msg.command).toBe(RelayCmd.BEGIN);
    expect(Buffer.from(begin!.msg.data).toString('latin1')).toBe('example.com:443\0\0\0\0\x01');
    expect(s.value.write(new Uint8Array(10), now)).toBe(0); // not connected yet
    ch.receive(relay.relayCell(RelayCmd.CONNECTED, s.value.id, encodeConnectedBody({ kind: 'ipv4', addr: hexToBytes('5db8d822'), ttl: 300 })).bytes, now);
    expect(events[0]).toMatchObject({ type: 'connected', connected: { kind: 'ipv4', ttl: 300 } });
    ch.receive(relay.relayCell(RelayCmd.END, s.value.id, encodeEndBody({ reason: EndReason.EXITPOLICY, addr: hexToBytes('5db8d822'), ttl: 300 })).bytes, now);
    expect(events.at(-1)).toEqual({ type: 'end', reason: EndReason.EXITPOLICY, remote: true, error: null });
    expect(circ.streamCount).toBe(0);
  });

  it('RESOLVE delivers RESOLVED answers', () => {
    const { ch, relay, circ } = openCircuit();
    const s = circ.resolve('example.com', now);
    if (!s.ok) throw new Error('resolve');
    const events: StreamEvent[] = [];
    s.value.onEvent = (e) => events.push(e);
    const [m] = relay.relayMessages();
    expect(m!.msg.command).toBe(RelayCmd.RESOLVE);
    ch.receive(relay.relayCell(RelayCmd.RESOLVED, s.value.id, encodeResolvedBody([{ kind: 'ipv4', addr: hexToBytes('01020304'), ttl: 60 }])).bytes, now);
    expect(events[0]).toMatchObject({ type: 'resolved', answers: [{ kind: 'ipv4', ttl: 60 }] });
    expect(s.value.state).toBe('closed');
  });

  it('end() sends END DONE; later data for that stream is dropped but still counted', () => {
    const { ch, relay, circ } = openCircuit();
    const { stream } = openDir(circ, relay, ch);
    stream.end();
    const [end] = relay.relayMessages();
    expect(end!.msg.command).toBe(RelayCmd.END);
    expect(end!.msg.data[0]).toBe(EndReason.DONE);
    ch.receive(relay.relayCell(RelayCmd.DATA, stream.id, new Uint8Array(5)).bytes, now);
    expect(circ.counters.droppedForUnknownStream).toBe(1);
    expect(circ.windowsOf(0)!.deliverWindow).toBe(999);
  });

  it('survives random relay cell contents without throwing', () => {
    const { ch, relay, circ } = openCircuit();
    const { stream } = openDir(circ, relay, ch);
    for (let i = 0; i < 300; i++) {
      const cmd = i % 20;
      const data = new Uint8Array((i * 7) % 60).map((_, j) => (i * 13 + j * 7) & 0xff);
      ch.receive(relay.relayCell(cmd, i % 3 === 0 ? 0 : stream.id, data).bytes, now);
      if (circ.state === 'closed') break;
    }
    expect(['open', 'closed']).toContain(circ.state);
  });
});
