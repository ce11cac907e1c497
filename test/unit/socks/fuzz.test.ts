// Property tests: any byte stream, split anyhow, gets a reply or a clean close with a counter;
// nothing throws, buffers stay bounded, and no session can wait forever.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  allSocksCounters,
  MAX_HANDSHAKE_MESSAGE,
  SocksServerSession,
  socks5Client,
  type SocksAction,
  type SocksListenerConfig,
  type SocksTarget,
} from '../../../src/socks/index.js';
import { baseConfig, CLIENT } from './helpers.js';

const KNOWN_COUNTERS = new Set(allSocksCounters().map((c) => c.name));

const configArb: fc.Arbitrary<SocksListenerConfig> = fc.record({
  safeSocks: fc.boolean(),
  extendedErrors: fc.boolean(),
  preferNoAuth: fc.boolean(),
  allowSocks4: fc.boolean(),
  rejectInternalAddresses: fc.boolean(),
  required: fc.boolean(),
  connectTimeoutMs: fc.constantFrom(undefined, 3000),
}).map(({ required, ...rest }) => ({
  ...baseConfig,
  ...rest,
  requiredCredentials: required ? { username: 'u', password: 'p' } : undefined,
}));

const targetArb: fc.Arbitrary<SocksTarget> = fc.oneof(
  fc.record({ kind: fc.constant('ipv4' as const), addr: fc.ipV4(), port: fc.nat(65535) }),
  fc.record({ kind: fc.constant('ipv6' as const), addr: fc.ipV6(), port: fc.nat(65535) }),
  fc.record({ kind: fc.constant('host' as const), host: fc.domain().filter((d) => d.length <= 255), port: fc.nat(65535) }),
);

/** A well-formed handshake in one of the supported dialects. */
const handshakeArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.record({ t: targetArb, cmd: fc.constantFrom(0x01, 0xf0, 0xf1, 0x02, 0x03), auth: fc.boolean(), u: fc.string({ maxLength: 8 }) }).map(({ t, cmd, auth, u }) => {
    const req = socks5Client.encodeConnect(t);
    req[1] = cmd;
    const parts = auth
      ? [socks5Client.encodeGreeting([2]), socks5Client.encodeUserPassAuth(u, 'p'), req]
      : [socks5Client.encodeGreeting([0]), req];
    return Uint8Array.from(parts.flatMap((p) => [...p]));
  }),
  fc.record({ ip: fc.uint8Array({ minLength: 4, maxLength: 4 }), cmd: fc.constantFrom(0x01, 0xf0, 0x02), user: fc.uint8Array({ maxLength: 10 }).map((u) => u.filter((x) => x !== 0)), host: fc.option(fc.domain()) }).map(({ ip, cmd, user, host }) => {
    const addr = host ? [0, 0, 0, 1] : [...ip];
    const tail = host ? [...Buffer.from(host), 0] : [];
    return Uint8Array.of(4, cmd, 0, 80, ...addr, ...user, 0, ...tail);
  }),
);

const mutate = (bytes: Uint8Array): fc.Arbitrary<Uint8Array> =>
  fc.array(
    fc.oneof(
      fc.record({ op: fc.constant('flip'), at: fc.nat(), v: fc.nat(255) }),
      fc.record({ op: fc.constant('insert'), at: fc.nat(), v: fc.nat(255) }),
      fc.record({ op: fc.constant('delete'), at: fc.nat(), v: fc.constant(0) }),
      fc.record({ op: fc.constant('truncate'), at: fc.nat(), v: fc.constant(0) }),
    ),
    { minLength: 1, maxLength: 4 },
  ).map((ops) => {
    let b = [...bytes];
    for (const { op, at, v } of ops) {
      const i = b.length ? at % b.length : 0;
      if (op === 'flip' && b.length) b[i] = v;
      else if (op === 'insert') b.splice(i, 0, v);
      else if (op === 'delete') b.splice(i, 1);
      else b = b.slice(0, i);
    }
    return Uint8Array.from(b);
  });

/** Split bytes at random cut points. */
function chunks(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    if (p > prev) out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** Feed a byte stream, then let time run out; check every invariant of the contract. */
function drive(config: SocksListenerConfig, parts: Uint8Array[], backend: 'ok' | 'fail' | 'silent') {
  const all: SocksAction[] = [];
  const { session, actions } = SocksServerSession.accept(config, CLIENT, 0);
  all.push(...actions);
  let now = 0;
  for (const p of parts) {
    now += 1;
    const acts = session.receive(p, now);
    all.push(...acts);
    expect(session.bufferedBytes).toBeLessThanOrEqual(MAX_HANDSHAKE_MESSAGE);
    // Forwarded bytes are always a suffix of this call's input (so glue may keep them in its own buffer).
    const fwd = Buffer.concat(acts.flatMap((a) => (a.type === 'forward' ? [a.bytes] : [])));
    expect(fwd.length).toBeLessThanOrEqual(p.length);
    expect(fwd.equals(Buffer.from(p.subarray(p.length - fwd.length)))).toBe(true);
  }
  const req = session.request;
  if (session.state === 'awaiting-connect') {
    if (backend === 'ok') all.push(...session.connected());
    if (backend === 'fail') all.push(...session.failed(3));
  } else if (session.state === 'awaiting-resolve') {
    if (backend === 'ok') all.push(...session.resolved({ kind: 'ipv4', addr: '1.2.3.4' }));
    if (backend === 'fail') all.push(...session.resolved({ kind: 'error' }));
  }
  // Time runs on: whatever is still pending must resolve by its deadline.
  const d = session.nextDeadline();
  if (d !== undefined) all.push(...session.poll(d));
  all.push(...session.clientEof());

  for (const a of all) if (a.type === 'count') expect(KNOWN_COUNTERS.has(a.counter)).toBe(true);
  const closes = all.filter((a) => a.type === 'close').length;
  expect(closes).toBeLessThanOrEqual(1);
  const state = session.state;
  if (closes === 1) {
    expect(state).toBe('closed');
    // The close carries a reason counter right before it (reply counter or event counter).
    const i = all.findIndex((a) => a.type === 'close');
    expect(all.slice(0, i).some((a) => a.type === 'count')).toBe(true);
  } else {
    // Still open only when the client got a working stream, or the backend was left silent
    // on a listener with no connect timeout.
    expect(req).toBeDefined();
    expect(state === 'established' || ((state === 'awaiting-connect' || state === 'awaiting-resolve') && backend === 'silent' && !config.connectTimeoutMs)).toBe(true);
  }
  if (state === 'established') {
    expect(all.filter((a) => a.type === 'open')).toHaveLength(1);
  }
  return all;
}

describe('SOCKS server fuzzing', () => {
  it('random bytes: a reply or a clean close, a counter, never a throw', () => {
    fc.assert(
      fc.property(configArb, fc.uint8Array({ maxLength: 700 }), fc.array(fc.nat(), { maxLength: 8 }), fc.constantFrom('ok', 'fail', 'silent') as fc.Arbitrary<'ok' | 'fail' | 'silent'>, (cfg, bytes, cuts, backend) => {
        drive(cfg, chunks(bytes, cuts), backend);
      }),
      { numRuns: 800 },
    );
  });

  it('random bytes after a valid first byte exercise every parser', () => {
    fc.assert(
      fc.property(configArb, fc.constantFrom(4, 5), fc.uint8Array({ maxLength: 700 }), fc.array(fc.nat(), { maxLength: 8 }), (cfg, v, bytes, cuts) => {
        drive(cfg, chunks(Uint8Array.of(v, ...bytes), cuts), 'silent');
      }),
      { numRuns: 800 },
    );
  });

  it('mutated valid handshakes behave', () => {
    fc.assert(
      fc.property(configArb, handshakeArb.chain((h) => mutate(h)), fc.array(fc.nat(), { maxLength: 6 }), fc.constantFrom('ok', 'fail', 'silent') as fc.Arbitrary<'ok' | 'fail' | 'silent'>, (cfg, bytes, cuts, backend) => {
        drive(cfg, chunks(bytes, cuts), backend);
      }),
      { numRuns: 800 },
    );
  });

  it('valid handshakes give the same result however they are split', () => {
    fc.assert(
      fc.property(configArb, handshakeArb, fc.array(fc.nat(), { maxLength: 10 }), (cfg, bytes, cuts) => {
        const whole = drive(cfg, [bytes], 'ok');
        const split = drive(cfg, chunks(bytes, cuts), 'ok');
        const summary = (acts: SocksAction[]) =>
          acts.map((a) => (a.type === 'send' ? `send:${Buffer.from(a.bytes).toString('hex')}` : a.type === 'count' ? `count:${a.counter}` : a.type === 'open' ? `open:${JSON.stringify(a.request)}` : a.type));
        // Sends and opens are identical; only the split point of forwarded data may differ.
        expect(summary(split).filter((s) => !s.startsWith('forward'))).toEqual(summary(whole).filter((s) => !s.startsWith('forward')));
      }),
      { numRuns: 400 },
    );
  });

  it('slow handshakes time out at the deadline', () => {
    fc.assert(
      fc.property(handshakeArb, fc.nat(), fc.integer({ min: 1, max: 20_000 }), (bytes, cut, timeout) => {
        const cfg = { ...baseConfig, handshakeTimeoutMs: timeout };
        const { session } = SocksServerSession.accept(cfg, CLIENT, 1000);
        const part = bytes.subarray(0, cut % bytes.length); // never the whole handshake
        session.receive(part, 1000 + Math.floor(timeout / 2));
        if (session.state === 'closed') return; // the prefix alone was already decisive
        expect(session.nextDeadline()).toBe(1000 + timeout);
        expect(session.poll(1000 + timeout - 1).some((a) => a.type === 'close')).toBe(false);
        const a = session.poll(1000 + timeout);
        expect(a.some((x) => x.type === 'count' && x.counter === 'socks-handshake-timeout')).toBe(true);
        expect(a.some((x) => x.type === 'close')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
