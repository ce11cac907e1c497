import { describe, expect, it } from 'vitest';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { splitRelayKeys, Tor1CircuitCrypto, type RelayKeys } from '../../../src/tor/crypto/index.js';
import { ChannelCellDecoder, encodeChannelCell, encodeRelayBody, decodeRelayBody, ChanCmd, RelayCmd, EndReason, RELAY_DATA_MAX } from '../../../src/tor/cell/index.js';
import { Channel, type StreamEvent } from '../../../src/tor/proto/index.js';
import { FakeRelay, relayHandshakeBytes, FIXTURE_IDS, FIXTURE_NOW, FIXTURE_TLS } from './support/fake-relay.js';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'ascii'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A relay's backward direction, straight from tor-spec §5.5.3 with node:crypto. */
class RelayBackward {
  private readonly cipher;
  private readonly digest;
  constructor(keys: RelayKeys) {
    this.cipher = createCipheriv('aes-128-ctr', keys.kb, Buffer.alloc(16));
    this.digest = createHash('sha1').update(keys.db);
  }
  /** Seal a plaintext body as its originator; `recognized` overrides the field after the digest. */
  originate(body: Uint8Array, recognized?: [number, number]): Uint8Array {
    body.fill(0, 1, 3);
    body.fill(0, 5, 9);
    this.digest.update(body);
    const tag = new Uint8Array(this.digest.copy().digest());
    body.set(tag.subarray(0, 4), 5);
    if (recognized) [body[1], body[2]] = recognized;
    this.relay(body);
    return tag;
  }
  relay(body: Uint8Array): void {
    body.set(this.cipher.update(body));
  }
}

describe('tor1 inbound trial digests', () => {
  const fx = JSON.parse(readFileSync(new URL('../../fixtures/tor/proto/tor1-cell-crypt.json', import.meta.url), 'utf8')) as { keyMaterial: string[] };
  const keys = fx.keyMaterial.map((k) => splitRelayKeys(ascii(k)));

  it('restores a middle hop digest after a false Recognized=0 and keeps recognizing its cells', () => {
    // Find a cell index whose exit keystream is zero at the Recognized bytes: after the client peels
    // the guard and the middle, such an exit cell reads Recognized=0 at the middle (a 2^-16 event).
    const ks = createCipheriv('aes-128-ctr', keys[2]!.kb, Buffer.alloc(16)).update(Buffer.alloc(509 * 40_000));
    let n = -1;
    for (let i = 0; i < 40_000 && n < 0; i++) if (ks[i * 509 + 1] === 0 && ks[i * 509 + 2] === 0) n = i;
    expect(n).toBeGreaterThanOrEqual(0);

    const client = new Tor1CircuitCrypto();
    for (const k of keys) client.addHop(k);
    const relays = keys.map((k) => new RelayBackward(k));
    const fromHop = (origin: number, text: string): { body: Uint8Array; tag: Uint8Array } => {
      const body = encodeRelayBody({ command: 2, streamId: 9, data: ascii(text) });
      if (!body.ok) throw new Error('encode');
      const tag = relays[origin]!.originate(body.value);
      for (let j = origin - 1; j >= 0; j--) relays[j]!.relay(body.value);
      return { body: body.value, tag };
    };
    for (let i = 0; i <= n; i++) {
      const { body, tag } = fromHop(2, `cell ${i}`);
      const hop = client.peelInbound(body);
      expect(hop).toBe(2);
      expect(hex(client.lastTag)).toBe(hex(tag));
    }
    // The middle's backward digest survived the failed trial: its own cells still verify.
    const { body, tag } = fromHop(1, 'from the middle');
    const rec = client.decryptInbound(body);
    expect(rec?.hop).toBe(1);
    expect(hex(rec!.tag)).toBe(hex(tag));
    const d = decodeRelayBody(body);
    expect(d.ok && Buffer.from(d.value.data).toString()).toBe('from the middle');
  });

  it('agrees with the relay-side SENDME tags over many cells from every hop', () => {
    const client = new Tor1CircuitCrypto();
    for (const k of keys) client.addHop(k);
    const relays = keys.map((k) => new RelayBackward(k));
    for (let i = 0; i < 600; i++) {
      const origin = i % 7 === 0 ? 0 : i % 5 === 0 ? 1 : 2;
      const body = encodeRelayBody({ command: 2, streamId: 1, data: randomBytes(i % 499) });
      if (!body.ok) throw new Error('encode');
      const tag = relays[origin]!.originate(body.value);
      for (let j = origin - 1; j >= 0; j--) relays[j]!.relay(body.value);
      expect(client.peelInbound(body.value)).toBe(origin);
      expect(hex(client.lastTag)).toBe(hex(tag));
    }
  });
});

describe('channel cell decoder framing', () => {
  it('yields the same cells however the byte stream is split', () => {
    const cells = [
      { circId: 0x80000001, command: ChanCmd.RELAY, body: randomBytes(509) },
      { circId: 0, command: ChanCmd.VPADDING, body: randomBytes(3) },
      { circId: 0x80000002, command: ChanCmd.DESTROY, body: randomBytes(509) },
      { circId: 0, command: ChanCmd.VPADDING, body: new Uint8Array(0) },
      { circId: 0x80000001, command: ChanCmd.RELAY, body: randomBytes(509) },
    ];
    const versions = encodeChannelCell({ circId: 0, command: ChanCmd.VERSIONS, body: Uint8Array.of(0, 4, 0, 5) }, 2);
    const parts = cells.map((c) => encodeChannelCell(c, 4));
    if (!versions.ok || parts.some((p) => !p.ok)) throw new Error('encode');
    const stream = Buffer.concat([versions.value, ...parts.map((p) => (p.ok ? p.value : new Uint8Array(0)))]);
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const dec = new ChannelCellDecoder({ firstCellShortCircId: true });
        const got: string[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          const r = dec.push(Uint8Array.from(stream.subarray(prev, p)));
          if (!r.ok) throw new Error(r.error.message);
          for (const c of r.value) got.push(`${c.circId}/${c.command}/${hex(c.body)}`);
          prev = p;
        }
        expect(dec.bufferedBytes).toBe(0);
        expect(got).toEqual([`0/${ChanCmd.VERSIONS}/00040005`, ...cells.map((c) => `${c.circId}/${c.command}/${hex(c.body)}`)]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('stream data batching per channel read', () => {
  const now = FIXTURE_NOW;
  function openStream(freeSpace: () => number) {
    const relay = new FakeRelay();
    const ch = new Channel({ expected: FIXTURE_IDS, tlsCertSha256: FIXTURE_TLS, peerAddr: { type: 4, bytes: Uint8Array.of(127, 0, 0, 1) }, send: relay.sink });
    ch.start(now);
    ch.receive(relayHandshakeBytes(), now);
    const c = ch.createCircuitFast(now);
    if (!c.ok) throw new Error(c.error.message);
    ch.receive(relay.createdFast(), now);
    const s = c.value.beginDir({ freeSpace }, now);
    if (!s.ok) throw new Error(s.error.message);
    const events: StreamEvent[] = [];
    s.value.onEvent = (e) => events.push(e);
    ch.receive(relay.relayCell(RelayCmd.CONNECTED, s.value.id).bytes, now);
    relay.take();
    return { ch, relay, stream: s.value, events };
  }

  it('delivers the DATA cells of one read as one owned chunk, before an END in the same read', () => {
    const { ch, relay, stream, events } = openStream(() => 1 << 20);
    const parts = [0, 1, 2].map((i) => new Uint8Array(RELAY_DATA_MAX).fill(i + 1));
    const read = Buffer.concat([...parts.map((p) => relay.relayCell(RelayCmd.DATA, stream.id, p).bytes), relay.relayCell(RelayCmd.END, stream.id, Uint8Array.of(EndReason.DONE)).bytes]);
    const input = new Uint8Array(read);
    ch.receive(input, now);
    expect(events.map((e) => e.type)).toEqual(['connected', 'data', 'end']);
    const data = events[1]!.type === 'data' ? events[1]!.data : new Uint8Array(0);
    expect(hex(data)).toBe(hex(Buffer.concat(parts)));
    // An owned copy: it does not alias the channel's read buffer.
    expect(data.buffer).not.toBe(input.buffer);
  });

  it('counts held bytes against the consumer before crediting a stream SENDME', () => {
    // Room for exactly the 450 + 50 cells a SENDME after 50 cells allows, if nothing is held.
    const { ch, relay, stream, events } = openStream(() => 500 * RELAY_DATA_MAX);
    const cells = Array.from({ length: 50 }, () => relay.relayCell(RelayCmd.DATA, stream.id, new Uint8Array(RELAY_DATA_MAX)).bytes);
    ch.receive(new Uint8Array(Buffer.concat(cells)), now);
    expect(events.filter((e) => e.type === 'data').length).toBe(1);
    // 50 cells were held when the window reached 450: the consumer had room for 450 cells, not 500.
    expect(relay.relayMessages().filter((m) => m.msg.command === RelayCmd.SENDME && m.msg.streamId === stream.id)).toEqual([]);
    expect(stream.deliverWindow).toBe(450);
  });
});

describe('stream end after held data', () => {
  it('reports one end when the consumer ends the stream on the data flushed before a remote END', () => {
    const relay = new FakeRelay();
    const ch = new Channel({ expected: FIXTURE_IDS, tlsCertSha256: FIXTURE_TLS, peerAddr: { type: 4, bytes: Uint8Array.of(127, 0, 0, 1) }, send: relay.sink });
    ch.start(FIXTURE_NOW);
    ch.receive(relayHandshakeBytes(), FIXTURE_NOW);
    const c = ch.createCircuitFast(FIXTURE_NOW);
    if (!c.ok) throw new Error(c.error.message);
    ch.receive(relay.createdFast(), FIXTURE_NOW);
    const s = c.value.beginDir({}, FIXTURE_NOW);
    if (!s.ok) throw new Error(s.error.message);
    const stream = s.value;
    const events: string[] = [];
    stream.onEvent = (e) => {
      events.push(e.type);
      if (e.type === 'data') stream.end(EndReason.DONE);
    };
    ch.receive(relay.relayCell(RelayCmd.CONNECTED, stream.id).bytes, FIXTURE_NOW);
    const read = Buffer.concat([relay.relayCell(RelayCmd.DATA, stream.id, ascii('x')).bytes, relay.relayCell(RelayCmd.END, stream.id, Uint8Array.of(EndReason.DONE)).bytes]);
    ch.receive(new Uint8Array(read), FIXTURE_NOW);
    expect(events).toEqual(['connected', 'data', 'end']);
  });
});
