// The per-node runtime handed to node functions: next-node enqueue, error counting, drops, trace,
// and the statistics `show runtime` prints.

import { BufferFlag, NONE, type BufferPool } from './buffer-pool.js';
import type { Graph } from './graph.js';
import type { InputNodeState, NodeDesc } from './node.js';

export class NodeRuntime {
  readonly index: number;
  readonly name: string;
  readonly desc: NodeDesc;
  readonly graph: Graph;
  readonly buffers: BufferPool;
  /** Node index of each next, in the order of `desc.next`. */
  readonly nextNodes: Int32Array;
  /** Global error-counter index of this node's first error. */
  readonly errorBase: number;
  /** Input nodes: how the dispatcher runs them. */
  state: InputNodeState;

  // Statistics since start; `clear runtime` snapshots them in the graph.
  calls = 0;
  vectors = 0;
  suspends = 0;
  clocksNs = 0;
  /** Process nodes: what they wait for now, for `show runtime`. */
  waitState: 'event wait' | 'clock wait' | 'done' = 'event wait';
  /** Vectors sent to each next, for `show node`. */
  readonly vectorsByNext: Float64Array;

  constructor(graph: Graph, index: number, desc: NodeDesc, errorBase: number, nextNodes: Int32Array) {
    this.graph = graph;
    this.buffers = graph.buffers;
    this.index = index;
    this.name = desc.name;
    this.desc = desc;
    this.errorBase = errorBase;
    this.nextNodes = nextNodes;
    this.vectorsByNext = new Float64Array(nextNodes.length);
    this.state = desc.type === 'input' ? (desc.state ?? 'interrupt') : 'polling';
  }

  /** Sends a buffer to next node number `next` (its position in `desc.next`). */
  enqueue(next: number, bi: number): void {
    this.vectorsByNext[next] = this.vectorsByNext[next]! + 1;
    this.graph.enqueue(this.nextNodes[next]!, bi);
  }

  /** Bumps this node's error counter number `code` (its position in `desc.errors`). */
  countError(code: number, n = 1): void {
    this.graph.errors.increment(this.errorBase + code, n);
  }

  /** Drops a buffer for reason `code`: error-drop counts it and frees it. */
  drop(bi: number, code: number): void {
    this.buffers.error[bi] = this.errorBase + code;
    this.graph.enqueue(this.graph.dropNodeIndex, bi);
  }

  isTraced(bi: number): boolean {
    return (this.buffers.flags[bi]! & BufferFlag.TRACED) !== 0;
  }

  /** Adds a trace record for a traced buffer; call only when `isTraced(bi)`. */
  addTrace(bi: number, data: unknown): void {
    const ti = this.buffers.traceIndex[bi]!;
    if (ti !== NONE) this.graph.trace.add(ti, this.index, data);
  }

  /**
   * For input nodes: marks a new buffer traced if `trace add` armed this node.
   * Returns whether it did, so the node can add its own record.
   */
  maybeStartTrace(bi: number): boolean {
    if (!this.graph.trace.takeArmed(this.index)) return false;
    const ti = this.graph.trace.begin();
    if (ti === NONE) return false;
    this.buffers.flags[bi] = this.buffers.flags[bi]! | BufferFlag.TRACED;
    this.buffers.traceIndex[bi] = ti;
    return true;
  }

  /** For input nodes in interrupt mode: asks the dispatcher to run this node. */
  interrupt(): void {
    this.graph.interrupt(this.index);
  }

  /** Next index of a node name in this node's next list (for nodes added at runtime). */
  nextIndexOf(name: string): number {
    const target = this.graph.nodeIndex(name);
    return this.nextNodes.indexOf(target);
  }
}
