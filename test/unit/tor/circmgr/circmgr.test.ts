// Circuit manager policy with scripted channels/circuits/streams over a synthetic NetDir: retries
// after exit refusals and BEGIN timeouts, isolation, dirtiness, NEWNYM, build timeouts, preemptive
// circuits, destroy-reason counters, guard reachability learned from directory circuits.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseMdConsensus, parseMicrodescs } from '../../../../src/tor/netdoc/index.js';
import { NetDir } from '../../../../src/tor/netdir/index.js';
import { GuardMgr } from '../../../../src/tor/guardmgr/index.js';
import { CircMgr, StreamOpenError, type StreamSink } from '../../../../src/tor/circmgr/index.js';
import type { ChanMgr } from '../../../../src/tor/chanmgr/index.js';
import type { StreamEvent } from '../../../../src/tor/proto/index.js';
import { consensusText, microdescText, seededRandom, type SynthRelay } from '../netdir/synthetic.js';

type Behaviour = 'connect' | 'hang' | number; // number = END reason

interface Script {
  /** What an exit does with BEGIN, by exit nickname. */
  begin: (exit: string) => Behaviour;
  /** Hang circuit creation (for build timeouts). */
  hangCreate?: boolean;
  /** New circuits are destroyed at their first EXTEND2 (a broken network; guards stay up), while true. */
  failExtend?: () => boolean;
  /** Relays whose channel cannot be opened, by nickname. */
  unreachable?: ReadonlySet<string>;
}

class FakeStream {
  onEvent: (e: StreamEvent) => void = () => {};
  state = 'connecting';
  endedWith: number | undefined;
  end(reason: number) {
    this.state = 'closed';
    this.endedWith = reason;
  }
  remoteEnd(reason: number) {
    this.state = 'closed';
    this.onEvent({ type: 'end', reason, remote: true, error: null });
  }
}

class FakeCircuit {
  onEvent: (e: unknown) => void = () => {};
  state = 'creating';
  hops: string[] = [];
  streams: FakeStream[] = [];
  constructor(private readonly script: Script, first: string) {
    this.hops.push(first);
    if (!script.hangCreate) queueMicrotask(() => this.opened({ type: 'open' }));
  }
  private opened(e: unknown) {
    if (this.state === 'closed') return;
    this.state = 'open';
    this.onEvent(e);
  }
  extend(t: { addr: string; port: number; rsaId: Uint8Array }) {
    this.hops.push(nickByPort.get(t.port)!);
    if (this.script.failExtend?.()) queueMicrotask(() => this.remoteDestroy(8));
    else queueMicrotask(() => this.opened({ type: 'extended', hops: this.hops.length }));
    return { ok: true, value: undefined };
  }
  beginStream() {
    const s = new FakeStream();
    this.streams.push(s);
    const b = this.script.begin(this.hops[2]!);
    queueMicrotask(() => {
      if (b === 'connect') {
        s.state = 'open';
        s.onEvent({ type: 'connected', connected: { kind: 'empty' } });
      } else if (typeof b === 'number') s.remoteEnd(b);
    });
    return { ok: true, value: s };
  }
  resolve() {
    const s = new FakeStream();
    queueMicrotask(() => s.onEvent({ type: 'resolved', answers: [{ kind: 'ipv4', addr: new Uint8Array([10, 0, 0, 1]), ttl: 60 }] }));
    return { ok: true, value: s };
  }
  destroy() {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const s of this.streams) if (s.state !== 'closed') s.onEvent({ type: 'end', reason: 5, remote: false, error: null });
    this.onEvent({ type: 'closed', reason: 9, remote: false, error: null });
  }
  remoteDestroy(reason: number) {
    this.state = 'closed';
    this.onEvent({ type: 'closed', reason, remote: true, error: null });
  }
}

const nickByPort = new Map<number, string>();

function synth(guardsAreExits = false): NetDir {
  const rs: SynthRelay[] = [];
  const add = (nick: string, flags: string[], md: string[] = []) => rs.push({ nick, ip: `10.${rs.length}.0.1`, flags: ['Fast', 'Running', 'Valid', ...flags], bw: 1000, md });
  if (guardsAreExits) {
    add('exitA', ['Exit', 'Guard'], ['p accept 80,443']);
    add('exitB', ['Exit', 'Guard'], ['p accept 80,443']);
    for (const n of ['mid0', 'mid1']) add(n, []);
    return new NetDir(parseMdConsensus(consensusText(rs)), parseMicrodescs(rs.map(microdescText).join('')), { testNetwork: true });
  }
  for (const n of ['guard0', 'guard1', 'guard2']) add(n, ['Guard']);
  for (const n of ['mid0', 'mid1', 'mid2']) add(n, []);
  add('exitA', ['Exit'], ['p accept 80,443']);
  add('exitB', ['Exit'], ['p accept 80,443']);
  add('exitC', ['Exit'], ['p accept 443']);
  const dir = new NetDir(parseMdConsensus(consensusText(rs)), parseMicrodescs(rs.map(microdescText).join('')), { testNetwork: true });
  // The synthetic consensus gives every relay ORPort 9001: key fake circuits by address instead.
  return dir;
}

interface SetupOptions {
  buildTimeoutMs?: number;
  beginTimeoutMs?: number;
  guardsAreExits?: boolean;
  preemptiveCircuits?: number;
  preemptivePorts?: number[];
}

function setup(script: Script, opts: SetupOptions = {}) {
  const dir = synth(opts.guardsAreExits);
  let now = Date.parse('2026-01-01T00:30:00Z');
  const clock = () => now;
  const guards = new GuardMgr(undefined, { rng: seededRandom(11) });
  guards.update(dir, now);
  const circuits: FakeCircuit[] = [];
  // ExtendTarget carries addr/port: map each relay's address to its nickname through a unique port.
  nickByPort.clear();
  dir.relays().forEach((r, i) => {
    (r as { orPort: number }).orPort = 9001 + i;
    nickByPort.set(9001 + i, r.nickname);
  });
  const chanMgr = {
    get: async (t: { port: number }) => {
      const nick = nickByPort.get(t.port)!;
      if (script.unreachable?.has(nick)) throw new Error(`connect to ${nick}: ECONNREFUSED`);
      const create = () => {
        const c = new FakeCircuit(script, nick);
        circuits.push(c);
        return { ok: true, value: c };
      };
      return { channel: { createCircuit: create, createCircuitFast: create } };
    },
  } as unknown as ChanMgr;
  const mgr = new CircMgr({
    chanMgr,
    guardMgr: guards,
    netdir: () => dir,
    clock,
    rng: seededRandom(5),
    buildTimeoutMs: opts.buildTimeoutMs,
    beginTimeoutMs: opts.beginTimeoutMs,
    preemptivePorts: opts.preemptivePorts ?? [80, 443],
    preemptiveCircuits: opts.preemptiveCircuits,
  });
  const sink: StreamSink = { freeSpace: () => 1 << 20, onEvent: () => {} };
  return { mgr, circuits, guards, sink, dir, advance: (ms: number) => (now += ms) };
}

describe('CircMgr', () => {
  it('builds 3-hop circuits guard -> middle -> exit with a guard from the guard manager', async () => {
    const t = setup({ begin: () => 'connect' });
    const o = await t.mgr.openStream({ host: 'example.com', port: 80, isolationKey: 'k' }, t.sink);
    const c = t.circuits[0]!;
    expect(c.hops).toHaveLength(3);
    expect(new Set(c.hops).size).toBe(3);
    expect(t.guards.primaries.map((id) => t.guards.sampled.find((g) => g.id === id)!.nickname)).toContain(c.hops[0]);
    expect(['exitA', 'exitB']).toContain(c.hops[2]);
    expect(o.circuit.isolationKey).toBe('k');
    expect(t.guards.confirmed()).toHaveLength(1);
    expect(t.mgr.counters.get('circuits-built')).toBe(1);
  });

  it('chooses the exit first and a guard that is not the exit (guards may be exits)', async () => {
    const t = setup({ begin: () => 'connect' }, { guardsAreExits: true });
    const exits = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const mc = t.mgr.buildExitCircuit(80);
      await mc.ready;
      const c = t.circuits[t.circuits.length - 1]!;
      expect(c.hops[0]).not.toBe(c.hops[2]);
      exits.add(c.hops[2]!);
    }
    // The primary guard does not pin the exit: both exits are used.
    expect(exits).toEqual(new Set(['exitA', 'exitB']));
  });

  it('retries on another exit after END EXITPOLICY, as C tor does', async () => {
    let first: string | undefined;
    const t = setup({ begin: (exit) => ((first ??= exit) === exit ? 4 : 'connect') });
    const o = await t.mgr.openStream({ host: 'example.com', port: 80, isolationKey: 'k' }, t.sink);
    expect(o.attempts).toBe(2);
    expect(o.circuit.exit!.nickname).not.toBe(first);
    expect(t.mgr.streamCounters.get('refused-exitpolicy')).toBe(1);
    expect(t.mgr.streamCounters.get('retried')).toBe(1);
  });

  it('retries RESOLVEFAILED elsewhere but not CONNECTREFUSED', async () => {
    const t = setup({ begin: () => 3 });
    const e = await t.mgr.openStream({ host: 'example.com', port: 80, isolationKey: 'k' }, t.sink).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StreamOpenError);
    expect((e as StreamOpenError).reason).toBe(3);
    expect(t.mgr.streamCounters.get('retried')).toBe(0);
    const t2 = setup({ begin: () => 2 });
    const e2 = await t2.mgr.openStream({ host: 'nx.example', port: 80, isolationKey: 'k' }, t2.sink).catch((x: unknown) => x);
    expect((e2 as StreamOpenError).reason).toBe(2);
    expect(t2.mgr.streamCounters.get('refused-resolvefailed')).toBe(3); // C tor's MAX_RESOLVE_FAILURES
  });

  it('retries END MISC on a new circuit (a young exit refusing an unknown middle), retiring the old one', async () => {
    let n = 0;
    const t = setup({ begin: () => (n++ === 0 ? 1 : 'connect') });
    const o = await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'k' }, t.sink);
    expect(o.attempts).toBe(2);
    expect(t.mgr.list().find((c) => c.id !== o.circuit.id && c.isolation === 'k')?.retired ?? true).toBe(true);
    expect(t.mgr.streamCounters.get('refused-misc')).toBe(1);
  });

  it('retries on another circuit after a BEGIN timeout and retires the slow one', async () => {
    let n = 0;
    const t = setup({ begin: () => (n++ === 0 ? 'hang' : 'connect') }, { beginTimeoutMs: 30 });
    const o = await t.mgr.openStream({ host: 'example.com', port: 80, isolationKey: 'k' }, t.sink);
    expect(o.attempts).toBe(2);
    expect(t.circuits[0]!.streams[0]!.endedWith).toBe(7); // END TIMEOUT sent
    expect(t.mgr.streamCounters.get('begin-timeout')).toBe(1);
    expect(o.circuit.id).not.toBe(t.mgr.list().find((c) => c.retired)?.id ?? -1);
  });

  it('never shares a circuit between isolation keys and reuses one within a key', async () => {
    const t = setup({ begin: () => 'connect' });
    const [a1, b1, a2] = await Promise.all([
      t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'a' }, t.sink),
      t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'b' }, t.sink),
      t.mgr.openStream({ host: 'h', port: 443, isolationKey: 'a' }, t.sink),
    ]);
    expect(a1.circuit).toBe(a2.circuit);
    expect(a1.circuit).not.toBe(b1.circuit);
    expect(t.circuits).toHaveLength(2);
  });

  it('stops using a circuit for new streams 10 minutes after its first stream', async () => {
    const t = setup({ begin: () => 'connect' });
    const a = await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'a' }, t.sink);
    t.advance(9 * 60_000);
    expect((await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'a' }, t.sink)).circuit).toBe(a.circuit);
    t.advance(61_000);
    const later = await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'a' }, t.sink);
    expect(later.circuit).not.toBe(a.circuit);
    t.mgr.maintain();
    expect(t.mgr.counters.get('dirty-expired')).toBe(1);
  });

  it('NEWNYM: new streams get new circuits; old ones close when their streams end', async () => {
    const t = setup({ begin: () => 'connect' });
    const a = await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'a' }, t.sink);
    t.mgr.newnym();
    const b = await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'a' }, t.sink);
    expect(b.circuit).not.toBe(a.circuit);
    expect(a.circuit.retired).toBe(true);
    expect(a.circuit.state).toBe('open');
    (a.stream as unknown as FakeStream).remoteEnd(6);
    expect(a.circuit.state).toBe('closed');
    expect(t.mgr.counters.get('newnym-retired')).toBeGreaterThanOrEqual(1);
    expect(t.mgr.counters.get('idle-closed')).toBe(1);
  });

  it('gives up on a build after the build timeout and counts it', async () => {
    const t = setup({ begin: () => 'connect', hangCreate: true }, { buildTimeoutMs: 30 });
    const mc = t.mgr.buildExitCircuit(80);
    await expect(mc.ready).rejects.toThrow(/timed out/);
    expect(t.mgr.counters.get('build-timeout')).toBe(1);
    expect(t.circuits[0]!.state).toBe('closed');
  });

  it('keeps clean circuits ready for the predicted ports', async () => {
    const t = setup({ begin: () => 'connect' });
    t.mgr.maintain();
    await new Promise((r) => setTimeout(r, 10));
    const clean = t.mgr.list().filter((c) => c.state === 'open' && c.isolation === null);
    expect(clean.length).toBeGreaterThanOrEqual(2);
    expect(t.mgr.counters.get('preemptive-launched')).toBeGreaterThanOrEqual(2);
    // A stream takes a preemptive circuit instead of building.
    const before = t.circuits.length;
    const o = await t.mgr.openStream({ host: 'h', port: 443, isolationKey: 'x' }, t.sink);
    expect(t.circuits.length).toBe(before);
    expect(o.circuit.isolationKey).toBe('x');
  });

  it('predicts the ports streams use; once idle builds nothing ahead and closes unused clean circuits', async () => {
    const t = setup({ begin: () => 'connect' }, { preemptivePorts: [443] });
    t.mgr.maintain();
    await new Promise((r) => setTimeout(r, 10));
    const cleanExits = () => t.mgr.list().filter((c) => c.state === 'open' && c.isolation === null && !c.retired).map((c) => c.path.at(-1));
    expect(t.mgr.predictedPorts()).toEqual([443]);
    // A stream to port 80: predicted from now on; the upkeep keeps a clean circuit whose exit allows it
    // (exitC takes 443 only).
    await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'k' }, t.sink);
    expect(t.mgr.predictedPorts()).toEqual([443, 80]);
    t.mgr.maintain();
    await new Promise((r) => setTimeout(r, 10));
    expect(cleanExits().some((e) => e === 'exitA' || e === 'exitB')).toBe(true);
    // A port no exit allows is dropped, not built for at every upkeep.
    await t.mgr.openStream({ host: 'h', port: 22, isolationKey: 'k' }, t.sink).catch(() => undefined);
    t.mgr.maintain();
    expect(t.mgr.predictedPorts()).toEqual([443, 80]);
    expect(t.mgr.counters.get('predicted-port-unserved')).toBe(1);
    // Idle past the prediction timeout (at most 60 min): nothing is predicted, nothing launched, and
    // the clean circuits close once their idle timeout (the prediction time left at launch, +≤5%) ends.
    t.advance(70 * 60_000);
    expect(t.mgr.predictedPorts()).toEqual([]);
    const clean = cleanExits().length;
    expect(clean).toBeGreaterThan(0);
    const launched = t.mgr.counters.get('preemptive-launched');
    t.mgr.maintain();
    expect(t.mgr.counters.get('preemptive-launched')).toBe(launched);
    expect(t.mgr.counters.get('unused-closed')).toBe(clean);
    expect(cleanExits()).toEqual([]);
    // A resolve counts as port 80 (C tor's rep_hist_note_used_resolve).
    await t.mgr.resolve('example.com', 'k2');
    expect(t.mgr.predictedPorts()).toEqual([80]);
    t.mgr.maintain();
    expect(t.mgr.counters.get('preemptive-launched')).toBeGreaterThan(launched);
  });

  it('counts DESTROY reasons, and a stream whose circuit dies is retried', async () => {
    let n = 0;
    const t = setup({ begin: () => (n++ === 0 ? 'hang' : 'connect') });
    const p = t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'a' }, t.sink);
    await new Promise((r) => setTimeout(r, 5));
    const c0 = t.circuits[0]!;
    for (const s of c0.streams) s.onEvent({ type: 'end', reason: 5, remote: false, error: null });
    c0.remoteDestroy(8);
    const o = await p;
    expect(o.attempts).toBe(2);
    expect(t.mgr.counters.get('destroy-channel-closed')).toBe(1);
    expect(t.mgr.counters.rows().every((r) => r.description && ['error', 'warn', 'info'].includes(r.severity))).toBe(true);
  });

  it('a directory circuit to a guard tells the guard manager whether the guard is reachable', async () => {
    const unreachable = new Set<string>();
    const t = setup({ begin: () => 'connect', unreachable }, { preemptivePorts: [], preemptiveCircuits: 0 });
    const relay = (id: string) => t.dir.relayByRsaId(id.toLowerCase())!;
    const dirServer = (r: ReturnType<typeof relay>) => t.mgr.dirServer({ name: r.nickname, nickname: r.nickname, rsaId: r.rsaIdentity, addr: r.ip, port: r.orPort });
    const [first, second] = [relay(t.guards.primaries[0]!), relay(t.guards.primaries[1]!)];
    // Reachable: the one-hop circuit confirms the guard, as a built circuit through it would. (The
    // fake circuit has no BEGIN_DIR; only the circuit matters here.)
    await dirServer(second).open().catch(() => undefined);
    expect(t.guards.confirmed().map((g) => g.id)).toEqual([second.rsaIdHex]);
    // Unreachable: the guard is marked so, and the next circuit goes through another guard.
    unreachable.add(first.nickname);
    await expect(dirServer(first).open()).rejects.toThrow(/ECONNREFUSED/);
    expect(t.guards.summary(0).find((g) => g.id === first.rsaIdHex)!.reachable).toBe('no');
    await t.mgr.openStream({ host: 'example.com', port: 80, isolationKey: 'k' }, t.sink);
    expect(t.circuits.at(-1)!.hops[0]).not.toBe(first.nickname);
    // A cache that is not one of our guards changes nothing in the guard manager.
    const failures = t.guards.counters.get('failure');
    unreachable.add('mid0');
    await expect(dirServer(t.dir.relays().find((r) => r.nickname === 'mid0')!).open()).rejects.toThrow(/ECONNREFUSED/);
    expect(t.guards.counters.get('failure')).toBe(failures);
  });

  it('resolves through an exit circuit', async () => {
    const t = setup({ begin: () => 'connect' });
    const answers = await t.mgr.resolve('example.com', 'dns');
    expect(answers[0]!.kind).toBe('ipv4');
    expect(t.mgr.streamCounters.get('resolve-ok')).toBe(1);
  });
});

describe('CircMgr preemptive top-up (a claimed or lost clean circuit is replaced at once)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const tick = () => new Promise((r) => setTimeout(r, 5));
  const clean = (t: ReturnType<typeof setup>) => t.mgr.list().filter((c) => c.purpose === 'exit' && c.state !== 'closed' && c.isolation === null && !c.retired);

  it('claiming a clean circuit launches one replacement, without waiting for maintain()', async () => {
    const t = setup({ begin: () => 'connect' });
    t.mgr.maintain();
    await tick();
    expect(t.mgr.counters.get('preemptive-launched')).toBe(2);
    expect(t.circuits).toHaveLength(2);
    const a = await t.mgr.openStream({ host: 'h', port: 443, isolationKey: 'a' }, t.sink);
    expect(t.circuits).toHaveLength(2); // the stream rode a prebuilt circuit
    await tick();
    expect(t.mgr.counters.get('preemptive-topup')).toBe(1);
    expect(t.mgr.counters.get('preemptive-launched')).toBe(3);
    expect(t.circuits).toHaveLength(3);
    expect(clean(t)).toHaveLength(2);
    // The same key reuses its (now dirty) circuit: nothing is claimed, nothing launched.
    const a2 = await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'a' }, t.sink);
    expect(a2.circuit).toBe(a.circuit);
    await tick();
    expect(t.circuits).toHaveLength(3);
    // The next new key again finds a prebuilt circuit.
    const b = await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'b' }, t.sink);
    expect(b.circuit.createdAt).toBeLessThanOrEqual(b.circuit.builtAt!);
    expect(t.circuits).toHaveLength(3);
    await tick();
    expect(t.mgr.counters.get('preemptive-topup')).toBe(2);
    expect(clean(t)).toHaveLength(2);
    t.mgr.closeAll();
  });

  it('claims at once share one top-up that never exceeds the configured clean circuits', async () => {
    const t = setup({ begin: () => 'connect' });
    t.mgr.maintain();
    await tick();
    await Promise.all(['a', 'b', 'c'].map((k) => t.mgr.openStream({ host: 'h', port: 80, isolationKey: k }, t.sink)));
    await tick();
    // Two claimed (the third key built its own), then exactly two replacements.
    expect(t.mgr.counters.get('preemptive-topup')).toBe(2);
    expect(t.mgr.counters.get('preemptive-launched')).toBe(4);
    expect(clean(t)).toHaveLength(2);
    expect(t.circuits).toHaveLength(5);
    t.mgr.closeAll();
  });

  it('replaces a clean circuit that dies', async () => {
    const t = setup({ begin: () => 'connect' });
    t.mgr.maintain();
    await tick();
    t.circuits[0]!.remoteDestroy(8);
    await tick();
    expect(t.mgr.counters.get('preemptive-topup')).toBe(1);
    expect(clean(t)).toHaveLength(2);
    t.mgr.closeAll();
  });

  it('does not storm when every build fails: paced, then left to maintain() until a build succeeds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let broken = true;
    const t = setup({ begin: () => 'connect', failExtend: () => broken });
    const wait = async (ms: number) => {
      t.advance(ms);
      await vi.advanceTimersByTimeAsync(ms);
    };
    t.mgr.maintain();
    await wait(60_000);
    const launched = t.mgr.counters.get('preemptive-launched');
    // 2 by maintain(), 2 at once after the losses, 2 a second later; then the failure streak stops top-ups.
    expect(launched).toBeLessThanOrEqual(6);
    expect(t.circuits.length).toBe(launched);
    expect(t.mgr.counters.get('preemptive-topup')).toBeLessThanOrEqual(4);
    expect(t.mgr.counters.get('preemptive-topup-deferred')).toBeGreaterThanOrEqual(1);
    expect(t.mgr.counters.get('build-extend-failed')).toBe(launched);
    await wait(60_000);
    expect(t.mgr.counters.get('preemptive-launched')).toBe(launched);
    expect(t.mgr.list().filter((c) => c.state !== 'closed')).toHaveLength(0);
    // The network recovers: maintain() builds, a success re-enables claim-time top-ups.
    broken = false;
    t.mgr.maintain();
    await wait(10);
    expect(clean(t).filter((c) => c.state === 'open')).toHaveLength(2);
    const before = t.mgr.counters.get('preemptive-topup');
    await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'k' }, t.sink);
    await wait(10);
    expect(t.mgr.counters.get('preemptive-topup')).toBe(before + 1);
    t.mgr.closeAll();
  });

  it('with 0 preemptive circuits and no predicted ports builds nothing ahead of a stream', async () => {
    const t = setup({ begin: () => 'connect' }, { preemptiveCircuits: 0, preemptivePorts: [] });
    expect(t.mgr.preemptiveEnabled).toBe(false);
    t.mgr.maintain();
    await tick();
    expect(t.circuits).toHaveLength(0);
    const a = await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'a' }, t.sink);
    await tick();
    expect(t.circuits).toHaveLength(1);
    expect(a.circuit.isolationKey).toBe('a');
    // A circuit built clean by hand (the client's bootstrap check) is claimed without a replacement.
    await t.mgr.buildExitCircuit(80).ready;
    await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'b' }, t.sink);
    t.mgr.newnym();
    t.mgr.maintain();
    await tick();
    expect(t.circuits).toHaveLength(2);
    expect(t.mgr.counters.get('preemptive-launched')).toBe(0);
    expect(t.mgr.counters.get('preemptive-topup')).toBe(0);
  });

  it('retire() closes an idle circuit so it takes no stream', async () => {
    const t = setup({ begin: () => 'connect' }, { preemptiveCircuits: 0, preemptivePorts: [] });
    const mc = await t.mgr.buildExitCircuit(80).ready;
    t.mgr.retire(mc.id);
    expect(mc.state).toBe('closed');
    const o = await t.mgr.openStream({ host: 'h', port: 80, isolationKey: 'a' }, t.sink);
    expect(o.circuit).not.toBe(mc);
    expect(t.circuits).toHaveLength(2);
  });
});
