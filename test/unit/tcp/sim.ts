/** Simulated network for TCP engine tests: stacks exchange segments over links with delay/loss/reorder/dup. */
import { TcpStack } from '../../../src/net/tcp/stack.js';
import type { TcpConfig } from '../../../src/net/tcp/config.js';
import type { TcpSegmentSink } from '../../../src/net/tcp/types.js';
import { parseTcp, type TcpRepr } from '../../../src/net/wire/tcp.js';
import { BufferPool } from '../../../src/runtime/buffer-pool.js';
import { segmentTcp4Frame } from '../../../src/net/tcp/tso-segment.js';

export interface LinkParams {
  delayMs: number;
  /** bytes per ms (0 = infinite). */
  rate: number;
  /** Max bytes queued before tail drop (with rate > 0). */
  queueBytes: number;
  loss: number;
  reorder: number;
  dup: number;
}

export interface Packet { at: number; seqNo: number; src: number; dst: number; bytes: Uint8Array }

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class CaptureSink implements TcpSegmentSink {
  txBuf = new Uint8Array(65536 + 64);
  txOff = 0;
  /** TSO: the largest segment offered to the engine (0: none). */
  tsoMax = 0;
  constructor(private readonly out: (src: number, dst: number, bytes: Uint8Array, gsoSize: number) => void) {}
  /** Large reserves (longer than 1480 bytes) still allowed with TSO, to test running out of large buffers. */
  largeFree = Infinity;
  reserve(maxLen: number): boolean {
    this.txOff = 14 + 20;
    if (this.tsoMax > 0 && maxLen > 1480) {
      if (this.largeFree <= 0 || maxLen > this.tsoMax) return false;
      this.largeFree--;
    }
    return maxLen <= this.txBuf.length - this.txOff;
  }
  commit(src: number, dst: number, len: number, gsoSize = 0): void { this.out(src, dst, this.txBuf.slice(this.txOff, this.txOff + len), gsoSize); }
  tsoMaxSegment(): number { return this.tsoMax; }
}

/** TSO in the simulation: super-segments up to `maxSegment` bytes; `segment` cuts them as a NIC would. */
export interface SimTso { maxSegment: number; segment: boolean }

/** A TSO super-segment as the engine emitted it. */
export interface SuperSegment { t: number; src: number; dst: number; gsoSize: number; r: TcpRepr }

export class SimNet {
  now = 0;
  private q: Packet[] = [];
  private seqNo = 0;
  readonly stacks = new Map<number, TcpStack>();
  private readonly busyUntil = new Map<string, number>();
  readonly links = new Map<string, LinkParams>();
  readonly random: () => number;
  /** Return false to drop a packet deliberately (tests of specific losses). */
  filter: ((src: number, dst: number, r: TcpRepr) => boolean) | null = null;
  /** Every packet offered to the network (before loss). */
  readonly log: Array<{ t: number; src: number; dst: number; r: TcpRepr }> = [];
  keepLog = true;
  delivered = 0;
  dropped = 0;
  /** Super-segments (gso size set) the engines emitted. */
  readonly superLog: SuperSegment[] = [];
  /** Return false to drop a whole super-segment before it is segmented. */
  superFilter: ((src: number, dst: number, r: TcpRepr) => boolean) | null = null;
  private readonly tso = new Map<number, SimTso>();
  private readonly segPool = new BufferPool(1200, 1);
  private readonly segOut = new Uint32Array(1024);

  constructor(seed = 1, private readonly defaults: LinkParams = { delayMs: 5, rate: 0, queueBytes: 1 << 30, loss: 0, reorder: 0, dup: 0 }) {
    this.random = rng(seed);
  }

  addStack(ip: number, config: Partial<TcpConfig> = {}, tso?: SimTso): TcpStack {
    const sink = new CaptureSink((s, d, b, g) => this.transmitSuper(s, d, b, g));
    if (tso) { sink.tsoMax = tso.maxSegment; this.tso.set(ip, tso); }
    const st = new TcpStack(sink, config, { secret: new Uint8Array(32).fill(ip & 0xff) });
    this.stacks.set(ip, st);
    return st;
  }

  setLink(src: number, dst: number, p: Partial<LinkParams>): void {
    this.links.set(`${src}>${dst}`, { ...this.defaults, ...p });
  }

  private link(src: number, dst: number): LinkParams {
    return this.links.get(`${src}>${dst}`) ?? this.defaults;
  }

  /** A segment from an engine: a TSO super-segment is logged, then segmented (as a NIC would) or sent whole. */
  private transmitSuper(src: number, dst: number, bytes: Uint8Array, gsoSize: number): void {
    if (gsoSize === 0) { this.transmit(src, dst, bytes); return; }
    const p = parseTcp(bytes);
    if (!p.ok) throw new Error('engine emitted an unparsable super-segment');
    this.superLog.push({ t: this.now, src, dst, gsoSize, r: p.value });
    if (this.superFilter && !this.superFilter(src, dst, p.value)) { this.dropped++; return; }
    if (!this.tso.get(src)?.segment) { this.transmit(src, dst, bytes); return; }
    // Through a real frame in a pool buffer: Ethernet + IPv4 + the segment, as af-packet-output would cut it.
    const pool = this.segPool;
    const bi = pool.allocLarge();
    const at = pool.current[bi]!;
    const a = pool.arena;
    a.fill(0, at, at + 34);
    a[at + 12] = 0x08;
    a[at + 14] = 0x45;
    const total = 20 + bytes.length;
    a[at + 16] = total >>> 8; a[at + 17] = total & 0xff;
    a[at + 22] = 64; a[at + 23] = 6;
    for (let i = 0; i < 4; i++) { a[at + 26 + i] = (src >>> (24 - 8 * i)) & 0xff; a[at + 30 + i] = (dst >>> (24 - 8 * i)) & 0xff; }
    a.set(bytes, at + 34);
    pool.length[bi] = 34 + bytes.length;
    const n = segmentTcp4Frame(pool, bi, gsoSize, this.segOut);
    pool.free(bi);
    if (n < 0) throw new Error('super-segment could not be segmented');
    for (let i = 0; i < n; i++) {
      const s = this.segOut[i]!;
      const o = pool.current[s]!;
      const ihl = (a[o + 14]! & 0x0f) * 4;
      const tot = (a[o + 16]! << 8) | a[o + 17]!;
      this.transmit(src, dst, a.slice(o + 14 + ihl, o + 14 + tot));
      pool.free(s);
    }
  }

  transmit(src: number, dst: number, bytes: Uint8Array): void {
    const p = parseTcp(bytes);
    if (!p.ok) throw new Error('engine emitted an unparsable segment');
    if (this.keepLog) this.log.push({ t: this.now, src, dst, r: p.value });
    if (this.filter && !this.filter(src, dst, p.value)) { this.dropped++; return; }
    const l = this.link(src, dst);
    if (l.loss > 0 && this.random() < l.loss) { this.dropped++; return; }
    const key = `${src}>${dst}`;
    let depart = this.now;
    if (l.rate > 0) {
      const busy = Math.max(this.now, this.busyUntil.get(key) ?? 0);
      if ((busy - this.now) * l.rate > l.queueBytes) { this.dropped++; return; }
      depart = busy + (bytes.length + 40) / l.rate;
      this.busyUntil.set(key, depart);
    }
    let at = depart + l.delayMs;
    if (l.reorder > 0 && this.random() < l.reorder) at += l.delayMs * (0.5 + this.random());
    this.enqueue({ at, seqNo: this.seqNo++, src, dst, bytes });
    if (l.dup > 0 && this.random() < l.dup) this.enqueue({ at: at + 0.1, seqNo: this.seqNo++, src, dst, bytes });
  }

  private enqueue(p: Packet): void {
    const q = this.q;
    let lo = 0, hi = q.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (q[m]!.at < p.at || (q[m]!.at === p.at && q[m]!.seqNo < p.seqNo)) lo = m + 1; else hi = m;
    }
    q.splice(lo, 0, p);
  }

  /** Inject raw bytes as if from src (for crafted segments). */
  inject(src: number, dst: number, bytes: Uint8Array): void {
    this.stacks.get(dst)!.input(src, dst, bytes, 0, bytes.length, this.now);
  }

  /** Advance simulated time, delivering packets and firing timers, until `until` or done() is true. */
  run(until: number, done: () => boolean = () => false, maxSteps = 5_000_000): void {
    for (let step = 0; step < maxSteps; step++) {
      if (done()) return;
      let next = this.q.length > 0 ? this.q[0]!.at : Infinity;
      for (const st of this.stacks.values()) {
        const t = st.pollAt();
        if (t < next) next = t;
      }
      if (next === Infinity || next > until) { this.now = Math.max(this.now, Math.min(until, next)); return; }
      if (next > this.now) this.now = next;
      if (this.q.length > 0 && this.q[0]!.at <= this.now) {
        const p = this.q.shift()!;
        const st = this.stacks.get(p.dst);
        if (st) { this.delivered++; st.input(p.src, p.dst, p.bytes, 0, p.bytes.length, this.now); }
        continue;
      }
      for (const st of this.stacks.values()) if (st.pollAt() <= this.now) st.poll(this.now);
    }
    throw new Error('simulation did not settle');
  }

  get inFlight(): number { return this.q.length; }
}

export const IP_A = 0x0a000001;
export const IP_B = 0x0a000002;
