// GSO super-frames received from af_packet (a veth peer whose TCP uses TSO sends TCP segments of up to
// 64 KiB). They do not fit a pool buffer, so af-packet-input keeps the whole frame in its per-interface
// staging area and hands the graph a pool buffer holding the frame's first bytes (all the headers) with
// `BufferFlag.JUMBO` and the full length. L2/L3 nodes only read headers; tcp4-input takes the
// payload from here, so one super-frame is one large TCP segment (like the kernel's GRO).
//
// Each interface has two staging areas used in turn, so a frame's bytes survive the interface's next rx call
// (the graph normally dispatches a call's frames before the next one anyway); a generation number guards
// against a stale reference all the same: such a frame resolves to nothing and tcp4-input drops it
// (`jumbo-stale`).

import type { BufferPool } from '../../runtime/buffer-pool.js';

/** Where one jumbo frame's bytes are: `data[frameStart + (current - dataStart)]` is the byte at `current`. */
export interface JumboLocation {
  data: Uint8Array;
  frameStart: number;
}

export class JumboFrames {
  private readonly staging: Uint8Array[] = [];
  private readonly generation: number[] = [];
  /** Per buffer: staging index + 1 (0: none), the staging generation, and the frame's offset there. */
  private readonly stagingOf: Uint32Array;
  private readonly genOf: Uint32Array;
  private readonly offsetOf: Uint32Array;
  /** Frames whose staging bytes were overwritten before they were consumed. */
  stale = 0;

  constructor(capacity: number) {
    this.stagingOf = new Uint32Array(capacity);
    this.genOf = new Uint32Array(capacity);
    this.offsetOf = new Uint32Array(capacity);
  }

  /** Registers a staging area; returns its id. */
  addStaging(data: Uint8Array): number {
    this.staging.push(data);
    this.generation.push(0);
    return this.staging.length - 1;
  }

  /** The staging area `id` is about to be refilled: references into it become stale. */
  refill(id: number): void {
    this.generation[id] = (this.generation[id]! + 1) >>> 0;
  }

  /** Buffer `bi` carries the frame at staging `id`, offset `frameStart`. */
  attach(bi: number, id: number, frameStart: number): void {
    this.stagingOf[bi] = id + 1;
    this.genOf[bi] = this.generation[id]!;
    this.offsetOf[bi] = frameStart;
  }

  /** Fills `out` with the frame's location; false when the bytes are gone (stale) or `bi` has none. */
  resolve(bi: number, out: JumboLocation): boolean {
    const id = this.stagingOf[bi]! - 1;
    if (id < 0 || this.generation[id] !== this.genOf[bi]) {
      this.stale++;
      return false;
    }
    out.data = this.staging[id]!;
    out.frameStart = this.offsetOf[bi]!;
    return true;
  }
}

const byPool = new WeakMap<BufferPool, JumboFrames>();

/** The jumbo-frame table of a buffer pool (one per graph). */
export function jumboFramesOf(pool: BufferPool): JumboFrames {
  let j = byPool.get(pool);
  if (!j) {
    j = new JumboFrames(pool.capacity);
    byPool.set(pool, j);
  }
  return j;
}
