// The TCP engine's graph nodes: tcp4-input hands segments to the stack (buffers arrive with current
// at the IPv4 header, from ip4-local), tcp-timer runs the stack's timers and applies application
// requests. The engine's counters appear in `show errors` under tcp4-input.

import { jumboFramesOf, type JumboLocation } from '../net/nodes/af-packet-jumbo.js';
import { TCP_COUNTER_DESCS, TcpCounter } from '../net/tcp/counters.js';
import { TcpInputFlag } from '../net/tcp/stack.js';
import { BufferFlag, type BufferPool } from '../runtime/buffer-pool.js';
import type { InternalNodeDesc, ProcessNodeDesc } from '../runtime/node.js';
import type { NodeRuntime } from '../runtime/node-runtime.js';
import type { SessionMain } from './session-main.js';

export const TCP4_INPUT = 'tcp4-input';
export const TCP_TIMER = 'tcp-timer';

/** Copies the stack's counter increments into the graph's error counters. */
class CounterSync {
  private readonly last: Float64Array;
  constructor(private readonly counters: Float64Array) {
    this.last = new Float64Array(counters.length);
  }
  sync(node: NodeRuntime): void {
    const c = this.counters;
    for (let i = 0; i < c.length; i++) {
      const d = c[i]! - this.last[i]!;
      if (d !== 0) {
        node.countError(i, d);
        this.last[i] = c[i]!;
      }
    }
  }
}

interface TcpInputTrace {
  readonly src: number;
  readonly dst: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly flags: number;
  readonly len: number;
}

function formatFlags(f: number): string {
  const names = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'];
  return names.filter((_, i) => f & (1 << i)).join(',') || 'none';
}

const ip = (a: number): string => `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;

/** The node that forwards stack counters to the graph, shared by input and timer nodes. */
export function tcpNodes(sm: SessionMain): { input: InternalNodeDesc; timer: ProcessNodeDesc } {
  const sync = new CounterSync(sm.stack.counters);
  let inputNode: NodeRuntime | undefined;
  const stack = sm.stack;
  const jumboLoc: JumboLocation = { data: new Uint8Array(0), frameStart: 0 };
  // The device vouches for checksums of frames the host generated (vnet header), and our own segments that
  // loop back through ip4-local carry only the pseudo-header sum for the device to complete.
  const CHECKSUM_DONE = BufferFlag.L4_CHECKSUM_OK | BufferFlag.TX_L4_CSUM_OFFLOAD;
  /** Feeds one vector of segments to the stack without flushing. */
  const inputVector = (pool: BufferPool, vector: Uint32Array, count: number, now: number, node: NodeRuntime): void => {
    const arena = pool.arena;
    const jumbo = jumboFramesOf(pool);
    for (let i = 0; i < count; i++) {
      const bi = vector[i]!;
      const off = pool.current[bi]!;
      const ihl = (arena[off]! & 0x0f) * 4;
      const total = (arena[off + 2]! << 8) | arena[off + 3]!;
      const src = ((arena[off + 12]! << 24) | (arena[off + 13]! << 16) | (arena[off + 14]! << 8) | arena[off + 15]!) >>> 0;
      const dst = ((arena[off + 16]! << 24) | (arena[off + 17]! << 16) | (arena[off + 18]! << 8) | arena[off + 19]!) >>> 0;
      const len = total - ihl;
      const bflags = pool.flags[bi]!;
      // A GSO super-frame: the segment's bytes are in af-packet-input's staging area.
      let b = arena;
      let l4 = off + ihl;
      if (bflags & BufferFlag.JUMBO) {
        if (!jumbo.resolve(bi, jumboLoc)) {
          stack.counters[TcpCounter.JumboStale]++;
          pool.free(bi);
          continue;
        }
        b = jumboLoc.data;
        l4 = jumboLoc.frameStart + (off - pool.dataStart(bi)) + ihl;
      }
      if (node.isTraced(bi)) {
        const dataOff = (b[l4 + 12]! >> 4) * 4;
        node.addTrace(bi, {
          src,
          dst,
          srcPort: (b[l4]! << 8) | b[l4 + 1]!,
          dstPort: (b[l4 + 2]! << 8) | b[l4 + 3]!,
          flags: b[l4 + 13]!,
          len: Math.max(0, len - dataOff),
        } satisfies TcpInputTrace);
      }
      const f = TcpInputFlag.NO_FLUSH | (bflags & CHECKSUM_DONE ? TcpInputFlag.CHECKSUM_OK : 0);
      stack.input(src, dst, b, l4, len, now, f);
      pool.free(bi);
    }
  };
  const input: InternalNodeDesc = {
    name: TCP4_INPUT,
    type: 'internal',
    errors: TCP_COUNTER_DESCS,
    formatTrace: (r) => {
      const t = r as TcpInputTrace;
      return `TCP ${ip(t.src)}:${t.srcPort} -> ${ip(t.dst)}:${t.dstPort} flags ${formatFlags(t.flags)} payload ${t.len}`;
    },
    fn: (node, vector, count) => {
      inputNode = node;
      const pool = node.buffers;
      const now = performance.now();
      sm.inStack = true;
      try {
        inputVector(pool, vector, count, now, node);
        // One flush per vector: ACKs, window updates and new data for every connection the vector touched.
        stack.flush(now);
      } finally {
        sm.inStack = false;
      }
      sync.sync(node);
      // New timers may be due earlier than the timer node's current sleep.
      if (stack.pollAt() <= now + 1) sm.kick();
      else sm.reschedule(stack.pollAt());
    },
  };
  const timer: ProcessNodeDesc = {
    name: TCP_TIMER,
    type: 'process',
    fn: (_node, now) => {
      sm.kickHandled();
      sm.inStack = true;
      try {
        stack.poll(now);
      } finally {
        sm.inStack = false;
      }
      if (inputNode) sync.sync(inputNode);
      const next = Math.min(stack.pollAt(), sm.maybeSweep(now));
      return sm.scheduled(next === Infinity ? undefined : Math.max(1, next - now), now);
    },
  };
  return { input, timer };
}
