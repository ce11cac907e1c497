/**
 * Session fifo: a single-producer single-consumer byte ring in the style of VPP's svm_fifo.
 *
 * - `head` (consumer) and `tail` (producer) are free-running u32 byte positions; `tail - head` (mod 2^32) is
 *   the number of readable bytes. The capacity is a power of two so positions map to ring indices with a mask
 *   across the 2^32 wrap.
 * - Out-of-order data can be written at an offset beyond `tail` (`enqueueAt`); the fifo remembers the
 *   `{start, end}` ranges and a later in-order `enqueue` that reaches them advances `tail` past them.
 * - `peek` and `dequeueDrop` let a transport read without consuming (TCP keeps unacked data in its tx fifo).
 * - An event flag that is set only on its 0→1 transition (`setEvent` returns true exactly once until
 *   `unsetEvent`) deduplicates "data available" notifications.
 * - Dequeue notifications (one-shot, re-armed by the producer) fire after a dequeue that leaves the fifo
 *   empty or below a threshold, so a blocked producer learns that space has freed up.
 * - Storage is allocated on first write and can be released when idle, so idle sessions cost only this object.
 *   It starts small (FIFO_INITIAL_STORAGE) and doubles when a write needs more room, up to the capacity, as
 *   VPP's chunked fifos grow: a short exchange never touches a large ring, a bulk flow gets its full window.
 */

export const DequeueNotify = {
  None: 0,
  /** After any dequeue. */
  Always: 1,
  /** When a dequeue leaves the fifo empty. */
  IfEmpty: 2,
  /** When a dequeue leaves fewer than `threshold` bytes in the fifo. */
  BelowThreshold: 4,
} as const;

/** Storage a fifo starts with; it grows by doubling up to the fifo's capacity when a write needs more. */
export const FIFO_INITIAL_STORAGE = 16 * 1024;

/** Upper bound of remembered out-of-order ranges; more disjoint ranges than this are refused (counted by the caller). */
export const DEFAULT_MAX_OOO_SEGMENTS = 16;

export function roundUpPow2(n: number): number {
  if (n <= 1) return 1;
  return 2 ** Math.ceil(Math.log2(n));
}

/**
 * Ring storage reused across fifos of this thread: a connection that closes hands its rings back, so a
 * connection rate does not turn into an allocation (and zero-fill, and GC) rate. Bounded in bytes.
 */
export class FifoStoragePool {
  private readonly free = new Map<number, Uint8Array[]>();
  private bytes = 0;
  /** Fresh allocations and reuses, for `show session memory`. */
  allocated = 0;
  reused = 0;

  constructor(readonly maxBytes: number) {}

  take(size: number): Uint8Array {
    const list = this.free.get(size);
    const d = list?.pop();
    if (d) {
      this.bytes -= size;
      this.reused++;
      return d;
    }
    this.allocated++;
    return new Uint8Array(size);
  }

  give(d: Uint8Array): void {
    if (this.bytes + d.length > this.maxBytes) return; // over the bound: let GC have it
    let list = this.free.get(d.length);
    if (!list) this.free.set(d.length, (list = []));
    list.push(d);
    this.bytes += d.length;
  }

  get pooledBytes(): number {
    return this.bytes;
  }
}

/** The pool every fifo of this thread draws from (64 MiB of idle rings at most). */
export const fifoStoragePool = new FifoStoragePool(64 * 1024 * 1024);

/** Copies n bytes of ring `from` starting at index i into ring `to` starting at index j (either may wrap). */
function copyRing(from: Uint8Array, i: number, to: Uint8Array, j: number, n: number): void {
  while (n > 0) {
    const k = Math.min(n, from.length - i, to.length - j);
    to.set(from.subarray(i, i + k), j);
    i = (i + k) & (from.length - 1);
    j = (j + k) & (to.length - 1);
    n -= k;
  }
}

export class SessionFifo {
  /** Capacity in bytes (a power of two). */
  readonly size: number;
  private data: Uint8Array | null = null;
  /** data.length - 1: storage index of a position (storage is a power of two no larger than `size`). */
  private dataMask = 0;
  /** Consumer position (free-running u32). */
  head = 0;
  /** Producer position (free-running u32). */
  tail = 0;

  // Out-of-order ranges, sorted by start, as absolute u32 positions; allocated on first use.
  private oooStart: Uint32Array | null = null;
  private oooEnd: Uint32Array | null = null;
  private oooN = 0;
  private readonly maxOoo: number;
  /** Index of the range touched by the most recent `enqueueAt` (RFC 2018: report it first), -1 if none. */
  private oooLast = -1;

  private event = 0;
  private deqMode = 0;
  private deqThreshold = 0;
  /** Called after a dequeue that satisfies the armed notification; the notification is then disarmed. */
  onDequeueNotify: ((fifo: SessionFifo) => void) | null = null;

  constructor(size: number, maxOooSegments = DEFAULT_MAX_OOO_SEGMENTS) {
    if (!Number.isInteger(size) || size < 1 || size > 2 ** 30) throw new RangeError(`fifo size out of range: ${size}`);
    this.size = roundUpPow2(size);
    this.maxOoo = maxOooSegments;
  }

  /** Bytes readable by the consumer. */
  get maxDequeue(): number { return (this.tail - this.head) >>> 0; }
  /** Bytes the producer may append in order. */
  get maxEnqueue(): number { return this.size - ((this.tail - this.head) >>> 0); }
  get isEmpty(): boolean { return this.tail === this.head; }
  get isFull(): boolean { return this.maxDequeue === this.size; }
  /** True when ring storage is currently allocated. */
  get hasStorage(): boolean { return this.data !== null; }

  /** Bytes of ring storage held now (0 when released); grows toward `size` as writes need it. */
  get storageBytes(): number {
    return this.data === null ? 0 : this.data.length;
  }

  /**
   * Storage covering positions [head, end): allocated at the initial size on first use, doubled (the live
   * bytes moved across, out-of-order ones included) when `end` reaches beyond it.
   */
  private storageFor(end: number): Uint8Array {
    const span = (end - this.head) >>> 0;
    let d = this.data;
    if (d !== null && span <= d.length) return d;
    let want = d === null ? Math.min(this.size, FIFO_INITIAL_STORAGE) : d.length;
    while (want < span) want *= 2;
    const next = fifoStoragePool.take(Math.min(want, this.size));
    if (d !== null) {
      // Everything from head to the furthest byte held (tail, or the last out-of-order range) moves.
      const held = this.maxDequeue + (this.oooN > 0 ? this.rel(this.oooEnd![this.oooN - 1]!) : 0);
      copyRing(d, this.head & this.dataMask, next, this.head & (next.length - 1), held);
      fifoStoragePool.give(d);
    }
    this.data = d = next;
    this.dataMask = d.length - 1;
    return d;
  }

  /** Free the ring storage when nothing is buffered (idle session); it is reallocated on the next write. */
  releaseIfIdle(): boolean {
    if (this.head !== this.tail || this.oooN !== 0 || this.data === null) return false;
    fifoStoragePool.give(this.data);
    this.data = null;
    return true;
  }

  /** The owner is gone: give the storage back whatever it holds. */
  discard(): void {
    if (this.data) fifoStoragePool.give(this.data);
    this.data = null;
    this.head = this.tail = 0;
    this.oooN = 0;
    this.oooLast = -1;
  }

  private writeAt(pos: number, src: Uint8Array, off: number, len: number): void {
    const d = this.storageFor((pos + len) >>> 0);
    const i = pos & this.dataMask;
    const first = Math.min(len, d.length - i);
    d.set(src.subarray(off, off + first), i);
    if (first < len) d.set(src.subarray(off + first, off + len), 0);
  }

  private readAt(pos: number, dst: Uint8Array, dstOff: number, len: number): void {
    const d = this.data!;
    const i = pos & this.dataMask;
    const first = Math.min(len, d.length - i);
    dst.set(d.subarray(i, i + first), dstOff);
    if (first < len) dst.set(d.subarray(0, len - first), dstOff + first);
  }

  /**
   * Append src[off, off+len) in order (as much as fits) and absorb out-of-order ranges the new tail reaches.
   * Returns how far `tail` advanced (written bytes plus collected out-of-order bytes).
   */
  enqueue(src: Uint8Array, off: number, len: number): number {
    const n = Math.min(len, this.maxEnqueue);
    if (n <= 0) return 0;
    this.writeAt(this.tail, src, off, n);
    const oldTail = this.tail;
    this.tail = (this.tail + n) >>> 0;
    if (this.oooN > 0) this.collectOoo();
    return (this.tail - oldTail) >>> 0;
  }

  /**
   * Append up to `len` bytes that `fill` writes straight into storage (no staging copy). `fill(dst, at, n)`
   * writes at most n bytes at dst[at..] and returns how many; it is called for at most two contiguous pieces
   * and not again after a short one. Returns how far `tail` advanced.
   */
  enqueueWith(len: number, fill: (dst: Uint8Array, at: number, n: number) => number): number {
    const n = Math.min(len, this.maxEnqueue);
    if (n <= 0) return 0;
    const d = this.storageFor((this.tail + n) >>> 0);
    const i = this.tail & this.dataMask;
    const first = Math.min(n, d.length - i);
    let got = Math.min(first, fill(d, i, first));
    if (got === first && first < n) got += Math.min(n - first, fill(d, 0, n - first));
    if (got <= 0) return 0;
    const oldTail = this.tail;
    this.tail = (this.tail + got) >>> 0;
    if (this.oooN > 0) this.collectOoo();
    return (this.tail - oldTail) >>> 0;
  }

  /**
   * Write src[off, off+len) at `offset` bytes beyond `tail` (out-of-order data). Bytes beyond capacity are cut.
   * Returns the bytes accepted, or -1 when the range cannot be recorded (too many disjoint ranges).
   * offset 0 behaves like `enqueue`.
   */
  enqueueAt(offset: number, src: Uint8Array, off: number, len: number): number {
    if (offset === 0) {
      const n0 = Math.min(len, this.maxEnqueue);
      this.enqueue(src, off, n0);
      return n0;
    }
    const room = this.maxEnqueue - offset;
    if (room <= 0) return 0;
    const n = Math.min(len, room);
    if (n <= 0) return 0;
    const start = (this.tail + offset) >>> 0;
    if (!this.addOoo(start, (start + n) >>> 0)) return -1;
    this.writeAt(start, src, off, n);
    return n;
  }

  /** Offset of `pos` from tail (positions in [tail, tail+size) map to [0, size)). */
  private rel(pos: number): number { return (pos - this.tail) >>> 0; }

  private addOoo(start: number, end: number): boolean {
    if (this.oooStart === null) {
      this.oooStart = new Uint32Array(this.maxOoo);
      this.oooEnd = new Uint32Array(this.maxOoo);
    }
    const s = this.oooStart, e = this.oooEnd!;
    const rs = this.rel(start), re = this.rel(end);
    // Find the first range whose end reaches rs (overlapping or adjacent), then merge all ranges starting ≤ re.
    let i = 0;
    while (i < this.oooN && this.rel(e[i]!) < rs) i++;
    let j = i;
    let ns = rs, ne = re;
    while (j < this.oooN && this.rel(s[j]!) <= re) {
      ns = Math.min(ns, this.rel(s[j]!));
      ne = Math.max(ne, this.rel(e[j]!));
      j++;
    }
    const merged = j - i;
    if (merged === 0) {
      if (this.oooN >= this.maxOoo) return false;
      s.copyWithin(i + 1, i, this.oooN);
      e.copyWithin(i + 1, i, this.oooN);
      this.oooN++;
    } else if (merged > 1) {
      s.copyWithin(i + 1, j, this.oooN);
      e.copyWithin(i + 1, j, this.oooN);
      this.oooN -= merged - 1;
    }
    s[i] = (this.tail + ns) >>> 0;
    e[i] = (this.tail + ne) >>> 0;
    this.oooLast = i;
    return true;
  }

  private collectOoo(): void {
    const s = this.oooStart!, e = this.oooEnd!;
    // After tail moved, ranges entirely behind it or starting at/behind it are absorbed. Offsets are computed
    // against the new tail, so "behind" shows up as a huge u32 offset (≥ size).
    let k = 0;
    while (k < this.oooN) {
      const rs = this.rel(s[k]!);
      if (rs !== 0 && rs < this.size) break; // strictly ahead: still a hole before it
      const re = this.rel(e[k]!);
      if (re !== 0 && re <= this.size) this.tail = e[k]!; // range extends past tail: absorb its bytes
      k++;
    }
    if (k > 0) {
      s.copyWithin(0, k, this.oooN);
      e.copyWithin(0, k, this.oooN);
      this.oooN -= k;
      this.oooLast = this.oooLast >= k ? this.oooLast - k : -1;
    }
  }

  /** Number of out-of-order ranges held. */
  get oooSegmentCount(): number { return this.oooN; }
  /** Start of range i as an offset beyond tail. */
  oooSegmentOffset(i: number): number { return this.rel(this.oooStart![i]!); }
  /** Length of range i. */
  oooSegmentLength(i: number): number { return (this.oooEnd![i]! - this.oooStart![i]!) >>> 0; }
  /** Index of the most recently written range, or -1. */
  get oooLastIndex(): number { return this.oooLast; }

  /** Copy up to len readable bytes starting `offset` bytes past head into dst, without consuming. Returns bytes copied. */
  peek(offset: number, dst: Uint8Array, dstOff: number, len: number): number {
    const n = Math.min(len, this.maxDequeue - offset);
    if (n <= 0) return 0;
    this.readAt((this.head + offset) >>> 0, dst, dstOff, n);
    return n;
  }

  /** Consume up to len bytes into dst. Returns bytes copied. */
  dequeue(dst: Uint8Array, dstOff: number, len: number): number {
    const n = Math.min(len, this.maxDequeue);
    if (n <= 0) return 0;
    this.readAt(this.head, dst, dstOff, n);
    this.head = (this.head + n) >>> 0;
    this.afterDequeue();
    return n;
  }

  /**
   * Consume up to `len` bytes that `drain` takes straight from storage (no staging copy). `drain(src, at, n)`
   * takes at most n bytes from src[at..] and returns how many; at most two contiguous pieces, no call after
   * a short one. Returns the bytes consumed.
   */
  dequeueWith(len: number, drain: (src: Uint8Array, at: number, n: number) => number): number {
    const n = Math.min(len, this.maxDequeue);
    if (n <= 0) return 0;
    const d = this.data!;
    const i = this.head & this.dataMask;
    const first = Math.min(n, d.length - i);
    let got = Math.min(first, drain(d, i, first));
    if (got === first && first < n) got += Math.min(n - first, drain(d, 0, n - first));
    if (got <= 0) return 0;
    this.head = (this.head + got) >>> 0;
    this.afterDequeue();
    return got;
  }

  /** Consume up to len bytes without copying. Returns bytes dropped. */
  dequeueDrop(len: number): number {
    const n = Math.min(len, this.maxDequeue);
    if (n <= 0) return 0;
    this.head = (this.head + n) >>> 0;
    this.afterDequeue();
    return n;
  }

  /** Drop everything buffered (both in-order and out-of-order). */
  reset(): void {
    this.head = this.tail = 0;
    this.oooN = 0;
    this.oooLast = -1;
  }

  // --- events ---------------------------------------------------------------------------------------------

  /** Set the event flag; true only on the 0→1 transition (the caller should then post one event). */
  setEvent(): boolean {
    if (this.event !== 0) return false;
    this.event = 1;
    return true;
  }
  unsetEvent(): void { this.event = 0; }
  get hasEvent(): boolean { return this.event !== 0; }

  // --- dequeue notifications -------------------------------------------------------------------------------

  /** Arm a one-shot dequeue notification (modes may be OR-ed). `threshold` applies to BelowThreshold. */
  wantDequeueNotify(mode: number, threshold = 0): void {
    this.deqMode |= mode;
    if (mode & DequeueNotify.BelowThreshold) this.deqThreshold = threshold;
  }
  clearDequeueNotify(): void { this.deqMode = 0; }
  get dequeueNotifyArmed(): boolean { return this.deqMode !== 0; }

  private afterDequeue(): void {
    const m = this.deqMode;
    if (m === 0) return;
    const used = this.maxDequeue;
    if ((m & DequeueNotify.Always) || ((m & DequeueNotify.IfEmpty) && used === 0)
      || ((m & DequeueNotify.BelowThreshold) && used < this.deqThreshold)) {
      this.deqMode = 0;
      this.onDequeueNotify?.(this);
    }
  }
}
