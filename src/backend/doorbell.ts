// A doorbell: how one thread tells another "these stream slots need you", without a message per chunk.
//
// Shared words: PARKED (the owner is asleep or about to be), SEQ (bumped on every ring while parked, the
// value Atomics.waitAsync watches) and a bitmap of ready slots. The ringer sets the slot's bit and only
// when the owner is parked does it bump SEQ, Atomics.notify, and call an optional hook (for the main
// thread: an eventfd write, so the wakeup arrives through libuv like any other fd).
//
// Owner protocol: `prepareToPark()` (returns false if bits are already set), then sleep; on wake
// `takeReady()` returns and clears the ready slots.

/** Int32 words used by a doorbell for `slots` slots. */
export function doorbellWords(slots: number): number {
  return 2 + Math.ceil(slots / 32);
}

const W_PARKED = 0;
const W_SEQ = 1;
const W_BITS = 2;

interface WaitAsyncResult {
  async: boolean;
  value: Promise<'ok' | 'timed-out'> | 'not-equal' | 'timed-out' | 'ok';
}
type WaitAsyncFn = (ta: Int32Array, index: number, value: number, timeout?: number) => WaitAsyncResult;
const noop = () => {};
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsyncFn }).waitAsync;

export class Doorbell {
  private readonly words: Int32Array;
  private readonly bitWords: number;
  /** Called (in the ringing thread) when the owner was parked; e.g. () => eventfdSignal(fd). */
  private hook: (() => void) | undefined;

  constructor(words: Int32Array, readonly slots: number) {
    if (words.length < doorbellWords(slots)) throw new RangeError('doorbell words too short');
    this.words = words;
    this.bitWords = Math.ceil(slots / 32);
  }

  setWakeHook(hook: (() => void) | undefined): void {
    this.hook = hook;
  }

  /** Mark `slot` ready; wake the owner if it is parked. Returns true when a wakeup was sent. */
  ring(slot: number): boolean {
    const bit = 1 << (slot & 31);
    const prev = Atomics.or(this.words, W_BITS + (slot >>> 5), bit);
    if ((prev & bit) !== 0) return false; // already pending: the owner will see it
    if (Atomics.load(this.words, W_PARKED) === 0) return false;
    if (Atomics.exchange(this.words, W_PARKED, 0) === 0) return false; // another ringer woke it
    Atomics.add(this.words, W_SEQ, 1);
    Atomics.notify(this.words, W_SEQ);
    this.hook?.();
    return true;
  }

  /** Slots rung since the last call; clears them. */
  takeReady(): number[] {
    const out: number[] = [];
    for (let w = 0; w < this.bitWords; w++) {
      if (Atomics.load(this.words, W_BITS + w) === 0) continue;
      let bits = Atomics.exchange(this.words, W_BITS + w, 0) >>> 0;
      while (bits !== 0) {
        const low = bits & -bits;
        out.push(w * 32 + (31 - Math.clz32(low)));
        bits = (bits ^ low) >>> 0;
      }
    }
    return out;
  }

  hasReady(): boolean {
    for (let w = 0; w < this.bitWords; w++) if (Atomics.load(this.words, W_BITS + w) !== 0) return true;
    return false;
  }

  /**
   * Announce that the owner is about to sleep. Returns false (and stays awake) when slots are already
   * ready; otherwise the next ring() will wake it (via notify and the hook).
   */
  prepareToPark(): boolean {
    Atomics.store(this.words, W_PARKED, 1);
    if (this.hasReady()) {
      Atomics.store(this.words, W_PARKED, 0);
      return false;
    }
    return true;
  }

  /** The owner woke for another reason and is polling its slots: no wakeup needed. */
  unpark(): void {
    Atomics.store(this.words, W_PARKED, 0);
  }

  /**
   * Sleep without blocking the thread until rung (or `timeoutMs`); resolves with the ready slots.
   * Uses Atomics.waitAsync, so it suits workers and the main thread alike. A pending waitAsync does not
   * keep a thread's event loop alive, so by default a timer handle does while parked (one per sleep,
   * not per chunk); pass keepAlive=false when something else (a socket, a port listener) already does.
   */
  async wait(timeoutMs?: number, keepAlive = true): Promise<number[]> {
    const seq = Atomics.load(this.words, W_SEQ);
    if (this.prepareToPark()) {
      const r = waitAsync(this.words, W_SEQ, seq, timeoutMs);
      if (r.async) {
        const hold = keepAlive ? setTimeout(noop, timeoutMs ?? 0x7fffffff) : undefined;
        try {
          await r.value;
        } finally {
          if (hold) clearTimeout(hold);
        }
      }
      this.unpark();
    }
    return this.takeReady();
  }
}
