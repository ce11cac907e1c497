// Control messages between the dataplane and a backend worker (open, abort, connected, closed, …) go
// through two SPSC byte rings in their own SharedArrayBuffer, one per direction, encoded by
// control-codec.ts: no structured clone and no port event per message, and everything sent while the
// receiver is busy is read in one pass when it gets to it. Each side sleeps on its own doorbell, which
// the other rings after writing (a set bit makes further rings nearly free until the owner wakes).
//
// A full ring keeps later messages, in order, in a backlog on the sending side (bounded in practice by
// the streams: each sends a handful of control messages in its life) until the reader frees space and
// rings back.

import { ByteRing } from './ring.js';
import { Doorbell, doorbellWords } from './doorbell.js';
import { ControlReader, ControlWriter, FRAME_HEADER } from './control-codec.js';
import type { Side } from './ring-table.js';

/** Bytes per control ring: thousands of messages. */
export const CONTROL_RING_CAPACITY = 256 * 1024;
const BELL_BYTES = 64;
const BELL_OFFSET: Record<Side, number> = { dataplane: 0, backend: BELL_BYTES };
const RING_OFFSET: Record<Side, number> = {
  // The ring each side READS from.
  backend: 2 * BELL_BYTES,
  dataplane: 2 * BELL_BYTES + ByteRing.bytesFor(CONTROL_RING_CAPACITY),
};
const TOTAL_BYTES = 2 * BELL_BYTES + 2 * ByteRing.bytesFor(CONTROL_RING_CAPACITY);

export function createControlBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(TOTAL_BYTES);
}

export class ControlChannel<Out, In> {
  private readonly rx: ByteRing;
  private readonly tx: ByteRing;
  private readonly bell: Doorbell;
  private readonly peerBell: Doorbell;
  private readonly writer = new ControlWriter();
  private readonly reader = new ControlReader();
  private readonly header = new Uint8Array(FRAME_HEADER);
  /** Frames that did not fit the ring yet, oldest first. */
  private backlog: Uint8Array[] = [];
  private stopped = false;

  constructor(
    sab: SharedArrayBuffer,
    side: Side,
    private readonly encode: (w: ControlWriter, m: Out) => Uint8Array,
    private readonly decode: (r: ControlReader) => In,
  ) {
    if (sab.byteLength < TOTAL_BYTES) throw new RangeError('control buffer too short');
    const peer: Side = side === 'dataplane' ? 'backend' : 'dataplane';
    const bell = (s: Side) => new Doorbell(new Int32Array(sab, BELL_OFFSET[s], doorbellWords(1)), 1);
    this.bell = bell(side);
    this.peerBell = bell(peer);
    this.rx = new ByteRing(sab, RING_OFFSET[side], CONTROL_RING_CAPACITY);
    this.tx = new ByteRing(sab, RING_OFFSET[peer], CONTROL_RING_CAPACITY);
  }

  /** Queue one message for the other side and wake it if it sleeps. */
  send(m: Out): void {
    const frame = this.encode(this.writer, m);
    if (this.backlog.length === 0 && this.tx.free() >= frame.length) {
      this.tx.write(frame);
      this.peerBell.ring(0);
    } else {
      this.backlog.push(frame.slice());
      this.flushBacklog();
    }
  }

  /** Frames received that did not decode (skipped). */
  decodeErrors = 0;

  /** Messages waiting in the backlog (the ring was full). */
  get backlogged(): number {
    return this.backlog.length;
  }

  private flushBacklog(): void {
    let i = 0;
    for (;;) {
      while (i < this.backlog.length && this.tx.free() >= this.backlog[i]!.length) this.tx.write(this.backlog[i++]!);
      if (i === this.backlog.length) break;
      // Still full: ask the reader to ring us when it frees space, unless it freed enough meanwhile.
      this.tx.armSpaceWakeup();
      if (this.tx.free() < this.backlog[i]!.length) break;
    }
    if (i > 0) {
      this.backlog = this.backlog.slice(i);
      this.peerBell.ring(0);
    }
  }

  /** Hands every complete message that has arrived to `handle`; returns how many. */
  drain(handle: (m: In) => void): number {
    let n = 0;
    for (;;) {
      if (this.rx.peek(this.header) < FRAME_HEADER) break;
      const len = (this.header[0]! << 8) | this.header[1]!;
      if (this.rx.used() < FRAME_HEADER + len) break; // cannot happen: frames are written whole
      this.rx.skip(FRAME_HEADER);
      this.reader.load(this.rx.read(this.reader.bytes.subarray(0, len)));
      n++;
      let m: In;
      try {
        m = this.decode(this.reader);
      } catch {
        // A frame this side cannot parse (both sides are built from one source tree): count and skip it.
        this.decodeErrors++;
        continue;
      }
      handle(m);
    }
    if (this.rx.takeSpaceWakeup()) this.peerBell.ring(0);
    return n;
  }

  /**
   * Serves the channel until `stop()`: drains arrivals, retries the backlog, sleeps on the doorbell.
   * The sleep holds no handle open (the owner's thread stays alive for other reasons).
   */
  async run(handle: (m: In) => void): Promise<void> {
    while (!this.stopped) {
      this.drain(handle);
      if (this.backlog.length > 0) this.flushBacklog();
      if (this.stopped) break;
      await this.bell.wait(undefined, false);
    }
  }

  stop(): void {
    this.stopped = true;
    this.bell.ring(0);
  }
}
