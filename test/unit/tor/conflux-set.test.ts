// Conflux set engine against two scripted 2-hop circuits with congestion control at the "exit":
// linking (LINK/LINKED/LINKED_ACK, nonce check), in-order delivery across legs with SWITCH, the
// bounded out-of-order queue, sequence violations, uploads split across legs, and leg loss.
import { describe, expect, it } from 'vitest';
import {
  RelayCmd, decodeConfluxLinkBody, decodeConfluxSwitchBody, encodeConfluxLinkBody, encodeConfluxSwitchBody,
  encodeConnectedBody, encodeSendmeBody, RELAY_DATA_MAX, ConfluxUx,
} from '../../../src/tor/cell/index.js';
import { ConfluxSet, type ConfluxSetEvent, type StreamEvent } from '../../../src/tor/proto/index.js';
import { FIXTURE_NOW } from './support/fake-relay.js';
import { ccCircuit } from './support/cc-circuit.js';

const now = FIXTURE_NOW;
const NONCE = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 ^ i);

/** A CREATE_FAST hop extended with ntor v3 to an "exit" that answers congestion control (inc 31) unless `cc` is false. */
function leg(cc = true) {
  const { ch, relay, circ } = ccCircuit(cc ? { inc: 31 } : { inc: null, askCc: false });
  if (circ.state !== 'open') throw new Error('leg not open');
  return { ch, relay, circ };
}

type Leg = ReturnType<typeof leg>;

function linkedBody(nonce = NONCE, desiredUx: number = ConfluxUx.MIN_LATENCY): Uint8Array {
  const b = encodeConfluxLinkBody({ nonce, lastSeqnoSent: 0, lastSeqnoRecv: 0, desiredUx });
  if (!b.ok) throw new Error('linked');
  return b.value;
}

function makeSet(opts: { maxOooCells?: number } = {}) {
  const legs = [leg(), leg()];
  const set = new ConfluxSet({ nonce: NONCE, ...opts });
  const events: ConfluxSetEvent[] = [];
  set.onEvent = (e) => events.push(e);
  for (const l of legs) {
    const r = set.addLeg(l.circ, now);
    expect(r.ok).toBe(true);
  }
  return { legs, set, events };
}

function link(l: Leg, t = now + 10, exitUx: number = ConfluxUx.MIN_LATENCY): void {
  l.ch.receive(l.relay.relayCell(RelayCmd.CONFLUX_LINKED, 0, linkedBody(NONCE, exitUx)).bytes, t);
}

/** A linked set with one open stream (BEGIN went on leg 0, CONNECTED came back on leg 0 as seq 1). */
function linkedWithStream(opts: { maxOooCells?: number; exitUx?: number } = {}) {
  const s = makeSet(opts);
  for (const l of s.legs) link(l, now + 10, opts.exitUx);
  for (const l of s.legs) l.relay.relayMessages();
  const st = s.set.beginStream('example.com', 80, { freeSpace: () => 1 << 24 }, now);
  if (!st.ok) throw new Error(st.error.message);
  const ev: StreamEvent[] = [];
  st.value.onEvent = (e) => ev.push(e);
  const out = s.legs[0]!.relay.relayMessages();
  expect(out.map((m) => m.msg.command)).toEqual([RelayCmd.BEGIN]);
  s.legs[0]!.ch.receive(s.legs[0]!.relay.relayCell(RelayCmd.CONNECTED, st.value.id, encodeConnectedBody({ addr: null })).bytes, now);
  expect(ev.map((e) => e.type)).toEqual(['connected']);
  return { ...s, stream: st.value, ev };
}

function data(l: Leg, streamId: number, byte: number): Uint8Array {
  return l.relay.relayCell(RelayCmd.DATA, streamId, new Uint8Array(10).fill(byte)).bytes;
}
function sw(l: Leg, rel: number): Uint8Array {
  const b = encodeConfluxSwitchBody(rel);
  if (!b.ok) throw new Error('switch');
  return l.relay.relayCell(RelayCmd.CONFLUX_SWITCH, 0, b.value).bytes;
}
function received(ev: StreamEvent[]): number[] {
  return ev.flatMap((e) => (e.type === 'data' ? [...e.data].filter((_, i) => i % 10 === 0) : []));
}

describe('conflux set (scripted exit)', () => {
  it('sends CONFLUX_LINK with one nonce on every leg, links once all legs answered LINKED, and acks each', () => {
    const { legs, set, events } = makeSet();
    for (const l of legs) {
      const [m] = l.relay.relayMessages();
      expect(m!.hop).toBe(1);
      expect(m!.msg.command).toBe(RelayCmd.CONFLUX_LINK);
      const body = decodeConfluxLinkBody(m!.msg.data);
      expect(body.ok && body.value).toMatchObject({ nonce: NONCE, lastSeqnoSent: 0, lastSeqnoRecv: 0, desiredUx: ConfluxUx.HIGH_THROUGHPUT });
    }
    link(legs[0]!);
    expect(set.state).toBe('linking');
    expect(legs[0]!.relay.relayMessages().map((m) => m.msg.command)).toEqual([RelayCmd.CONFLUX_LINKED_ACK]);
    expect(set.beginStream('example.com', 80).ok).toBe(false);
    link(legs[1]!);
    expect(set.state).toBe('linked');
    expect(events).toEqual([{ type: 'linked' }]);
    expect(legs[1]!.relay.relayMessages().map((m) => m.msg.command)).toEqual([RelayCmd.CONFLUX_LINKED_ACK]);
    // A leg's own streams are refused: they belong to the set.
    expect(legs[0]!.circ.beginStream('example.com', 80).ok).toBe(false);
  });

  it('a circuit without congestion control at its exit cannot be a leg', () => {
    const set = new ConfluxSet({ nonce: NONCE });
    const r = set.addLeg(leg(false).circ, now);
    expect(r.ok).toBe(false);
  });

  it('a LINKED with another nonce closes the set and destroys every leg', () => {
    const { legs, set, events } = makeSet();
    legs[0]!.ch.receive(legs[0]!.relay.relayCell(RelayCmd.CONFLUX_LINKED, 0, linkedBody(new Uint8Array(32).fill(1))).bytes, now);
    expect(set.state).toBe('closed');
    expect(events.at(-1)).toMatchObject({ type: 'closed', failure: 'linked-bad-nonce' });
    expect(legs.map((l) => l.circ.state)).toEqual(['closed', 'closed']);
  });

  it('a second LINKED, a malformed one, or a leg closing while linking closes the set with its reason', () => {
    const a = makeSet();
    link(a.legs[0]!);
    link(a.legs[0]!);
    expect(a.events.at(-1)).toMatchObject({ failure: 'linked-unexpected' });
    const b = makeSet();
    b.legs[1]!.ch.receive(b.legs[1]!.relay.relayCell(RelayCmd.CONFLUX_LINKED, 0, Uint8Array.of(1, 2, 3)).bytes, now);
    expect(b.events.at(-1)).toMatchObject({ failure: 'linked-malformed' });
    const c = makeSet();
    link(c.legs[0]!);
    c.legs[1]!.circ.destroy();
    expect(c.events.at(-1)).toMatchObject({ failure: 'leg-closed-linking' });
    expect(c.legs[0]!.circ.state).toBe('closed');
  });

  it('delivers cells from both legs in sequence order, holding early ones until the gap fills', () => {
    const { legs, stream, ev, set } = linkedWithStream();
    const [a, b] = legs as [Leg, Leg];
    // Exit: seq 2,3 on leg A; SWITCH(3) then seq 4,5 on leg B; seq 6 on A after SWITCH(2).
    b.ch.receive(sw(b, 3), now);
    b.ch.receive(data(b, stream.id, 4), now); // early: waits
    b.ch.receive(data(b, stream.id, 5), now);
    expect(received(ev)).toEqual([]);
    expect(set.oooLength).toBe(2);
    a.ch.receive(data(a, stream.id, 2), now);
    expect(received(ev)).toEqual([2]);
    a.ch.receive(data(a, stream.id, 3), now); // fills the gap: 3, 4, 5 go out together
    expect(received(ev)).toEqual([2, 3, 4, 5]);
    expect(set.oooLength).toBe(0);
    a.ch.receive(sw(a, 2), now);
    a.ch.receive(data(a, stream.id, 6), now);
    expect(received(ev)).toEqual([2, 3, 4, 5, 6]);
    expect(set.counters).toMatchObject({ switchesIn: 2, oooQueued: 2, oooPeak: 2 });
    expect(legs.map((l) => l.circ.counters.dataCellsIn)).toEqual([3, 2]);
    // END is sequenced too: it waits behind a missing DATA cell.
    b.ch.receive(sw(b, 2), now); // B was at 5; the exit's A reached 7 (seq 7 is still on its way)
    b.ch.receive(b.relay.relayCell(RelayCmd.END, stream.id, Uint8Array.of(6)).bytes, now); // seq 8
    expect(stream.state).toBe('open');
    a.ch.receive(data(a, stream.id, 7), now); // seq 7
    expect(received(ev)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(ev.at(-1)).toMatchObject({ type: 'end', remote: true });
  });

  it('the out-of-order queue is bounded: overflow closes the set and ends its streams', () => {
    const { legs, stream, ev, events } = linkedWithStream({ maxOooCells: 2 });
    const b = legs[1]!;
    b.ch.receive(sw(b, 5), now);
    b.ch.receive(data(b, stream.id, 1), now);
    b.ch.receive(data(b, stream.id, 2), now);
    expect(events.at(-1)).toEqual({ type: 'linked' });
    b.ch.receive(data(b, stream.id, 3), now);
    expect(events.at(-1)).toMatchObject({ type: 'closed', failure: 'ooo-overflow' });
    expect(ev.at(-1)).toMatchObject({ type: 'end', error: { code: 'PROTOCOL_VIOLATION' } });
    expect(legs.map((l) => l.circ.state)).toEqual(['closed', 'closed']);
  });

  it('a cell numbered at or below what was delivered is a sequence violation', () => {
    const { legs, stream, events } = linkedWithStream();
    // Leg B's count is 0: its first DATA is seq 1, already delivered (CONNECTED).
    legs[1]!.ch.receive(data(legs[1]!, stream.id, 1), now);
    expect(events.at(-1)).toMatchObject({ type: 'closed', failure: 'seq-violation' });
  });

  it('SWITCH before linking, conflux cells from a middle hop, and LINK sent to a client are violations', () => {
    const a = makeSet();
    a.legs[0]!.ch.receive(sw(a.legs[0]!, 1), now);
    expect(a.events.at(-1)).toMatchObject({ failure: 'switch-violation' });
    const b = makeSet();
    const l = b.legs[0]!;
    l.ch.receive(l.relay.relayCell(RelayCmd.CONFLUX_LINKED, 0, linkedBody(), 0).bytes, now);
    expect(l.circ.state).toBe('closed');
    expect(b.events.at(-1)).toMatchObject({ failure: 'leg-closed-linking' });
    const c = linkedWithStream();
    c.legs[1]!.ch.receive(c.legs[1]!.relay.relayCell(RelayCmd.CONFLUX_LINK, 0, linkedBody()).bytes, now);
    expect(c.events.at(-1)).toMatchObject({ failure: 'unexpected-cell' });
  });

  it('uploads stay on the lowest-RTT leg when the exit asks for MIN_LATENCY (C tor exits do)', () => {
    const { legs, stream } = linkedWithStream();
    // writableBytes promises exactly what write() takes (the ring pump relies on it).
    expect(stream.writableBytes).toBe(124 * RELAY_DATA_MAX);
    expect(stream.write(new Uint8Array(400 * RELAY_DATA_MAX), now)).toBe(124 * RELAY_DATA_MAX);
    expect(stream.writableBytes).toBe(0);
    expect(legs[0]!.relay.relayMessages().filter((m) => m.msg.command === RelayCmd.DATA).length).toBe(124);
    expect(legs[1]!.relay.relayMessages()).toEqual([]);
  });

  it('with MIN_LATENCY, we answer on the leg the exit is sending on (its relays then get our ACKs), with a SWITCH', () => {
    const { legs, stream, ev } = linkedWithStream();
    const [a, b] = legs as [Leg, Leg];
    // The exit moves to leg B: SWITCH(1) then seq 2 there. Both legs have the same RTT.
    b.ch.receive(sw(b, 1), now);
    b.ch.receive(data(b, stream.id, 2), now);
    expect(received(ev)).toEqual([2]);
    expect(stream.write(new Uint8Array(10), now)).toBe(10);
    expect(a.relay.relayMessages()).toEqual([]);
    const out = b.relay.relayMessages();
    expect(out.map((m) => m.msg.command)).toEqual([RelayCmd.CONFLUX_SWITCH, RelayCmd.DATA]);
    const rel = decodeConfluxSwitchBody(out[0]!.msg.data);
    expect(rel.ok && rel.value).toBe(1); // BEGIN went out as seq 1 on leg A
  });

  it('with HIGH_THROUGHPUT, uploads fill the lowest-RTT leg\'s window, then SWITCH to the other leg with the right relative number', () => {
    const { legs, stream } = linkedWithStream({ exitUx: ConfluxUx.HIGH_THROUGHPUT });
    const [a, b] = legs as [Leg, Leg];
    const big = new Uint8Array(400 * RELAY_DATA_MAX);
    expect(stream.writableBytes).toBe(2 * 124 * RELAY_DATA_MAX);
    const taken = stream.write(big, now);
    expect(taken).toBe(2 * 124 * RELAY_DATA_MAX); // both cc_cwnd_init windows
    const outA = a.relay.relayMessages();
    const outB = b.relay.relayMessages();
    expect(outA.filter((m) => m.msg.command === RelayCmd.DATA).length).toBe(124);
    // Leg A carried BEGIN (seq 1) and 124 DATA: B jumps to 125 before its first DATA (seq 126).
    expect(outB[0]!.msg.command).toBe(RelayCmd.CONFLUX_SWITCH);
    const rel = decodeConfluxSwitchBody(outB[0]!.msg.data);
    expect(rel.ok && rel.value).toBe(125);
    expect(outB.slice(1).every((m) => m.msg.command === RelayCmd.DATA)).toBe(true);
    expect(outB.length).toBe(125);
    expect(stream.writableBytes).toBe(0);
    // A SENDME on leg A opens its window again: the set wakes the stream and goes back to A with a SWITCH.
    const tag = outA.filter((m) => m.msg.command === RelayCmd.DATA)[30]!.tag;
    const events = stream as unknown as { onEvent: (e: StreamEvent) => void };
    let writable = 0;
    const prev = events.onEvent;
    stream.onEvent = (e) => { if (e.type === 'writable') writable++; prev(e); };
    a.ch.receive(a.relay.relayCell(RelayCmd.SENDME, 0, encodeSendmeBody({ version: 1, tag })).bytes, now + 20);
    expect(writable).toBe(1);
    expect(stream.write(new Uint8Array(RELAY_DATA_MAX), now + 20)).toBe(RELAY_DATA_MAX);
    const back = a.relay.relayMessages();
    expect(back.map((m) => m.msg.command)).toEqual([RelayCmd.CONFLUX_SWITCH, RelayCmd.DATA]);
    const rel2 = decodeConfluxSwitchBody(back[0]!.msg.data);
    expect(rel2.ok && rel2.value).toBe(249 - 125); // B reached 249; A was at 125
  });

  it('losing an idle leg keeps the set; losing the leg in use tears it down and ends its streams', () => {
    const a = linkedWithStream();
    // Leg B carried nothing and has nothing in flight: the set goes on over A.
    a.legs[1]!.circ.destroy();
    expect(a.set.state).toBe('linked');
    expect(a.set.counters.legsLostSurvived).toBe(1);
    a.legs[0]!.ch.receive(data(a.legs[0]!, a.stream.id, 2), now);
    expect(received(a.ev)).toEqual([2]);
    // Leg A is the one we send on: losing it ends everything.
    a.legs[0]!.ch.receive(a.legs[0]!.relay.rawCell(4 /* DESTROY */, Uint8Array.of(0)), now);
    expect(a.set.state).toBe('closed');
    expect(a.events.at(-1)).toMatchObject({ type: 'closed', failure: 'leg-lost' });
    expect(a.ev.at(-1)).toMatchObject({ type: 'end', error: { code: 'CIRCUIT_CLOSED' } });
  });
});
