// The packet graph and its dispatcher on Node's event loop.
// A turn runs input nodes (polling ones always, interrupt ones when signalled), then every pending
// frame in FIFO order, then process nodes whose timer is due. Turns are scheduled with setImmediate
// while there is work and with a timer for the next process wake-up otherwise: no busy loop unless
// some input node polls.

import { BufferPool, NONE } from './buffer-pool.js';
import { ErrorCounters } from './error-counters.js';
import type { NodeDesc } from './node.js';
import { NodeRuntime } from './node-runtime.js';
import { TraceStore } from './trace.js';

export const FRAME_SIZE = 256;
/** Frames dispatched per turn before yielding to the event loop (keeps the CLI and I/O responsive). */
const MAX_FRAMES_PER_TURN = 4096;

class Frame {
  readonly vector = new Uint32Array(FRAME_SIZE);
  count = 0;
  node = 0;
}

export interface RuntimeStatsSnapshot {
  calls: number;
  vectors: number;
  suspends: number;
  clocksNs: number;
}

export class Graph {
  readonly buffers: BufferPool;
  readonly errors = new ErrorCounters();
  readonly trace = new TraceStore();
  readonly nodes: NodeRuntime[] = [];
  private readonly byName = new Map<string, number>();
  private readonly pendingDescs: NodeDesc[] = [];

  readonly dropNodeIndex: number;

  // Frames: a FIFO of frames to dispatch, and per node the frame still being filled.
  private readonly queue: Frame[] = [];
  private queueHead = 0;
  private readonly filling: (Frame | null)[] = [];
  private readonly freeFrames: Frame[] = [];

  private readonly interruptPending = new Set<number>();
  /** Process node index → absolute time (ms, performance.now) of its next run; absent = waits for a signal. */
  private readonly processDue = new Map<number, number>();
  private readonly lastClear = new Map<number, RuntimeStatsSnapshot>();

  private scheduled: 'immediate' | 'timer' | null = null;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private running = false;
  private inTurn = false;

  /** Loop accounting for `show runtime`. */
  loops = 0;
  private loopsAtRateStart = 0;
  private rateStart = performance.now();
  loopsPerSecond = 0;
  timeLastClear = performance.now();
  readonly startTime = performance.now();

  constructor(bufferCount = 16384) {
    this.buffers = new BufferPool(bufferCount);
    this.dropNodeIndex = this.register({
      name: 'error-drop',
      type: 'internal',
      isDrop: true,
      fn: (node, vector, count) => {
        const { buffers, errors } = node.graph;
        for (let i = 0; i < count; i++) {
          const bi = vector[i]!;
          errors.increment(buffers.error[bi]!);
          buffers.free(bi);
        }
      },
    });
  }

  /**
   * Registers a node. Next nodes are resolved by name when all nodes are known (`resolve`), so
   * nodes may name each other in any order.
   */
  register(desc: NodeDesc): number {
    if (this.byName.has(desc.name)) throw new Error(`graph: duplicate node ${desc.name}`);
    const index = this.nodes.length;
    const errorBase = this.errors.register(desc.name, desc.errors ?? []);
    const nextNodes = new Int32Array((desc.next ?? []).length).fill(-1);
    const node = new NodeRuntime(this, index, desc, errorBase, nextNodes);
    this.nodes.push(node);
    this.filling.push(null);
    this.byName.set(desc.name, index);
    this.pendingDescs.push(desc);
    this.resolvePending();
    if (desc.type === 'process' && desc.startAfterMs !== undefined) {
      this.processDue.set(index, performance.now() + desc.startAfterMs);
      node.waitState = 'clock wait';
      this.schedule();
    }
    return index;
  }

  /** Resolves next-node names that have become known; unresolved ones stay -1 until they are. */
  private resolvePending(): void {
    for (const node of this.nodes) {
      const next = node.desc.next ?? [];
      for (let i = 0; i < next.length; i++) {
        if (node.nextNodes[i] === -1) {
          const target = this.byName.get(next[i]!);
          if (target !== undefined) node.nextNodes[i] = target;
        }
      }
    }
  }

  /** Throws naming every next node that no registered node provides. */
  checkResolved(): void {
    const missing: string[] = [];
    for (const node of this.nodes) {
      (node.desc.next ?? []).forEach((name, i) => {
        if (node.nextNodes[i] === -1) missing.push(`${node.name} -> ${name}`);
      });
    }
    if (missing.length) throw new Error(`graph: unknown next nodes: ${missing.join(', ')}`);
  }

  nodeIndex(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) throw new Error(`graph: no node named ${name}`);
    return i;
  }

  findNode(name: string): NodeRuntime | undefined {
    const i = this.byName.get(name);
    return i === undefined ? undefined : this.nodes[i];
  }

  /** Appends a buffer to the frame pending for `nodeIndex`. */
  enqueue(nodeIndex: number, bi: number): void {
    if (nodeIndex < 0) {
      // An unresolved next: nothing can take the packet. Count it as a drop with no reason.
      this.buffers.error[bi] = 0;
      nodeIndex = this.dropNodeIndex;
    }
    let frame = this.filling[nodeIndex];
    if (!frame) {
      frame = this.freeFrames.pop() ?? new Frame();
      frame.count = 0;
      frame.node = nodeIndex;
      this.filling[nodeIndex] = frame;
      this.queue.push(frame);
      if (!this.inTurn) this.schedule();
    }
    frame.vector[frame.count++] = bi;
    if (frame.count === FRAME_SIZE) this.filling[nodeIndex] = null;
  }

  /** Signals an interrupt-mode input node: it runs on the next turn. */
  interrupt(nodeIndex: number): void {
    this.interruptPending.add(nodeIndex);
    this.schedule();
  }

  /** Wakes a process node waiting for a signal (or waiting on a timer) on the next turn. */
  signalProcess(nodeIndex: number): void {
    this.processDue.set(nodeIndex, 0);
    this.schedule();
  }

  setInputState(nodeIndex: number, state: 'polling' | 'interrupt' | 'disabled'): void {
    const node = this.nodes[nodeIndex]!;
    if (node.desc.type !== 'input') throw new Error(`${node.name} is not an input node`);
    node.state = state;
    this.schedule();
  }

  start(): void {
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.scheduled = null;
  }

  private hasImmediateWork(): boolean {
    if (this.queue.length > this.queueHead || this.interruptPending.size > 0) return true;
    for (const node of this.nodes) {
      if (node.desc.type === 'input' && node.state === 'polling') return true;
    }
    const now = performance.now();
    for (const due of this.processDue.values()) if (due <= now) return true;
    return false;
  }

  private schedule(): void {
    if (!this.running || this.inTurn) return;
    if (this.hasImmediateWork()) {
      if (this.scheduled === 'immediate') return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.scheduled = 'immediate';
      this.immediate = setImmediate(() => this.turn());
      return;
    }
    if (this.scheduled === 'immediate') return;
    let next = Infinity;
    for (const due of this.processDue.values()) next = Math.min(next, due);
    if (next === Infinity) return;
    if (this.timer) clearTimeout(this.timer);
    this.scheduled = 'timer';
    this.timer = setTimeout(() => this.turn(), Math.max(0, next - performance.now()));
    // Timers of process nodes must not keep the process alive on their own.
    this.timer.unref();
  }

  /** One dispatcher loop: inputs, frames, processes. Exposed for tests that drive the graph by hand. */
  turn(): void {
    this.scheduled = null;
    this.immediate = null;
    this.timer = null;
    this.inTurn = true;
    try {
      const now = performance.now();
      this.runInputs(now);
      this.runFrames();
      this.runProcesses(now);
      this.runFrames();
      this.countLoop(now);
    } finally {
      this.inTurn = false;
    }
    this.schedule();
  }

  /** Runs turns until no frame is pending (for tests on the pure-TS device). */
  drain(maxTurns = 1000): void {
    for (let i = 0; i < maxTurns && this.hasImmediateWork(); i++) this.turn();
  }

  private runInputs(now: number): void {
    for (const node of this.nodes) {
      if (node.desc.type !== 'input' || node.state === 'disabled') continue;
      const interrupted = this.interruptPending.delete(node.index);
      if (node.state !== 'polling' && !interrupted) continue;
      const t0 = process.hrtime.bigint();
      const n = node.desc.fn(node, now);
      node.clocksNs += Number(process.hrtime.bigint() - t0);
      node.calls++;
      node.vectors += n;
      // A full vector means more is probably waiting: run again next turn.
      if (n >= FRAME_SIZE && node.state === 'interrupt') this.interruptPending.add(node.index);
    }
  }

  private runFrames(): void {
    let dispatched = 0;
    while (this.queueHead < this.queue.length && dispatched < MAX_FRAMES_PER_TURN) {
      const frame = this.queue[this.queueHead++]!;
      const node = this.nodes[frame.node]!;
      if (this.filling[frame.node] === frame) this.filling[frame.node] = null;
      const t0 = process.hrtime.bigint();
      if (node.desc.type === 'internal') node.desc.fn(node, frame.vector, frame.count);
      node.clocksNs += Number(process.hrtime.bigint() - t0);
      node.calls++;
      node.vectors += frame.count;
      this.freeFrames.push(frame);
      dispatched++;
    }
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 1024) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private runProcesses(now: number): void {
    for (const [index, due] of [...this.processDue]) {
      if (due > now) continue;
      this.processDue.delete(index);
      const node = this.nodes[index]!;
      if (node.desc.type !== 'process') continue;
      const t0 = process.hrtime.bigint();
      const delay = node.desc.fn(node, now);
      node.clocksNs += Number(process.hrtime.bigint() - t0);
      node.calls++;
      node.suspends++;
      if (delay === undefined) {
        node.waitState = 'event wait';
      } else {
        node.waitState = 'clock wait';
        // A signal that arrived during the run wins over the timer.
        if (!this.processDue.has(index)) this.processDue.set(index, now + Math.max(0, delay));
      }
    }
  }

  private countLoop(now: number): void {
    this.loops++;
    const elapsed = now - this.rateStart;
    if (elapsed >= 1000) {
      this.loopsPerSecond = ((this.loops - this.loopsAtRateStart) * 1000) / elapsed;
      this.loopsAtRateStart = this.loops;
      this.rateStart = now;
    }
  }

  statsSinceClear(node: NodeRuntime): RuntimeStatsSnapshot {
    const base = this.lastClear.get(node.index);
    return {
      calls: node.calls - (base?.calls ?? 0),
      vectors: node.vectors - (base?.vectors ?? 0),
      suspends: node.suspends - (base?.suspends ?? 0),
      clocksNs: node.clocksNs - (base?.clocksNs ?? 0),
    };
  }

  clearRuntime(): void {
    for (const node of this.nodes) {
      this.lastClear.set(node.index, {
        calls: node.calls,
        vectors: node.vectors,
        suspends: node.suspends,
        clocksNs: node.clocksNs,
      });
    }
    this.timeLastClear = performance.now();
  }

  /** Frees buffers still sitting in pending frames (shutdown, tests). */
  discardPending(): void {
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const frame = this.queue[i]!;
      for (let j = 0; j < frame.count; j++) this.buffers.free(frame.vector[j]!);
    }
    this.queue.length = 0;
    this.queueHead = 0;
    this.filling.fill(null);
  }
}

export { NONE };
