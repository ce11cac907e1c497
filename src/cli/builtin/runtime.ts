// `show runtime`, `clear runtime`: per-node calls, vectors, suspends and clocks (VPP's layout).

import { readFileSync } from 'node:fs';
import type { Main } from '../../core/main.js';
import type { NodeRuntime } from '../../runtime/node-runtime.js';
import { center, formatExp, padLeft, padRight } from '../format.js';

/** CPU clock rate used to turn measured nanoseconds into clocks, as VPP reports. */
function cpuHz(): number {
  try {
    const m = /cpu MHz\s*:\s*([\d.]+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return Number(m[1]) * 1e6;
  } catch {
    // Not Linux or no /proc: fall through.
  }
  return 1e9;
}
const CLOCKS_PER_NS = cpuHz() / 1e9;

/** The update interval VPP's stats segment prints after `Time`; ours refreshes on demand. */
const STATS_UPDATE_INTERVAL_S = 10;

function nodeState(node: NodeRuntime): string {
  switch (node.desc.type) {
    case 'input':
      return node.state === 'interrupt' ? 'interrupt wait' : node.state;
    case 'process':
      return node.waitState;
    default:
      return 'active';
  }
}

export function formatRuntime(main: Main, opts: { brief: boolean }): string {
  const g = main.graph;
  const dt = (performance.now() - g.timeLastClear) / 1000;
  let input = 0;
  let output = 0;
  let drop = 0;
  let internalVectors = 0;
  let internalCalls = 0;
  const nodes = [...g.nodes].sort((a, b) => a.name.localeCompare(b.name));
  for (const n of nodes) {
    const s = g.statsSinceClear(n);
    if (n.desc.type === 'input') input += s.vectors;
    if (n.desc.type === 'internal') {
      if (n.desc.isOutput) output += s.vectors;
      else {
        internalVectors += s.vectors;
        internalCalls += s.calls;
      }
      if (n.desc.isDrop) drop += s.vectors;
    }
  }
  const rate = internalCalls ? internalVectors / internalCalls : 0;
  const lines = [
    `Time ${dt.toFixed(1)}, ${STATS_UPDATE_INTERVAL_S} sec internal node vector rate ${rate.toFixed(2)} loops/sec ${g.loopsPerSecond.toFixed(2)}`,
    `  vector rates in ${formatExp(input / dt, 4)}, out ${formatExp(output / dt, 4)}, drop ${formatExp(drop / dt, 4)}, punt ${formatExp(0, 4)}`,
    center('Name', 30) + center('State', 12) + center('Calls', 16) + center('Vectors', 16) + center('Suspends', 16) + center('Clocks', 16) + center('Vectors/Call', 16),
  ];
  for (const n of nodes) {
    const s = g.statsSinceClear(n);
    if (opts.brief && !s.calls && !s.suspends) continue;
    const clocks = s.clocksNs * CLOCKS_PER_NS;
    const perItem = s.vectors > 0 ? clocks / s.vectors : s.calls > 0 ? clocks / s.calls : s.suspends > 0 ? clocks / s.suspends : 0;
    const perCall = s.calls > 0 ? s.vectors / s.calls : 0;
    lines.push(
      padRight(n.name, 30) +
        center(nodeState(n), 12) +
        padLeft(String(s.calls), 16) +
        padLeft(String(s.vectors), 16) +
        padLeft(String(s.suspends), 16) +
        padLeft(formatExp(perItem, 2), 16) +
        padLeft(perCall.toFixed(2), 16),
    );
  }
  return lines.join('\n');
}

export function registerRuntimeCommands(main: Main): void {
  main.registerCliCommand({
    path: 'show runtime',
    shortHelp: 'show runtime [brief | verbose]',
    run: (input) => {
      let brief = true;
      while (!input.atEnd()) {
        if (input.accept('brief') || input.accept('b')) brief = true;
        else if (input.accept('verbose') || input.accept('v')) brief = false;
        else throw input.unknown();
      }
      return formatRuntime(main, { brief });
    },
  });
  main.registerCliCommand({
    path: 'clear runtime',
    shortHelp: 'clear runtime',
    run: (input) => {
      input.expectEnd();
      main.graph.clearRuntime();
    },
  });
}
