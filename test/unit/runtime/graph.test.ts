import { describe, expect, it } from 'vitest';
import { formatErrors } from '../../../src/cli/builtin/errors.js';
import { formatRuntime } from '../../../src/cli/builtin/runtime.js';
import { formatTrace } from '../../../src/cli/builtin/trace.js';
import { Main } from '../../../src/core/main.js';
import { NONE } from '../../../src/runtime/buffer-pool.js';
import { FRAME_SIZE } from '../../../src/runtime/graph.js';

/** A tiny graph: an input node making packets of given lengths, a classifier dropping odd lengths, a sink. */
function build(lengths: number[]) {
  const main = new Main({ buffers: 1024 });
  const g = main.graph;
  const sunk: number[] = [];
  const source = g.register({
    name: 'test-input',
    type: 'input',
    next: ['test-classify'],
    formatTrace: (r) => `made packet of ${(r as { len: number }).len} bytes`,
    fn: (node) => {
      let n = 0;
      while (lengths.length && n < FRAME_SIZE) {
        const len = lengths.shift()!;
        const bi = node.buffers.alloc();
        if (bi === NONE) break;
        node.buffers.length[bi] = len;
        if (node.maybeStartTrace(bi)) node.addTrace(bi, { len });
        node.enqueue(0, bi);
        n++;
      }
      return n;
    },
  });
  g.register({
    name: 'test-classify',
    type: 'internal',
    next: ['test-sink'],
    errors: [
      { name: 'odd', description: 'odd length', severity: 'error' },
      { name: 'seen', description: 'packets seen', severity: 'info' },
    ],
    formatTrace: (r) => `classified ${String(r)}`,
    fn: (node, vector, count) => {
      node.countError(1, count);
      for (let i = 0; i < count; i++) {
        const bi = vector[i]!;
        const odd = node.buffers.length[bi]! % 2 === 1;
        if (node.isTraced(bi)) node.addTrace(bi, odd ? 'odd' : 'even');
        if (odd) node.drop(bi, 0);
        else node.enqueue(0, bi);
      }
    },
  });
  g.register({
    name: 'test-sink',
    type: 'internal',
    isOutput: true,
    fn: (node, vector, count) => {
      for (let i = 0; i < count; i++) {
        sunk.push(node.buffers.length[vector[i]!]!);
        node.buffers.free(vector[i]!);
      }
    },
  });
  g.checkResolved();
  return { main, g, source, sunk };
}

describe('graph dispatch', () => {
  it('moves vectors through nodes, counts drops by reason, frees every buffer', () => {
    const lengths = Array.from({ length: 600 }, (_, i) => 60 + i);
    const { main, g, source, sunk } = build([...lengths]);
    g.interrupt(source);
    g.drain();
    expect(sunk).toEqual(lengths.filter((l) => l % 2 === 0));
    expect(g.buffers.available).toBe(1024);
    const odd = g.errors.find('test-classify', 'odd');
    expect(g.errors.get(odd)).toBe(300);
    expect(g.errors.get(g.errors.find('test-classify', 'seen'))).toBe(600);
    const classify = g.findNode('test-classify')!;
    // 600 packets arrive as frames of at most 256: 3 calls.
    expect(classify.vectors).toBe(600);
    expect(classify.calls).toBe(3);
    expect(g.findNode('error-drop')!.vectors).toBe(300);

    const errors = formatErrors(main);
    expect(errors.split('\n')[0]).toBe('   Count                  Node                              Reason               Severity ');
    expect(errors).toMatch(/^ {7}300\s+test-classify\s+odd length\s+error\s*$/m);
    g.errors.clear();
    expect(formatErrors(main).split('\n')).toHaveLength(1);
  });

  it('prints show runtime in VPP columns and clears it', () => {
    const { main, g, source } = build([64, 65, 66]);
    g.interrupt(source);
    g.drain();
    const out = formatRuntime(main, { brief: true }).split('\n');
    expect(out[0]).toMatch(/^Time \d+\.\d, 10 sec internal node vector rate \d+\.\d\d loops\/sec \d+\.\d\d$/);
    expect(out[1]).toMatch(/^ {2}vector rates in \d\.\d{4}e-?\d+, out \d\.\d{4}e-?\d+, drop \d\.\d{4}e-?\d+, punt 0\.0000e0$/);
    expect(out[2]).toBe(
      '             Name                 State         Calls          Vectors        Suspends         Clocks       Vectors/Call  ',
    );
    const row = out.find((l) => l.startsWith('test-classify'))!;
    expect(row.slice(0, 30).trim()).toBe('test-classify');
    expect(row.slice(30, 42).trim()).toBe('active');
    expect(row.slice(42, 58).trim()).toBe('1');
    expect(row.slice(58, 74).trim()).toBe('3');
    expect(row.slice(106, 122).trim()).toBe('3.00');
    expect(out.find((l) => l.startsWith('test-input'))!.slice(30, 42).trim()).toBe('interrupt wa'); // VPP truncates to the column
    g.clearRuntime();
    expect(formatRuntime(main, { brief: true }).split('\n')).toHaveLength(3);
  });

  it('traces armed packets through every node with their formatters', () => {
    const { main, g, source } = build([64, 65, 66, 67]);
    g.trace.arm(source, 2);
    g.interrupt(source);
    g.drain();
    const out = formatTrace(main);
    expect(out).toContain('Packet 1');
    expect(out).toContain('Packet 2');
    expect(out).not.toContain('Packet 3');
    expect(out).toMatch(/\d\d:\d\d:\d\d:\d{6}: test-input\n {2}made packet of 64 bytes\n\d\d:\d\d:\d\d:\d{6}: test-classify\n {2}classified even/);
    expect(out).toMatch(/made packet of 65 bytes\n.*test-classify\n {2}classified odd/);
    g.trace.clear();
    expect(formatTrace(main)).toBe('No packets in trace buffer');
  });

  it('runs process nodes on their timers and on signals, counting suspends', async () => {
    const main = new Main({ buffers: 16 });
    const g = main.graph;
    const runs: number[] = [];
    const p = g.register({
      name: 'test-process',
      type: 'process',
      startAfterMs: 5,
      fn: () => {
        runs.push(runs.length);
        return runs.length < 3 ? 5 : undefined;
      },
    });
    g.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toEqual([0, 1, 2]);
    expect(g.nodes[p]!.waitState).toBe('event wait');
    g.signalProcess(p);
    await new Promise((r) => setTimeout(r, 20));
    expect(runs.length).toBe(4);
    expect(g.nodes[p]!.suspends).toBe(4);
    g.stop();
  });

  it('names unknown next nodes', () => {
    const main = new Main({ buffers: 16 });
    main.graph.register({ name: 'lonely', type: 'internal', next: ['nowhere'], fn: () => undefined });
    expect(() => main.graph.checkResolved()).toThrow('graph: unknown next nodes: lonely -> nowhere');
  });
});
