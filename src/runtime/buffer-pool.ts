// Packet buffers: one preallocated arena, metadata in parallel typed arrays, a free-index stack.
// Nothing is allocated per packet: a buffer is an index; its bytes live at `dataOffset(bi)` in `arena`.

export const BUFFER_DATA_SIZE = 2048;
/** Room in front of the data so headers can be prepended without copying (VPP's pre-data). */
export const BUFFER_PRE_DATA_SIZE = 128;
export const BUFFER_SLOT_SIZE = BUFFER_PRE_DATA_SIZE + BUFFER_DATA_SIZE;
/**
 * Data bytes of a large buffer: room for the largest IPv4 packet (total length 65535), so a TCP segment
 * sent with TSO (one GSO super-frame, segmented by the kernel) is contiguous in the arena like any packet.
 */
export const LARGE_BUFFER_DATA_SIZE = 65536;
export const LARGE_BUFFER_SLOT_SIZE = BUFFER_PRE_DATA_SIZE + LARGE_BUFFER_DATA_SIZE;

/** Large buffers by default: 1 per 128 small ones, between 8 and 128 (at most 8.4 MB of arena). */
export function defaultLargeBufferCount(capacity: number): number {
  return Math.max(8, Math.min(128, capacity >>> 7));
}

export const BufferFlag = {
  /** The buffer is being traced: nodes add trace records for it. */
  TRACED: 1,
  /** L4 checksum already verified or to be filled by the device (vnet header). */
  L4_CHECKSUM_OK: 2,
  /** IPv4 header checksum already verified. */
  IP4_CHECKSUM_OK: 4,
  /**
   * TX: the L4 (TCP/UDP over IPv4) checksum field holds only the pseudo-header sum; the device completes it
   * (vnet header CSUM_PARTIAL). af-packet-output finds the field from the Ethernet/IPv4 headers, and fills the
   * checksum in software for a device without offload.
   */
  TX_L4_CSUM_OFFLOAD: 8,
  /**
   * RX: a GSO super-frame larger than the buffer: only its first bytes (the headers) are in the buffer,
   * `length` is the full length, the bytes are in af-packet-input's staging area (af-packet-jumbo.ts).
   */
  JUMBO: 16,
} as const;

/** Sentinel for "no interface" / "no trace". */
export const NONE = 0xffffffff;

/**
 * Small buffers are indices 0..capacity-1 (BUFFER_SLOT_SIZE slots); large buffers (LARGE_BUFFER_SLOT_SIZE
 * slots, after the small ones in the same arena) are indices capacity..capacity+largeCapacity-1, with their
 * own free stack. Every node addresses both kinds the same way (`current`/`length` in `arena`); only code
 * that writes up to the end of a slot asks `slotEnd`/`dataSize`.
 */
export class BufferPool {
  /** Small (2 KiB) buffers. */
  readonly capacity: number;
  /** Large (64 KiB) buffers, for TCP segments sent with TSO. */
  readonly largeCapacity: number;
  readonly arena: Uint8Array;
  /** Absolute offset in `arena` of the first byte of the packet's current header. */
  readonly current: Uint32Array;
  readonly length: Uint32Array;
  readonly rxInterface: Uint32Array;
  readonly txInterface: Uint32Array;
  /** Global error-counter index set by the node that dropped the buffer. */
  readonly error: Uint32Array;
  readonly flags: Uint8Array;
  /** Index into the trace store when TRACED. */
  readonly traceIndex: Uint32Array;
  /** Node-to-node scratch words (like VPP's opaque): 4 u32 per buffer. */
  readonly opaque: Uint32Array;
  /**
   * TX: when non-zero, the buffer holds one TCP/IPv4 segment longer than the MTU to be sent as a GSO
   * super-frame cut into segments of this many payload bytes (the MSS); set by the TCP output sink.
   */
  readonly gsoSize: Uint16Array;
  private readonly freeStack: Uint32Array;
  private freeCount: number;
  private readonly largeFreeStack: Uint32Array;
  private largeFreeCount: number;
  /** Arena offset of the first large slot. */
  private readonly largeBase: number;
  /** Allocation failures, for `show buffers`. */
  allocFailures = 0;
  /** Large-buffer allocation failures (the caller falls back to small buffers). */
  largeAllocFailures = 0;

  constructor(capacity: number, largeCapacity = defaultLargeBufferCount(capacity)) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`buffer pool capacity ${capacity}`);
    if (!Number.isInteger(largeCapacity) || largeCapacity < 0) throw new RangeError(`large buffer count ${largeCapacity}`);
    this.capacity = capacity;
    this.largeCapacity = largeCapacity;
    const all = capacity + largeCapacity;
    this.largeBase = capacity * BUFFER_SLOT_SIZE;
    this.arena = new Uint8Array(this.largeBase + largeCapacity * LARGE_BUFFER_SLOT_SIZE);
    this.current = new Uint32Array(all);
    this.length = new Uint32Array(all);
    this.rxInterface = new Uint32Array(all).fill(NONE);
    this.txInterface = new Uint32Array(all).fill(NONE);
    this.error = new Uint32Array(all);
    this.flags = new Uint8Array(all);
    this.traceIndex = new Uint32Array(all).fill(NONE);
    this.opaque = new Uint32Array(all * 4);
    this.gsoSize = new Uint16Array(all);
    this.freeStack = new Uint32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeStack[i] = capacity - 1 - i;
    this.freeCount = capacity;
    this.largeFreeStack = new Uint32Array(largeCapacity);
    for (let i = 0; i < largeCapacity; i++) this.largeFreeStack[i] = all - 1 - i;
    this.largeFreeCount = largeCapacity;
  }

  /** Free small buffers. */
  get available(): number {
    return this.freeCount;
  }

  /** Free large buffers. */
  get largeAvailable(): number {
    return this.largeFreeCount;
  }

  /** True for a large (64 KiB) buffer. */
  isLarge(bi: number): boolean {
    return bi >= this.capacity;
  }

  /** Allocates one buffer, reset to an empty packet at the start of its data area; NONE when exhausted. */
  alloc(): number {
    if (this.freeCount === 0) {
      this.allocFailures++;
      return NONE;
    }
    return this.reset(this.freeStack[--this.freeCount]!);
  }

  /** Allocates one large buffer (LARGE_BUFFER_DATA_SIZE data bytes); NONE when none is free. */
  allocLarge(): number {
    if (this.largeFreeCount === 0) {
      this.largeAllocFailures++;
      return NONE;
    }
    return this.reset(this.largeFreeStack[--this.largeFreeCount]!);
  }

  /** A buffer of the same kind as `bi` (to copy a packet that may be large into); NONE when exhausted. */
  allocLike(bi: number): number {
    return bi >= this.capacity ? this.allocLarge() : this.alloc();
  }

  private reset(bi: number): number {
    this.current[bi] = this.dataStart(bi);
    this.length[bi] = 0;
    this.rxInterface[bi] = NONE;
    this.txInterface[bi] = NONE;
    this.error[bi] = 0;
    this.flags[bi] = 0;
    this.traceIndex[bi] = NONE;
    this.gsoSize[bi] = 0;
    return bi;
  }

  /** Allocates up to `n` buffers into `out`; returns how many it got. */
  allocMany(out: Uint32Array, n: number): number {
    let got = 0;
    while (got < n) {
      const bi = this.alloc();
      if (bi === NONE) break;
      out[got++] = bi;
    }
    return got;
  }

  free(bi: number): void {
    if (bi >= this.capacity) {
      if (this.largeFreeCount >= this.largeCapacity) throw new Error(`buffer pool: double free of ${bi}`);
      this.largeFreeStack[this.largeFreeCount++] = bi;
      return;
    }
    if (this.freeCount >= this.capacity) throw new Error(`buffer pool: double free of ${bi}`);
    this.freeStack[this.freeCount++] = bi;
  }

  freeMany(indices: Uint32Array, n: number): void {
    for (let i = 0; i < n; i++) this.free(indices[i]!);
  }

  /** First byte of the slot's data area (not counting pre-data). */
  dataStart(bi: number): number {
    return bi < this.capacity
      ? bi * BUFFER_SLOT_SIZE + BUFFER_PRE_DATA_SIZE
      : this.largeBase + (bi - this.capacity) * LARGE_BUFFER_SLOT_SIZE + BUFFER_PRE_DATA_SIZE;
  }

  /** End of the slot: no packet byte may be written at or beyond it. */
  slotEnd(bi: number): number {
    return bi < this.capacity
      ? (bi + 1) * BUFFER_SLOT_SIZE
      : this.largeBase + (bi - this.capacity + 1) * LARGE_BUFFER_SLOT_SIZE;
  }

  /** Data bytes of the buffer's kind (not counting pre-data). */
  dataSize(bi: number): number {
    return bi < this.capacity ? BUFFER_DATA_SIZE : LARGE_BUFFER_DATA_SIZE;
  }

  /** Moves the current pointer forward (strip a header) or back (negative: prepend room). */
  advance(bi: number, delta: number): void {
    this.current[bi] = this.current[bi]! + delta;
    this.length[bi] = this.length[bi]! - delta;
  }

  /** A view of the packet's current bytes (allocates a view: for control paths and tests). */
  view(bi: number): Uint8Array {
    const start = this.current[bi]!;
    return this.arena.subarray(start, start + this.length[bi]!);
  }

  /** Copies bytes into a fresh buffer; NONE if the pool is empty or the bytes do not fit. */
  allocFrom(bytes: Uint8Array): number {
    if (bytes.length > BUFFER_DATA_SIZE) return NONE;
    const bi = this.alloc();
    if (bi === NONE) return NONE;
    this.arena.set(bytes, this.current[bi]!);
    this.length[bi] = bytes.length;
    return bi;
  }
}
