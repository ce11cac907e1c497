// A PacketDevice in plain TypeScript: frames injected by a test (or sent by a paired device) wait in a bounded
// RX queue; transmitted frames go to the peer and/or a bounded capture list. Lets graph tests run without root.
import {
  META_CSUM_OFFSET,
  META_CSUM_START,
  META_FLAGS,
  META_GSO_SIZE,
  META_STRIDE,
  FrameFlag,
  type DeviceStats,
  type LinkState,
  type PacketDevice,
  type RxBatch,
  type TxBatch,
  type TxResult,
} from './packet-device.js';

export interface FrameMeta {
  flags?: number;
  csumStart?: number;
  csumOffset?: number;
  gsoSize?: number;
}

export interface MemoryDeviceOptions {
  name: string;
  ifindex?: number;
  /** Default: a locally administered address derived from the ifindex. */
  mac?: Uint8Array;
  mtu?: number;
  /** Frames waiting for rxBatch; more are dropped and counted, like a full kernel ring. Default 4096. */
  rxQueueCapacity?: number;
  /** Transmitted frames kept for takeTransmitted(); 0 keeps none. Default 4096 (unpaired), 0 (paired). */
  captureLimit?: number;
  /** Largest frame txBatch sends without GSO flags. Default mtu + 18 (Ethernet header + one VLAN tag). */
  txMaxFrame?: number;
  /**
   * Largest GSO super-frame txBatch accepts (FrameFlag.GSO_* in meta), L2 included. Default 0: no TX GSO, GSO
   * frames are dropped and counted, as on an AF_PACKET device without offload. AfPacketDevice offers 65553.
   */
  txGsoMaxSize?: number;
}

/** A frame txBatch took, with the metadata it was sent with (see takeTransmittedFrames). */
export interface TransmittedFrame {
  bytes: Uint8Array;
  flags: number;
  csumStart: number;
  csumOffset: number;
  gsoSize: number;
}

interface QueuedFrame {
  bytes: Uint8Array;
  flags: number;
  csumStart: number;
  csumOffset: number;
  gsoSize: number;
}

let nextIfindex = 10_000;
const GSO_ANY = FrameFlag.GSO_TCPV4 | FrameFlag.GSO_TCPV6 | FrameFlag.GSO_UDP;
/** TX metadata flags a device acts on; anything else in meta is ignored. */
const TX_META_FLAGS = FrameFlag.CSUM_PARTIAL | GSO_ANY | FrameFlag.GSO_ECN;

export class MemoryDevice implements PacketDevice {
  readonly name: string;
  readonly ifindex: number;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly fd = -1;
  readonly txMaxFrame: number;
  readonly txGsoMaxSize: number;
  private peer: MemoryDevice | null = null;
  private readonly rxQueue: (QueuedFrame | undefined)[];
  private rxHead = 0;
  private rxCount = 0;
  private captureLimit: number;
  private captured: TransmittedFrame[] = [];
  private txBlocked = false;
  private link: LinkState = { up: true, running: true };
  private readable: (() => void) | null = null;
  private wakeScheduled = false;
  private closed = false;
  private readonly counters: DeviceStats & { captureDropped: number } = {
    rxFrames: 0,
    rxBytes: 0,
    rxDropped: 0,
    txFrames: 0,
    txBytes: 0,
    txDropped: 0,
    txRingFull: 0,
    captureDropped: 0,
  };

  constructor(options: MemoryDeviceOptions) {
    this.name = options.name;
    this.ifindex = options.ifindex ?? nextIfindex++;
    this.mac = options.mac ? Uint8Array.from(options.mac) : defaultMac(this.ifindex);
    if (this.mac.length !== 6) throw new RangeError(`mac must be 6 bytes, got ${this.mac.length}`);
    this.mtu = options.mtu ?? 1500;
    this.txMaxFrame = options.txMaxFrame ?? this.mtu + 18;
    this.txGsoMaxSize = options.txGsoMaxSize ?? 0;
    if (!Number.isInteger(this.txGsoMaxSize) || this.txGsoMaxSize < 0) throw new RangeError(`txGsoMaxSize ${this.txGsoMaxSize}`);
    const cap = options.rxQueueCapacity ?? 4096;
    if (!Number.isInteger(cap) || cap <= 0) throw new RangeError(`rxQueueCapacity ${cap}`);
    this.rxQueue = new Array<QueuedFrame | undefined>(cap);
    this.captureLimit = options.captureLimit ?? 4096;
  }

  /** Two devices wired back to back, like the ends of a veth pair. */
  static pair(a: MemoryDeviceOptions, b: MemoryDeviceOptions): [MemoryDevice, MemoryDevice] {
    const da = new MemoryDevice({ captureLimit: 0, ...a });
    const db = new MemoryDevice({ captureLimit: 0, ...b });
    da.peer = db;
    db.peer = da;
    return [da, db];
  }

  /** Frames waiting for rxBatch. */
  get pending(): number {
    return this.rxCount;
  }

  /**
   * Queues a copy of `frame` as if it arrived on the wire. Returns false (and counts a drop) when the link is
   * down or the RX queue is full.
   */
  inject(frame: Uint8Array, meta: FrameMeta = {}): boolean {
    if (this.closed || !this.link.up || !this.link.running || this.rxCount === this.rxQueue.length) {
      this.counters.rxDropped++;
      return false;
    }
    this.rxQueue[(this.rxHead + this.rxCount) % this.rxQueue.length] = {
      bytes: Uint8Array.from(frame),
      flags: meta.flags ?? 0,
      csumStart: meta.csumStart ?? 0,
      csumOffset: meta.csumOffset ?? 0,
      gsoSize: meta.gsoSize ?? 0,
    };
    this.rxCount++;
    this.scheduleWake();
    return true;
  }

  /** Returns and forgets the frames captured from txBatch, oldest first. */
  takeTransmitted(): Uint8Array[] {
    return this.takeTransmittedFrames().map((f) => f.bytes);
  }

  /** Like takeTransmitted, with each frame's TX metadata (flags, csumStart, csumOffset, gsoSize). */
  takeTransmittedFrames(): TransmittedFrame[] {
    const out = this.captured;
    this.captured = [];
    return out;
  }

  /** While blocked, txBatch takes nothing and reports ringFull (to test back-pressure). */
  setTxBlocked(blocked: boolean): void {
    this.txBlocked = blocked;
  }

  rxBatch(dst: RxBatch): number {
    const limit = Math.min(dst.limit, dst.capacity);
    let n = 0;
    let used = 0;
    while (n < limit && this.rxCount > 0) {
      const f = this.rxQueue[this.rxHead]!;
      const len = f.bytes.length;
      const room = dst.slotSize > 0 ? dst.slotSize : dst.data.length;
      if (len <= room) {
        let at: number;
        if (dst.slotSize > 0) {
          at = dst.offsets[n]!;
          if (at + dst.slotSize > dst.data.length) throw new RangeError(`rx: slot ${n} exceeds data`);
        } else {
          if (used + len > dst.data.length) break;  // arena full: the frame waits for the next call
          at = used;
          used += len;
        }
        dst.data.set(f.bytes, at);
        dst.offsets[n] = at;
        dst.lengths[n] = len;
        const m = n * META_STRIDE;
        dst.meta[m + META_FLAGS] = f.flags;
        dst.meta[m + META_CSUM_START] = f.csumStart;
        dst.meta[m + META_CSUM_OFFSET] = f.csumOffset;
        dst.meta[m + META_GSO_SIZE] = f.gsoSize;
        n++;
        this.counters.rxFrames++;
        this.counters.rxBytes += len;
      } else {
        this.counters.rxDropped++;  // could never fit this destination
      }
      this.rxQueue[this.rxHead] = undefined;
      this.rxHead = (this.rxHead + 1) % this.rxQueue.length;
      this.rxCount--;
    }
    dst.count = n;
    return n;
  }

  txBatch(batch: TxBatch): TxResult {
    const count = Math.min(batch.count, batch.offsets.length, batch.lengths.length);
    if (this.txBlocked && count > 0) {
      this.counters.txRingFull++;
      return { accepted: 0, ringFull: true };
    }
    const linkOk = this.link.up && this.link.running && !this.closed;
    const meta = batch.meta;
    for (let i = 0; i < count; i++) {
      const off = batch.offsets[i]!;
      const len = batch.lengths[i]!;
      const m = i * META_STRIDE;
      const flags = meta && m < meta.length ? meta[m + META_FLAGS]! & TX_META_FLAGS : 0;
      const gso = (flags & GSO_ANY) !== 0;
      const gsoSize = gso ? meta![m + META_GSO_SIZE]! : 0;
      const csumStart = flags & FrameFlag.CSUM_PARTIAL ? meta![m + META_CSUM_START]! : 0;
      const csumOffset = flags & FrameFlag.CSUM_PARTIAL ? meta![m + META_CSUM_OFFSET]! : 0;
      const malformedGso = gso && (!(flags & FrameFlag.CSUM_PARTIAL) || gsoSize === 0 || csumStart >= len);
      if (!linkOk || len === 0 || len > (gso ? this.txGsoMaxSize : this.txMaxFrame) || off + len > batch.data.length || malformedGso) {
        this.counters.txDropped++;
        continue;
      }
      const bytes = batch.data.slice(off, off + len);
      this.counters.txFrames++;
      this.counters.txBytes += len;
      // Checksum and segmentation requests reach the peer as CHECKSUM_PARTIAL / GSO metadata, as over veth.
      const frame: TransmittedFrame = { bytes, flags, csumStart, csumOffset, gsoSize };
      if (this.peer) this.peer.inject(bytes, frame);
      if (this.captured.length < this.captureLimit) this.captured.push(frame);
      else if (this.captureLimit > 0) this.counters.captureDropped++;
    }
    return { accepted: count, ringFull: false };
  }

  onReadable(cb: (() => void) | null): void {
    this.readable = this.closed ? null : cb;
    this.scheduleWake();
  }

  linkState(): LinkState {
    return { ...this.link };
  }

  setLinkUp(up: boolean): void {
    this.link = { up, running: up };
  }

  stats(): DeviceStats & { captureDropped: number } {
    return { ...this.counters };
  }

  close(): void {
    this.closed = true;
    this.readable = null;
    if (this.peer) {
      this.peer.peer = null;
      this.peer = null;
    }
  }

  // Level-triggered like uv_poll: one callback per loop turn while frames wait.
  private scheduleWake(): void {
    if (this.wakeScheduled || !this.readable || this.rxCount === 0) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      if (!this.readable || this.rxCount === 0) return;
      this.readable();
      this.scheduleWake();
    });
  }
}

function defaultMac(ifindex: number): Uint8Array {
  return Uint8Array.of(0x02, 0x00, (ifindex >>> 24) & 0xff, (ifindex >>> 16) & 0xff, (ifindex >>> 8) & 0xff, ifindex & 0xff);
}
