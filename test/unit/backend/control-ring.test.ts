// The control rings between the dataplane and a backend worker: binary codec round trips, order, and
// a full ring that backlogs instead of losing or reordering messages.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ControlReader, ControlWriter, decodeEvent, decodeRequest, encodeEvent, encodeRequest, FRAME_HEADER } from '../../../src/backend/control-codec.js';
import { ControlChannel, createControlBuffer } from '../../../src/backend/control-ring.js';
import type { BackendEvent, BackendRequest, StreamTarget } from '../../../src/backend/interface.js';

function roundTrip<T>(encode: (w: ControlWriter, m: T) => Uint8Array, decode: (r: ControlReader) => T, m: T): T {
  const frame = encode(new ControlWriter(), m);
  const r = new ControlReader();
  const len = (frame[0]! << 8) | frame[1]!;
  expect(len).toBe(frame.length - FRAME_HEADER);
  r.bytes.set(frame.subarray(FRAME_HEADER));
  r.load(len);
  return decode(r);
}

const target = fc.oneof(
  fc.record({ kind: fc.constant('host' as const), host: fc.string({ maxLength: 255 }), port: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ kind: fc.constant('ipv4' as const), addr: fc.ipV4(), port: fc.integer({ min: 0, max: 65535 }) }),
  fc.record({ kind: fc.constant('ipv6' as const), addr: fc.ipV6(), port: fc.integer({ min: 0, max: 65535 }) }),
) as fc.Arbitrary<StreamTarget>;
const id = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

describe('control codec', () => {
  it('round-trips every request', () => {
    const request: fc.Arbitrary<BackendRequest> = fc.oneof(
      fc.record({ type: fc.constant('open' as const), id, slot: fc.integer({ min: 0, max: 65535 }), generation: fc.nat({ max: 0xffffffff }), target, isolationKey: fc.string({ maxLength: 128 }) }),
      fc.record({ type: fc.constant('resolve' as const), id, mode: fc.constantFrom('forward' as const, 'reverse' as const), name: fc.string({ maxLength: 255 }), isolationKey: fc.string({ maxLength: 128 }) }),
      fc.record({ type: fc.constant('abort' as const), id }),
      fc.constant({ type: 'shutdown' as const }),
    );
    fc.assert(
      fc.property(request, (m) => {
        expect(roundTrip(encodeRequest, decodeRequest, m)).toEqual(m);
      }),
    );
  });

  it('round-trips every event', () => {
    const event: fc.Arbitrary<BackendEvent> = fc.oneof(
      fc.constant({ type: 'ready' as const }),
      fc.record({
        type: fc.constant('connected' as const),
        id,
        bound: fc.option(target, { nil: undefined }),
        sourcePort: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        circuit: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
      }),
      fc.record({ type: fc.constant('failed' as const), id, reason: fc.integer({ min: 0, max: 255 }), onionCode: fc.option(fc.integer({ min: 0xf0, max: 0xf7 }), { nil: undefined }) }),
      fc.record({ type: fc.constant('closed' as const), id, reason: fc.integer({ min: 0, max: 255 }) }),
      fc.record({
        type: fc.constant('resolved' as const),
        id,
        answer: fc.oneof(
          fc.record({ kind: fc.constant('ipv4' as const), addr: fc.ipV4() }),
          fc.record({ kind: fc.constant('ipv6' as const), addr: fc.ipV6() }),
          fc.record({ kind: fc.constant('host' as const), host: fc.string({ maxLength: 255 }) }),
          fc.constant({ kind: 'error' as const }),
        ),
      }),
      fc.record({ type: fc.constant('fatal' as const), message: fc.string({ maxLength: 300 }) }),
    );
    fc.assert(
      fc.property(event, (e) => {
        expect(roundTrip(encodeEvent, decodeEvent, e)).toEqual(e);
      }),
    );
  });

  it('cuts an over-long fatal message instead of overrunning the frame', () => {
    const e = roundTrip(encodeEvent, decodeEvent, { type: 'fatal', message: 'x'.repeat(100_000) });
    expect(e.type).toBe('fatal');
    expect((e as { message: string }).message.length).toBeGreaterThan(1000);
    expect((e as { message: string }).message.length).toBeLessThan(9000);
  });
});

describe('control channel', () => {
  it('delivers in order across a full ring (backlog, space wakeup) with both sides asleep on doorbells', async () => {
    const sab = createControlBuffer();
    const dataplane = new ControlChannel<BackendRequest, BackendEvent>(sab, 'dataplane', encodeRequest, decodeEvent);
    const backend = new ControlChannel<BackendEvent, BackendRequest>(sab, 'backend', encodeEvent, decodeRequest);
    const n = 20_000; // ~2.5 MB of frames: ten times the ring
    const key = 'k'.repeat(64);
    const got: number[] = [];
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((r) => (resolveDone = r));
    // The backend echoes each open as `closed` with the same id.
    void backend.run((m) => {
      if (m.type === 'open') backend.send({ type: 'closed', id: m.id, reason: 6 });
    });
    void dataplane.run((e) => {
      if (e.type === 'closed') got.push(e.id);
      if (got.length === n) resolveDone();
    });
    for (let i = 0; i < n; i++) {
      dataplane.send({ type: 'open', id: i, slot: i % 1024, generation: i, target: { kind: 'host', host: `h${i}.example`, port: 443 }, isolationKey: key });
    }
    expect(dataplane.backlogged).toBeGreaterThan(0); // the ring filled: the rest waits, in order
    await done;
    expect(got).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(dataplane.backlogged).toBe(0);
    dataplane.stop();
    backend.stop();
  });

  it('counts and skips a frame it cannot decode, then reads the next', () => {
    const sab = createControlBuffer();
    const dataplane = new ControlChannel<BackendRequest, BackendEvent>(sab, 'dataplane', encodeRequest, decodeEvent);
    let calls = 0;
    const picky = (r: ControlReader): BackendRequest => {
      if (calls++ === 0) throw new RangeError('unknown control request');
      return decodeRequest(r);
    };
    const backend = new ControlChannel<BackendEvent, BackendRequest>(sab, 'backend', encodeEvent, picky);
    dataplane.send({ type: 'abort', id: 1 });
    dataplane.send({ type: 'abort', id: 2 });
    const got: BackendRequest[] = [];
    expect(backend.drain((m) => got.push(m))).toBe(2);
    expect(got).toEqual([{ type: 'abort', id: 2 }]);
    expect(backend.decodeErrors).toBe(1);
  });
});

