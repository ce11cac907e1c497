// The worker's ring pump with a real RingTable and a scripted stream that follows tor-spec's stream
// windows: a slow dataplane withholds SENDMEs, EOF/reset/END propagate, uploads obey package windows.
import { describe, expect, it } from 'vitest';
import { RingTable } from '../../../../src/backend/ring-table.js';
import { RingStreamPump, OVERFLOW_CAPACITY } from '../../../../src/tor/worker/ring-stream-pump.js';
import type { Stream } from '../../../../src/tor/proto/stream.js';

const CELL = 498;
const flush = () => new Promise<void>((r) => setImmediate(r));

class ScriptedStream {
  state: 'open' | 'closed' = 'open';
  deliverWindow = 500;
  packageWindow = 500;
  sendmes = 0;
  sent: Uint8Array[] = [];
  endedWith: number | undefined;
  constructor(private readonly freeSpace: () => number) {}
  get writableBytes(): number {
    return this.state === 'open' ? this.packageWindow * CELL : 0;
  }
  write(d: Uint8Array): number {
    let off = 0;
    while (off < d.length && this.packageWindow > 0) {
      const n = Math.min(CELL, d.length - off);
      this.sent.push(d.slice(off, off + n));
      off += n;
      this.packageWindow--;
    }
    return off;
  }
  onEnd: ((reason: number) => void) | undefined;
  end(reason: number): void {
    this.state = 'closed';
    this.endedWith = reason;
    this.onEnd?.(reason); // the real Stream reports its own END as an 'end' event
  }
  notifyConsumed(): void {
    while (this.deliverWindow <= 450 && this.freeSpace() >= (this.deliverWindow + 50) * CELL) {
      this.deliverWindow += 50;
      this.sendmes++;
    }
  }
}

function setup(capacity = 64 * 1024) {
  const table = RingTable.create({ slots: 4, capacity });
  const slot = table.alloc()!;
  const done: number[] = [];
  const pump = new RingStreamPump(table.endpoint(slot, 'backend'), (r) => done.push(r), () => 0);
  const stream = new ScriptedStream(() => pump.freeSpace());
  stream.onEnd = (reason) => pump.onEvent({ type: 'end', reason, remote: false, error: null });
  const dp = table.endpoint(slot, 'dataplane');
  /** The exit sends as many cells as its window allows (up to `max`), counting bytes. */
  let seq = 0;
  const exitSends = (max = Infinity): number => {
    let n = 0;
    while (stream.deliverWindow > 0 && n < max) {
      const cell = new Uint8Array(CELL).map((_, i) => (seq + i) & 0xff);
      seq += CELL;
      stream.deliverWindow--;
      pump.onEvent({ type: 'data', data: cell });
      stream.notifyConsumed();
      n++;
    }
    return n;
  };
  return { table, slot, pump, stream, dp, done, exitSends, attach: () => pump.attach(stream as unknown as Stream) };
}

describe('RingStreamPump', () => {
  it('withholds stream SENDMEs while the dataplane does not read, and sends them as it does', async () => {
    const t = setup();
    t.attach();
    const first = t.exitSends();
    await flush(); // queued cells reach the ring once the batch is processed
    // SENDMEs go out only while ring + overflow can hold a further window, so the exit stops with at
    // most ring + overflow bytes buffered here.
    expect(first * CELL).toBeLessThanOrEqual(64 * 1024 + OVERFLOW_CAPACITY);
    expect(first).toBeGreaterThanOrEqual(500);
    const credits = t.stream.sendmes;
    expect(t.exitSends()).toBe(0);
    expect(t.stream.sendmes).toBe(credits);
    expect(t.dp.readable()).toBe(64 * 1024);
    // The dataplane drains the ring; the backend doorbell is rung for this slot, the pump services it.
    let total = 0;
    let expected = 0;
    const buf = new Uint8Array(16 * 1024);
    let ok = true;
    for (let round = 0; round < 400 && total < 2_000_000; round++) {
      let n: number;
      while ((n = t.dp.read(buf)) > 0) {
        for (let i = 0; i < n; i++) if (buf[i] !== ((expected + i) & 0xff) && ok) ok = false;
        expected += n;
        total += n;
      }
      if (t.table.doorbell('backend').takeReady().includes(t.slot)) t.pump.service();
      t.exitSends();
      await flush();
    }
    expect(ok).toBe(true);
    expect(total).toBeGreaterThan(1_000_000);
    expect(t.stream.sendmes).toBeGreaterThan(10);
  });

  it('turns END DONE into ring EOF after the overflow drained, then releases the slot', async () => {
    const t = setup();
    t.attach();
    t.exitSends(300);
    await flush();
    t.pump.onEvent({ type: 'end', reason: 6, remote: true, error: null });
    expect(t.done).toEqual([]);
    expect(t.dp.readEnded).toBe(false);
    const buf = new Uint8Array(1 << 20);
    let got = t.dp.read(buf);
    t.pump.service();
    got += t.dp.read(buf.subarray(got));
    t.pump.service();
    got += t.dp.read(buf.subarray(got));
    expect(got).toBe(300 * CELL);
    expect(t.dp.readEnded).toBe(true);
    expect(t.done).toEqual([6]);
    expect(t.dp.release()).toBe(true); // backend already released: the slot is free now
  });

  it('writes the cells of one batch to the ring with one write (one doorbell ring at most)', async () => {
    const t = setup();
    t.attach();
    t.dp.armRead(); // the dataplane is waiting for data
    t.exitSends(40);
    expect(t.dp.readable()).toBe(0);
    await flush();
    expect(t.dp.readable()).toBe(40 * CELL);
    expect(t.table.doorbell('dataplane').takeReady()).toEqual([t.slot]);
  });

  it('resets the ring on END with another reason or a dead circuit', () => {
    const t = setup();
    t.attach();
    t.exitSends(3);
    t.pump.onEvent({ type: 'end', reason: 5, remote: false, error: null });
    expect(t.dp.isReset).toBe(true);
    expect(t.done).toEqual([5]);
  });

  it('ends the Tor stream when the dataplane resets the ring', () => {
    const t = setup();
    t.attach();
    t.dp.reset();
    t.pump.service();
    expect(t.stream.endedWith).toBe(6);
    expect(t.done).toEqual([12]);
  });

  it('moves uploads only as fast as the package window allows; client EOF then ends the stream (END DONE), as C tor does', () => {
    const t = setup();
    t.stream.packageWindow = 4;
    t.attach();
    t.dp.write(new Uint8Array(10_000).fill(7));
    t.dp.shutdownWrite();
    t.pump.service();
    expect(t.stream.sent.reduce((a, b) => a + b.length, 0)).toBe(4 * CELL);
    t.stream.packageWindow = 500;
    t.pump.onEvent({ type: 'writable' });
    expect(t.stream.sent.reduce((a, b) => a + b.length, 0)).toBe(10_000);
    t.pump.service();
    // Every byte went out before the END.
    expect(t.stream.endedWith).toBe(6);
    // Our own END comes back as the stream's end: an orderly finish, EOF toward the client.
    t.pump.onEvent({ type: 'end', reason: 6, remote: false, error: null });
    expect(t.done).toEqual([6]);
    expect(t.dp.isReset).toBe(false);
    expect(t.dp.readEnded).toBe(true);
  });

  it('reports an end that arrives before attach only after attach', () => {
    const t = setup();
    t.pump.onEvent({ type: 'end', reason: 5, remote: false, error: null });
    expect(t.done).toEqual([]);
    t.attach();
    expect(t.done).toEqual([5]);
  });

  it('after cancel() (open given up, slot released) never touches the ring again', () => {
    const t = setup();
    t.pump.cancel();
    t.pump.onEvent({ type: 'data', data: new Uint8Array(100) });
    t.pump.onEvent({ type: 'end', reason: 6, remote: false, error: null });
    expect(t.dp.readable()).toBe(0);
    expect(t.dp.isReset).toBe(false);
    expect(t.done).toEqual([]);
    expect(t.pump.freeSpace()).toBe(0);
  });

  it('an abort from the dataplane side reports its own reason once', () => {
    const t = setup();
    t.attach();
    t.pump.abort(1);
    expect(t.done).toEqual([1]);
    expect(t.stream.endedWith).toBe(6);
    expect(t.dp.isReset).toBe(true);
  });
});
