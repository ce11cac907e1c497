// The contract between the graph's device input/output nodes and a packet device (AF_PACKET or in-memory):
// batches in, batches out, one readiness callback per wake-up.

/** Per-frame metadata entries in `RxBatch.meta` / `TxBatch.meta` (a Uint16Array, META_STRIDE per frame). */
export const META_STRIDE = 4;
export const META_FLAGS = 0;
export const META_CSUM_START = 1;
export const META_CSUM_OFFSET = 2;
export const META_GSO_SIZE = 3;

/** Bits of meta[i * META_STRIDE + META_FLAGS]. Same values as native/af_packet.cc. */
export const FrameFlag = {
  /**
   * RX: the kernel never computed the L4 checksum (CHECKSUM_PARTIAL: a local sender on veth, NEEDS_CSUM); the
   * checksum field holds only the pseudo-header sum. Treat the checksum as valid; csumStart/csumOffset say where.
   * TX: ask the kernel/device to fill the L4 checksum at csumStart + csumOffset (needs offload on).
   */
  CSUM_PARTIAL: 1,
  /** RX: the checksum was already verified (DATA_VALID / TP_STATUS_CSUM_VALID). */
  CSUM_VALID: 2,
  /**
   * RX: a GSO super-frame longer than the MTU; segment size in META_GSO_SIZE.
   * TX (device with txGsoMaxSize > 0): a super-frame for the kernel/device to segment into META_GSO_SIZE-byte
   * payloads. Needs CSUM_PARTIAL with csumStart/csumOffset (pseudo-header sum in the checksum field), as for
   * checksum offload; the IPv4 header is that of the first segment (total length of the whole super-frame, the
   * first id; the kernel fixes length, id and checksum per segment). TCP flags FIN/PSH go on the last segment
   * only, CWR on the first. At most txGsoMaxSize bytes (L2 included).
   */
  GSO_TCPV4: 4,
  GSO_TCPV6: 8,
  GSO_UDP: 16,
  /** RX/TX with GSO_TCPV4/V6: the super-frame carries ECN CE/CWR (VIRTIO_NET_HDR_GSO_ECN). */
  GSO_ECN: 32,
  /** RX: the packet was longer than the ring slot; only the first `length` bytes are here. */
  TRUNCATED: 64,
  /** RX: the 802.1Q tag arrived as metadata and was reinserted into the frame. */
  VLAN: 128,
} as const;

/**
 * A reusable RX destination. Two layouts:
 * - packed (`RxBatch.packed`): frames are copied back to back into `data`; the device writes `offsets`.
 * - slots (`RxBatch.slots`): the caller fills `offsets[i]` with the start of a `slotSize`-byte slot (e.g. a
 *   buffer pool's data areas) and sets `limit` to how many slots it provided; frames longer than a slot are
 *   dropped and counted by the device.
 * After `rxBatch`, frames 0..count-1 are valid.
 */
export class RxBatch {
  count = 0;
  /** Frames the device may write this call (<= capacity); slots mode: how many offsets the caller filled. */
  limit: number;

  private constructor(
    readonly data: Uint8Array,
    readonly offsets: Uint32Array,
    readonly lengths: Uint32Array,
    readonly meta: Uint16Array,
    readonly slotSize: number,
  ) {
    this.limit = offsets.length;
  }

  static packed(capacity: number, dataBytes: number = capacity * 2048): RxBatch {
    checkCount('capacity', capacity);
    checkCount('dataBytes', dataBytes);
    return new RxBatch(
      new Uint8Array(dataBytes),
      new Uint32Array(capacity),
      new Uint32Array(capacity),
      new Uint16Array(capacity * META_STRIDE),
      0,
    );
  }

  static slots(data: Uint8Array, slotSize: number, capacity: number): RxBatch {
    checkCount('capacity', capacity);
    checkCount('slotSize', slotSize);
    return new RxBatch(
      data,
      new Uint32Array(capacity),
      new Uint32Array(capacity),
      new Uint16Array(capacity * META_STRIDE),
      slotSize,
    );
  }

  get capacity(): number {
    return this.offsets.length;
  }

  flags(i: number): number {
    return this.meta[i * META_STRIDE + META_FLAGS]!;
  }
  csumStart(i: number): number {
    return this.meta[i * META_STRIDE + META_CSUM_START]!;
  }
  csumOffset(i: number): number {
    return this.meta[i * META_STRIDE + META_CSUM_OFFSET]!;
  }
  gsoSize(i: number): number {
    return this.meta[i * META_STRIDE + META_GSO_SIZE]!;
  }

  /** A view of frame i (allocates a view: for control paths and tests, not the data path). */
  frame(i: number): Uint8Array {
    const o = this.offsets[i]!;
    return this.data.subarray(o, o + this.lengths[i]!);
  }
}

/**
 * Frames to transmit: frame i is data[offsets[i] .. offsets[i] + lengths[i]). `meta` (optional, META_STRIDE per
 * frame) may request checksum offload with FrameFlag.CSUM_PARTIAL, and segmentation offload with
 * FrameFlag.GSO_TCPV4 (+ CSUM_PARTIAL) and META_GSO_SIZE = the MSS, when the device's txGsoMaxSize > 0.
 */
export interface TxBatch {
  data: Uint8Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
  count: number;
  meta?: Uint16Array;
}

export interface TxResult {
  /**
   * Frames taken from the front of the batch: queued to the device, or dropped because they can never be sent
   * (too long, empty, out of bounds; counted in stats). Frames at `accepted..count-1` were not taken.
   */
  accepted: number;
  /** The device's TX ring had no room for frame `accepted`: retry when it drains, or drop and count. */
  ringFull: boolean;
}

export interface LinkState {
  up: boolean;
  running: boolean;
}

export interface DeviceStats {
  rxFrames: number;
  rxBytes: number;
  /** Frames lost before reaching JS: kernel ring overruns, frames too big for the destination. */
  rxDropped: number;
  txFrames: number;
  txBytes: number;
  /** Frames taken by txBatch but never sent (too long, empty, kernel rejected). */
  txDropped: number;
  /** txBatch calls that stopped early because the ring was full. */
  txRingFull: number;
}

export interface PacketDevice {
  readonly name: string;
  readonly ifindex: number;
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** The pollable fd of the (first) RX queue; -1 for devices without one (MemoryDevice). */
  readonly fd: number;
  /** Largest frame txBatch sends without GSO flags (the link's MTU still applies on the wire). */
  readonly txMaxFrame: number;
  /**
   * Largest GSO super-frame (bytes, L2 included) txBatch accepts with FrameFlag.GSO_*; 0 when the device cannot
   * segment on TX (offload off). Longer frames, and GSO frames on a device with 0 here, are dropped and counted.
   */
  readonly txGsoMaxSize: number;
  /** Copies waiting frames into dst (up to dst.limit); returns and stores dst.count. Never blocks. */
  rxBatch(dst: RxBatch): number;
  txBatch(batch: TxBatch): TxResult;
  /**
   * Calls cb once per wake-up while frames are waiting (level-triggered: if cb leaves frames behind it is called
   * again on a later loop turn). null stops it. Polling mode does not use this: call rxBatch every loop turn.
   */
  onReadable(cb: (() => void) | null): void;
  linkState(): LinkState;
  setLinkUp(up: boolean): void;
  stats(): DeviceStats;
  close(): void;
}

function checkCount(what: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff) throw new RangeError(`${what} must be a positive integer, got ${n}`);
}

/** "aa:bb:cc:dd:ee:ff" */
export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}
