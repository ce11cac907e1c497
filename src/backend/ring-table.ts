// N stream slots in one SharedArrayBuffer, so a backend worker receives the memory once. Each slot holds
// a StreamRingPair (one ring per direction); each side has a doorbell listing the slots that need it.
//
// The buffer is growable: it reserves address space for every slot but commits memory only for the
// slots allocation has reached, SLOT_CHUNK at a time (a plain 2 GiB SharedArrayBuffer is charged in
// full against the kernel's commit limit, and a small host refuses it). Growth is seen by both threads;
// the dataplane grows before it names a new slot to the backend. Tables beyond what a growable buffer
// can reserve (4 GiB) are allocated in full.
//
// Slot ownership: allocation gives both sides a hold (state bits); each side releases its own hold when
// it is done with the stream, and the slot is free again when both have. Either thread may call these.
import { ByteRing, isPowerOfTwo } from './ring.js';
import { Doorbell, doorbellWords } from './doorbell.js';

/** The two threads sharing a table: the dataplane (main thread) and a backend worker. */
export type Side = 'dataplane' | 'backend';

export function otherSide(side: Side): Side {
  return side === 'dataplane' ? 'backend' : 'dataplane';
}

/** Both directions of one stream. */
export interface StreamRingPair {
  /** Client-to-target bytes: the dataplane writes, the backend reads. */
  readonly toBackend: ByteRing;
  /** Target-to-client bytes: the backend writes, the dataplane reads. */
  readonly toDataplane: ByteRing;
}

const MAGIC = 0x6f6e7270; // "onrp"
const VERSION = 1;
const W_MAGIC = 0;
const W_VERSION = 1;
const W_SLOTS = 2;
const W_CAPACITY = 3;
const HEADER_WORDS = 16;
const HOLD: Record<Side, number> = { dataplane: 1, backend: 2 };

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/** Slots committed per growth step. */
export const SLOT_CHUNK = 64;
/** The largest maxByteLength V8 accepts for a growable SharedArrayBuffer. */
const MAX_GROWABLE_BYTES = 2 ** 32;

interface Geometry {
  slots: number;
  capacity: number;
  bellWords: number;
  bellOffset: Record<Side, number>;
  stateWord: number;
  genWord: number;
  slotsByteOffset: number;
  slotBytes: number;
  totalBytes: number;
}

function geometry(slots: number, capacity: number): Geometry {
  const bellWords = roundUp(doorbellWords(slots), 16);
  const bellOffset = { dataplane: HEADER_WORDS, backend: HEADER_WORDS + bellWords };
  const stateWord = HEADER_WORDS + 2 * bellWords;
  const genWord = stateWord + slots;
  const slotsByteOffset = roundUp((genWord + slots) * 4, 64);
  const slotBytes = 2 * ByteRing.bytesFor(capacity);
  return { slots, capacity, bellWords, bellOffset, stateWord, genWord, slotsByteOffset, slotBytes, totalBytes: slotsByteOffset + slots * slotBytes };
}

export interface RingTableOptions {
  /** Number of stream slots (max concurrent streams for this backend). */
  readonly slots: number;
  /** Bytes per ring (per direction), a power of two. */
  readonly capacity: number;
}

export class RingTable {
  readonly sab: SharedArrayBuffer;
  readonly slots: number;
  readonly capacity: number;
  private readonly words: Int32Array;
  private readonly geo: Geometry;
  private readonly bells: Record<Side, Doorbell>;
  private readonly pairs: StreamRingPair[] = [];
  /** Where the next allocation scan starts (per thread; only a hint). */
  private cursor = 0;
  /**
   * Slots this thread saw freed, most recent last (per thread; only hints, checked on use): reusing them
   * first keeps a connection rate on a few warm slots instead of walking every slot's memory in turn.
   */
  private readonly recentlyFreed: number[] = [];
  /** Endpoints are views without state of their own: one per slot and side, made on first use. */
  private readonly endpoints: Record<Side, (StreamEndpoint | undefined)[]> = { dataplane: [], backend: [] };

  /** Bytes of shared memory a table of this shape needs. */
  static bytesFor(options: RingTableOptions): number {
    return geometry(options.slots, options.capacity).totalBytes;
  }

  static create(options: RingTableOptions): RingTable {
    const { slots, capacity } = options;
    if (!Number.isInteger(slots) || slots < 1 || slots > 65536) throw new RangeError(`slots must be 1..65536, got ${slots}`);
    if (!isPowerOfTwo(capacity) || capacity < 64 || capacity > 1 << 26) throw new RangeError(`capacity must be a power of two in 64..2^26, got ${capacity}`);
    const geo = geometry(slots, capacity);
    const sab =
      geo.totalBytes <= MAX_GROWABLE_BYTES
        ? new SharedArrayBuffer(geo.slotsByteOffset + Math.min(slots, SLOT_CHUNK) * geo.slotBytes, { maxByteLength: geo.totalBytes })
        : new SharedArrayBuffer(geo.totalBytes);
    const w = new Int32Array(sab, 0, HEADER_WORDS);
    w[W_SLOTS] = slots;
    w[W_CAPACITY] = capacity;
    w[W_VERSION] = VERSION;
    Atomics.store(w, W_MAGIC, MAGIC);
    return new RingTable(sab);
  }

  /** Open a table created elsewhere (e.g. received by a worker through workerData/postMessage). */
  static attach(sab: SharedArrayBuffer): RingTable {
    return new RingTable(sab);
  }

  private constructor(sab: SharedArrayBuffer) {
    const head = new Int32Array(sab, 0, HEADER_WORDS);
    if (Atomics.load(head, W_MAGIC) !== MAGIC || head[W_VERSION] !== VERSION) throw new Error('not a ring table');
    this.sab = sab;
    this.slots = head[W_SLOTS]!;
    this.capacity = head[W_CAPACITY]!;
    this.geo = geometry(this.slots, this.capacity);
    if ((sab.growable ? sab.maxByteLength : sab.byteLength) < this.geo.totalBytes || sab.byteLength < this.geo.slotsByteOffset) throw new Error('ring table buffer too short');
    this.words = new Int32Array(sab, 0, this.geo.slotsByteOffset / 4);
    const bell = (side: Side) => new Doorbell(this.words.subarray(this.geo.bellOffset[side], this.geo.bellOffset[side] + this.geo.bellWords), this.slots);
    this.bells = { dataplane: bell('dataplane'), backend: bell('backend') };
  }

  /** The doorbell `side` sleeps on (others ring it). */
  doorbell(side: Side): Doorbell {
    return this.bells[side];
  }

  /** Slots whose memory is committed (the buffer's current length); allocation has not gone past them. */
  committedSlots(): number {
    return Math.min(this.slots, Math.floor((this.sab.byteLength - this.geo.slotsByteOffset) / this.geo.slotBytes));
  }

  /** Bytes committed now, and reserved for every slot. */
  memory(): { committed: number; reserved: number } {
    return { committed: this.sab.byteLength, reserved: this.geo.totalBytes };
  }

  /** The two rings of `slot`. */
  pair(slot: number): StreamRingPair {
    this.checkSlot(slot);
    let p = this.pairs[slot];
    if (!p) {
      if (slot >= this.committedSlots()) throw new RangeError(`slot ${slot} is past the committed memory`);
      const base = this.geo.slotsByteOffset + slot * this.geo.slotBytes;
      p = {
        toBackend: new ByteRing(this.sab, base, this.capacity),
        toDataplane: new ByteRing(this.sab, base + ByteRing.bytesFor(this.capacity), this.capacity),
      };
      this.pairs[slot] = p;
    }
    return p;
  }

  /**
   * Claim a free slot for a new stream (held by both sides); undefined when all are in use. Committed
   * slots come first; memory for more is committed only when they are all in use, so the footprint
   * follows the most streams open at once. Dataplane only.
   */
  alloc(): number | undefined {
    while (this.recentlyFreed.length > 0) {
      const slot = this.recentlyFreed.pop()!;
      if (this.claim(slot)) return slot;
    }
    for (;;) {
      const committed = this.committedSlots();
      for (let i = 0; i < committed; i++) {
        const slot = (this.cursor + i) % committed;
        if (this.claim(slot)) {
          this.cursor = (slot + 1) % committed;
          return slot;
        }
      }
      if (committed >= this.slots || !this.grow(committed + SLOT_CHUNK)) return undefined;
      this.cursor = committed;
    }
  }

  /** Commit memory for `slots` slots (at most all); false when the host refuses it. */
  private grow(slots: number): boolean {
    const bytes = this.geo.slotsByteOffset + Math.min(slots, this.slots) * this.geo.slotBytes;
    if (!this.sab.growable || this.sab.byteLength >= bytes) return this.sab.byteLength >= bytes;
    try {
      this.sab.grow(bytes);
      return true;
    } catch {
      return false;
    }
  }

  private claim(slot: number): boolean {
    const w = this.geo.stateWord + slot;
    if (Atomics.load(this.words, w) !== 0 || Atomics.compareExchange(this.words, w, 0, HOLD.dataplane | HOLD.backend) !== 0) return false;
    const p = this.pair(slot);
    p.toBackend.clear();
    p.toDataplane.clear();
    Atomics.add(this.words, this.geo.genWord + slot, 1);
    return true;
  }

  /** `side` is done with `slot`; true when this freed it (the other side had released already). */
  release(slot: number, side: Side): boolean {
    this.checkSlot(slot);
    const prev = Atomics.and(this.words, this.geo.stateWord + slot, ~HOLD[side]);
    const freed = (prev & HOLD[side]) !== 0 && (prev & ~HOLD[side]) === 0;
    if (freed && this.recentlyFreed.length < this.slots) this.recentlyFreed.push(slot);
    return freed;
  }

  isAllocated(slot: number): boolean {
    this.checkSlot(slot);
    return Atomics.load(this.words, this.geo.stateWord + slot) !== 0;
  }

  /** Bumped on every allocation of `slot`: lets control messages name one use of a slot. */
  generation(slot: number): number {
    this.checkSlot(slot);
    return Atomics.load(this.words, this.geo.genWord + slot) >>> 0;
  }

  inUse(): number {
    let n = 0;
    for (let s = 0; s < this.slots; s++) if (Atomics.load(this.words, this.geo.stateWord + s) !== 0) n++;
    return n;
  }

  /** `side`'s view of the stream in `slot`. */
  endpoint(slot: number, side: Side): StreamEndpoint {
    this.checkSlot(slot);
    return (this.endpoints[side][slot] ??= new StreamEndpoint(this, slot, side));
  }

  private checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) throw new RangeError(`slot ${slot} out of range`);
  }
}

/**
 * One side of one stream: writes go to its transmit ring, reads come from its receive ring, and the
 * other side's doorbell is rung only when the other side asked for a wakeup (or on EOF/reset).
 */
export class StreamEndpoint {
  readonly tx: ByteRing;
  readonly rx: ByteRing;
  private readonly peer: Doorbell;

  constructor(private readonly table: RingTable, readonly slot: number, readonly side: Side) {
    const p = table.pair(slot);
    this.tx = side === 'dataplane' ? p.toBackend : p.toDataplane;
    this.rx = side === 'dataplane' ? p.toDataplane : p.toBackend;
    this.peer = table.doorbell(otherSide(side));
  }

  /** Bytes written (0 when full, half-closed or reset). */
  write(src: Uint8Array): number {
    const n = this.tx.write(src);
    if (n > 0 && this.tx.takeDataWakeup()) this.peer.ring(this.slot);
    return n;
  }

  /** Publish `n` bytes written in place at tx.freeSpans(); wakes the peer if it asked for data. */
  commitWrite(n: number): void {
    if (n <= 0) return;
    this.tx.commitWrite(n);
    if (this.tx.takeDataWakeup()) this.peer.ring(this.slot);
  }

  /** Bytes read (0 when empty or reset; check readEnded / isReset). */
  read(dst: Uint8Array): number {
    const n = this.rx.read(dst);
    if (n > 0 && this.rx.takeSpaceWakeup()) this.peer.ring(this.slot);
    return n;
  }

  peek(dst: Uint8Array, offset = 0): number {
    return this.rx.peek(dst, offset);
  }

  skip(n: number): number {
    const k = this.rx.skip(n);
    if (k > 0 && this.rx.takeSpaceWakeup()) this.peer.ring(this.slot);
    return k;
  }

  readable(): number {
    return this.rx.used();
  }

  writable(): number {
    return this.tx.free();
  }

  /** Half-close our direction; the peer reads what is queued, then sees the end. */
  shutdownWrite(): void {
    if (this.tx.isEofSet()) return;
    this.tx.setEof();
    this.tx.takeDataWakeup();
    this.peer.ring(this.slot);
  }

  /** Abort both directions and wake the peer. */
  reset(): void {
    if (this.tx.isReset() && this.rx.isReset()) return;
    this.tx.setReset();
    this.rx.setReset();
    this.peer.ring(this.slot);
  }

  /** The peer half-closed and everything it sent has been read. */
  get readEnded(): boolean {
    return this.rx.atEnd();
  }

  get writeClosed(): boolean {
    return this.tx.isEofSet();
  }

  get isReset(): boolean {
    return this.tx.isReset() || this.rx.isReset();
  }

  /** Ask for a doorbell ring when data/EOF/reset arrives; false if there is something to do now. */
  armRead(): boolean {
    return this.rx.armDataWakeup();
  }

  /** Ask for a doorbell ring once `minFree` bytes (default 1) are free; false if they are free now. */
  armWrite(minFree = 1): boolean {
    return this.tx.armSpaceWakeup(minFree);
  }

  /** This side is done with the stream. */
  release(): boolean {
    return this.table.release(this.slot, this.side);
  }
}
