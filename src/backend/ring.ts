// A single-producer single-consumer byte ring in shared memory: one direction of one stream.
//
// Layout (Int32 words, then data): HEAD and TAIL are free-running u32 byte positions
// (used = TAIL - HEAD mod 2^32), on separate cache lines since different threads write them.
// The producer copies bytes in and then publishes TAIL with Atomics.store; the consumer reads TAIL
// with Atomics.load before copying out, so bytes are visible before the position that covers them.
// Nothing here blocks or signals: the WANT_DATA / WANT_SPACE words only record that the other side
// asked to be woken (WANT_SPACE: once how many bytes are free); the stream endpoint decides whether to
// ring a doorbell.

export const RING_HEADER_BYTES = 256;

const W_HEAD = 0;
const W_TAIL = 16;
const W_FLAGS = 32;
/** Consumer found the ring empty and asked to be woken by the next write/EOF/reset. */
const W_WANT_DATA = 33;
/** Producer found the ring full and asked to be woken by the next read/reset. */
const W_WANT_SPACE = 34;

export const RingFlag = {
  /** Producer will write no more (half-close). */
  EOF: 1,
  /** Stream aborted; either side may set it. Pending bytes are void. */
  RESET: 2,
} as const;

/**
 * V8 copies into or out of shared memory word by word only when both ends have the same address mod 8;
 * otherwise byte by byte, about 7× slower. Copies whose ends disagree go through this private buffer,
 * placed to agree with the shared end: the private-to-private half is a plain memcpy.
 */
const STAGE = new Uint8Array(64 * 1024 + 8);
/** Below this, a byte-by-byte copy costs less than a second pass. */
const STAGE_MIN = 256;

/** dst.set(src.subarray(srcOff, srcOff + n), dstOff), aligned with the shared side through STAGE if need be. */
function copyBytes(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, n: number, dstShared: boolean): void {
  const dstAt = dst.byteOffset + dstOff, srcAt = src.byteOffset + srcOff;
  if (n < STAGE_MIN || ((dstAt - srcAt) & 7) === 0) {
    dst.set(src.subarray(srcOff, srcOff + n), dstOff);
    return;
  }
  for (let done = 0; done < n; ) {
    // STAGE[s] agrees mod 8 with the shared end of this chunk.
    const s = ((dstShared ? dstAt : srcAt) + done) & 7;
    const k = Math.min(n - done, STAGE.length - 8);
    const stage = STAGE.subarray(s, s + k);
    stage.set(src.subarray(srcOff + done, srcOff + done + k));
    dst.set(stage, dstOff + done);
    done += k;
  }
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export class ByteRing {
  readonly capacity: number;
  private readonly mask: number;
  private readonly hdr: Int32Array;
  private readonly data: Uint8Array;

  /** Bytes of shared memory one ring of `capacity` occupies. */
  static bytesFor(capacity: number): number {
    return RING_HEADER_BYTES + capacity;
  }

  /**
   * A view over `sab` at `byteOffset` (multiple of 8). `capacity` is a power of two <= 2^30 so free-running
   * u32 positions wrap consistently.
   */
  constructor(sab: SharedArrayBuffer, byteOffset: number, capacity: number) {
    if (!isPowerOfTwo(capacity) || capacity > 1 << 30) throw new RangeError(`ring capacity must be a power of two <= 2^30, got ${capacity}`);
    if (byteOffset % 8 !== 0 || byteOffset + ByteRing.bytesFor(capacity) > sab.byteLength) throw new RangeError('ring does not fit the buffer');
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.hdr = new Int32Array(sab, byteOffset, RING_HEADER_BYTES / 4);
    this.data = new Uint8Array(sab, byteOffset + RING_HEADER_BYTES, capacity);
  }

  /**
   * Empty the ring and clear its flags; only while neither side uses it (slot allocation).
   * `start` is the initial free-running position (tests use values near 2^32 to exercise wraparound).
   */
  clear(start = 0): void {
    Atomics.store(this.hdr, W_HEAD, start | 0);
    Atomics.store(this.hdr, W_TAIL, start | 0);
    Atomics.store(this.hdr, W_FLAGS, 0);
    Atomics.store(this.hdr, W_WANT_DATA, 0);
    Atomics.store(this.hdr, W_WANT_SPACE, 0);
  }

  /** Bytes ready to read. */
  used(): number {
    return (Atomics.load(this.hdr, W_TAIL) - Atomics.load(this.hdr, W_HEAD)) >>> 0;
  }

  /** Bytes that can be written now. */
  free(): number {
    return this.capacity - this.used();
  }

  flags(): number {
    return Atomics.load(this.hdr, W_FLAGS);
  }

  isReset(): boolean {
    return (this.flags() & RingFlag.RESET) !== 0;
  }

  /** The producer half-closed. */
  isEofSet(): boolean {
    return (this.flags() & RingFlag.EOF) !== 0;
  }

  /** The producer half-closed and every byte has been read: the consumer sees end of stream. */
  atEnd(): boolean {
    return this.isEofSet() && this.used() === 0;
  }

  // --- producer ---

  /** Copy as much of `src` as fits; returns bytes written (0 when full, closed or reset). */
  write(src: Uint8Array): number {
    if (this.flags() !== 0) return 0;
    const tail = Atomics.load(this.hdr, W_TAIL) >>> 0;
    const head = Atomics.load(this.hdr, W_HEAD) >>> 0;
    const n = Math.min(src.length, this.capacity - ((tail - head) >>> 0));
    if (n <= 0) return 0;
    const at = tail & this.mask;
    const first = Math.min(n, this.capacity - at);
    copyBytes(this.data, at, src, 0, first, true);
    if (n > first) copyBytes(this.data, 0, src, first, n - first, true);
    Atomics.store(this.hdr, W_TAIL, (tail + n) | 0);
    return n;
  }

  /**
   * The free space as up to two spans of `bytes` — out[0], out[1]: offset and length of the first; out[2],
   * out[3]: the part after the wrap (length 0 when none) — to be filled in place (a socket read straight into
   * the ring) and published with commitWrite(). Returns the total: 0 when full, half-closed or reset.
   */
  freeSpans(out: Int32Array): number {
    const tail = Atomics.load(this.hdr, W_TAIL) >>> 0;
    const n = this.flags() !== 0 ? 0 : this.capacity - ((tail - Atomics.load(this.hdr, W_HEAD)) >>> 0);
    return this.spans(out, tail, n);
  }

  /** Publish `n` bytes written in place at the start of freeSpans(). */
  commitWrite(n: number): void {
    const tail = Atomics.load(this.hdr, W_TAIL);
    Atomics.store(this.hdr, W_TAIL, (tail + n) | 0);
  }

  /** Half-close: no more writes. Idempotent. */
  setEof(): void {
    Atomics.or(this.hdr, W_FLAGS, RingFlag.EOF);
  }

  // --- consumer ---

  /** Copy up to dst.length bytes starting `offset` bytes past the read position, without consuming. */
  peek(dst: Uint8Array, offset = 0): number {
    if (this.isReset()) return 0;
    const head = Atomics.load(this.hdr, W_HEAD) >>> 0;
    const tail = Atomics.load(this.hdr, W_TAIL) >>> 0;
    const used = (tail - head) >>> 0;
    if (offset >= used) return 0;
    const n = Math.min(dst.length, used - offset);
    const at = (head + offset) & this.mask;
    const first = Math.min(n, this.capacity - at);
    copyBytes(dst, 0, this.data, at, first, false);
    if (n > first) copyBytes(dst, first, this.data, 0, n - first, false);
    return n;
  }

  /**
   * The queued bytes from `offset` past the read position as up to two spans of `bytes` (as freeSpans), to be
   * sent in place and then dropped with skip(). Returns the total: 0 when none or reset.
   */
  usedSpans(out: Int32Array, offset = 0): number {
    const head = Atomics.load(this.hdr, W_HEAD) >>> 0;
    const used = (Atomics.load(this.hdr, W_TAIL) - head) >>> 0;
    const n = this.isReset() || offset >= used ? 0 : used - offset;
    return this.spans(out, (head + offset) >>> 0, n);
  }

  /** The ring's storage, for I/O in place at the offsets freeSpans()/usedSpans() give. */
  get bytes(): Uint8Array {
    return this.data;
  }

  private spans(out: Int32Array, pos: number, n: number): number {
    const at = pos & this.mask;
    const first = Math.min(n, this.capacity - at);
    out[0] = at;
    out[1] = first;
    out[2] = 0;
    out[3] = n - first;
    return n;
  }

  /** Drop up to n bytes from the read position; returns bytes dropped. */
  skip(n: number): number {
    const head = Atomics.load(this.hdr, W_HEAD) >>> 0;
    const used = (Atomics.load(this.hdr, W_TAIL) - head) >>> 0;
    const k = Math.max(0, Math.min(n, used));
    if (k > 0) Atomics.store(this.hdr, W_HEAD, (head + k) | 0);
    return k;
  }

  /** Copy out and consume up to dst.length bytes; returns bytes read (0 when empty or reset). */
  read(dst: Uint8Array): number {
    const n = this.peek(dst, 0);
    if (n > 0) this.skip(n);
    return n;
  }

  // --- both ---

  /** Abort the stream in this direction. Idempotent. */
  setReset(): void {
    Atomics.or(this.hdr, W_FLAGS, RingFlag.RESET);
  }

  // --- wakeup requests ---

  /**
   * Consumer: ask to be woken on the next write, EOF or reset. Returns false when there is already
   * something to act on (the caller must not sleep); the request stays armed either way.
   */
  armDataWakeup(): boolean {
    Atomics.store(this.hdr, W_WANT_DATA, 1);
    return this.used() === 0 && this.flags() === 0;
  }

  /**
   * Producer: ask to be woken once at least `minFree` bytes are free (at most the capacity), or the ring is
   * reset. False when that much is free already. Waiting for a good share of the ring instead of the first
   * byte lets a fast producer refill in large batches instead of waking once per small read.
   */
  armSpaceWakeup(minFree = 1): boolean {
    const want = Math.max(1, Math.min(minFree, this.capacity));
    Atomics.store(this.hdr, W_WANT_SPACE, want);
    return this.free() < want && !this.isReset();
  }

  /** Producer side after a write/EOF: true when the consumer asked to be woken (and clears the ask). */
  takeDataWakeup(): boolean {
    return Atomics.exchange(this.hdr, W_WANT_DATA, 0) === 1;
  }

  /** Consumer side after a read: true when the producer asked to be woken and enough is free (clears the ask). */
  takeSpaceWakeup(): boolean {
    const want = Atomics.load(this.hdr, W_WANT_SPACE);
    if (want === 0 || this.free() < want) return false;
    return Atomics.compareExchange(this.hdr, W_WANT_SPACE, want, 0) === want;
  }
}
