// Graph node descriptors: what a node is (name, type, next nodes, error counters, trace formatter)
// and the function that moves a vector of buffers.

import type { NodeRuntime } from './node-runtime.js';

export type Severity = 'error' | 'warn' | 'info';

export interface ErrorCounterDesc {
  /** Short kebab/snake name, unique within the node (VPP: the enum name lowercased). */
  readonly name: string;
  /** What `show errors` prints in the Reason column. */
  readonly description: string;
  readonly severity: Severity;
}

export type NodeType = 'input' | 'internal' | 'process';
export type InputNodeState = 'polling' | 'interrupt' | 'disabled';

interface NodeDescBase {
  readonly name: string;
  /** Next nodes by name; a node enqueues to them by index in this list. */
  readonly next?: readonly string[];
  readonly errors?: readonly ErrorCounterDesc[];
  /** Turns a trace record this node added into the lines `show trace` prints under its name. */
  readonly formatTrace?: (record: unknown) => string;
  /** Vectors leaving here are counted as output (`show runtime` vector rates). */
  readonly isOutput?: boolean;
  readonly isDrop?: boolean;
}

export interface InternalNodeDesc extends NodeDescBase {
  readonly type: 'internal';
  /** Processes `count` buffer indices from `vector` (a frame). Must not keep `vector`. */
  readonly fn: (node: NodeRuntime, vector: Uint32Array, count: number) => void;
}

export interface InputNodeDesc extends NodeDescBase {
  readonly type: 'input';
  /** Brings packets in; returns how many it produced. Polling nodes are called every loop turn. */
  readonly fn: (node: NodeRuntime, now: number) => number;
  readonly state?: InputNodeState;
}

export interface ProcessNodeDesc extends NodeDescBase {
  readonly type: 'process';
  /**
   * Timers and background work. Returns the delay in ms before it wants to run again,
   * or `undefined` to wait for a signal (`Graph.signalProcess`).
   */
  readonly fn: (node: NodeRuntime, now: number) => number | undefined;
  /** Delay before the first run; undefined waits for a signal. */
  readonly startAfterMs?: number;
}

export type NodeDesc = InternalNodeDesc | InputNodeDesc | ProcessNodeDesc;
