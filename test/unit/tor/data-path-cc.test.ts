// The worker's ring pump on a congestion-controlled circuit: a real RingTable, RingStreamPump and
// proto Stream behind a scripted ntor v3 relay chain. A dataplane that stops reading makes the stream
// send XOFF; cells the exit still had in flight queue in the pump's overflow (bounded); reading
// drains it and XON goes out; an exit that ignores XOFF past the hard limit gets the stream aborted.
import { describe, expect, it } from 'vitest';
import { RingTable } from '../../../src/backend/ring-table.js';
import { RingStreamPump, OVERFLOW_CAPACITY, CC_OVERFLOW_LIMIT } from '../../../src/tor/worker/ring-stream-pump.js';
import {
  RelayCmd, EndReason, encodeConnectedBody, RELAY_DATA_MAX,
} from '../../../src/tor/cell/index.js';
import { FIXTURE_NOW } from './support/fake-relay.js';
import { ccCircuit } from './support/cc-circuit.js';

const now = FIXTURE_NOW;
const flush = () => new Promise<void>((r) => setImmediate(r));

function ccStreamThroughPump(ringCapacity = 256 * 1024) {
  const { ch, relay, circ } = ccCircuit({ inc: 31 });
  expect(circ.ccOf(1)).not.toBeNull();

  const table = RingTable.create({ slots: 4, capacity: ringCapacity });
  const slot = table.alloc()!;
  const done: number[] = [];
  const pump = new RingStreamPump(table.endpoint(slot, 'backend'), (r) => done.push(r), () => now);
  const s = circ.beginStream('127.0.0.1', 80, { freeSpace: () => pump.freeSpace() }, now);
  if (!s.ok) throw new Error(s.error.message);
  const stream = s.value;
  stream.onEvent = (e) => pump.onEvent(e);
  relay.relayMessages();
  ch.receive(relay.relayCell(RelayCmd.CONNECTED, stream.id, encodeConnectedBody({ addr: null })).bytes, now);
  pump.attach(stream);
  const dp = table.endpoint(slot, 'dataplane');
  let seq = 0;
  /** The exit sends `n` DATA cells (one channel read each), counting bytes in a running pattern. */
  const exitSends = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const data = new Uint8Array(RELAY_DATA_MAX).map((_, k) => (seq + k) & 0xff);
      seq += RELAY_DATA_MAX;
      ch.receive(relay.relayCell(RelayCmd.DATA, stream.id, data).bytes, now);
    }
  };
  const sentCommands = () => relay.relayMessages().map((m) => m.msg.command);
  return { ch, relay, circ, stream, pump, table, slot, dp, done, exitSends, sentCommands };
}

describe('ring pump with congestion control (XON/XOFF)', () => {
  it('a stalled dataplane gets XOFF sent once the ring and overflow are half full; memory stays bounded; reading sends XON', async () => {
    const t = ccStreamThroughPump();
    // Capacity at open: ring 256 KiB + overflow 256 KiB. The exit sends until our XOFF reaches it.
    let cells = 0;
    let cmds: number[] = [];
    while (!cmds.includes(RelayCmd.XOFF) && cells < 5000) {
      t.exitSends(1);
      cells++;
      await flush();
      cmds = t.sentCommands();
    }
    expect(cmds.includes(RelayCmd.XOFF)).toBe(true);
    const atXoff = cells * RELAY_DATA_MAX;
    expect(atXoff).toBeGreaterThan((256 * 1024 + OVERFLOW_CAPACITY) / 2 - RELAY_DATA_MAX);
    expect(atXoff).toBeLessThanOrEqual((256 * 1024 + OVERFLOW_CAPACITY) / 2 + RELAY_DATA_MAX);
    // What the exit had in flight (a full cwnd of 124 cells) still lands; no more XOFFs, nothing lost.
    t.exitSends(124);
    await flush();
    expect(t.sentCommands().filter((c) => c === RelayCmd.XOFF)).toEqual([]);
    expect(t.stream.flowCounters.xoffSent).toBe(1);
    expect(t.dp.readable()).toBe(256 * 1024);
    expect(t.pump.overflowPeak).toBeLessThanOrEqual((cells + 124) * RELAY_DATA_MAX - 256 * 1024);
    expect(t.pump.overflowPeak).toBeLessThan(CC_OVERFLOW_LIMIT);
    // The dataplane reads everything: the overflow drains through the ring and XON goes out.
    const buf = new Uint8Array(64 * 1024);
    let total = 0;
    let ok = true;
    for (let round = 0; round < 100 && total < (cells + 124) * RELAY_DATA_MAX; round++) {
      let n: number;
      while ((n = t.dp.read(buf)) > 0) {
        for (let i = 0; i < n; i++) if (buf[i] !== ((total + i) & 0xff)) ok = false;
        total += n;
      }
      if (t.table.doorbell('backend').takeReady().includes(t.slot)) t.pump.service();
      await flush();
    }
    expect(ok).toBe(true);
    expect(total).toBe((cells + 124) * RELAY_DATA_MAX);
    expect(t.sentCommands()).toContain(RelayCmd.XON);
    expect(t.stream.flowCounters.xonSent).toBe(1);
    expect(t.stream.stoppedExit).toBe(false);
    // No stream SENDMEs on a CC circuit; circuit SENDMEs every 31 cells went out along the way.
    expect(t.circ.counters.sendmesOut).toBe(Math.floor((cells + 124) / 31));
  });

  it('an exit that ignores XOFF is cut off at the hard overflow limit (END RESOURCELIMIT), never unbounded', async () => {
    const t = ccStreamThroughPump(64 * 1024);
    const limitCells = Math.ceil((CC_OVERFLOW_LIMIT + 64 * 1024) / RELAY_DATA_MAX) + 2;
    for (let i = 0; i < limitCells && t.stream.state === 'open'; i += 100) {
      t.exitSends(100);
      await flush();
    }
    expect(t.stream.state).toBe('closed');
    expect(t.pump.overflowPeak).toBeLessThanOrEqual(CC_OVERFLOW_LIMIT + RELAY_DATA_MAX * 100);
    expect(t.done).toEqual([EndReason.RESOURCELIMIT]);
    expect(t.dp.isReset).toBe(true);
  });
});
