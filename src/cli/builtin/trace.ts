// `trace add <input-node> <count>`, `show trace`, `clear trace`.

import type { Main } from '../../core/main.js';
import { CliError } from '../command.js';
import { formatTimeInterval } from '../format.js';

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

export function formatTrace(main: Main, max = Infinity): string {
  const g = main.graph;
  const packets = g.trace.packetsTraced;
  if (packets.length === 0) return 'No packets in trace buffer';
  const origin = BigInt(Math.round(g.startTime * 1e6)) + process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));
  const out = ['------------------- Start of thread 0 onionplane_main -------------------'];
  packets.slice(0, max).forEach((records, i) => {
    out.push(`Packet ${i + 1}`, '');
    for (const r of records) {
      const node = g.nodes[r.node]!;
      const text = node.desc.formatTrace ? node.desc.formatTrace(r.data) : JSON.stringify(r.data);
      out.push(`${formatTimeInterval(r.timeNs - origin)}: ${node.name}`, indent(text));
    }
    out.push('');
  });
  return out.join('\n');
}

export function registerTraceCommands(main: Main): void {
  main.registerCliCommand({
    path: 'trace add',
    shortHelp: 'trace add <input-graph-node> <add-trace-count>',
    run: (input) => {
      const name = input.expectWord('input graph node');
      const count = input.expectInt('trace count', 1, 10_000);
      input.expectEnd();
      const node = main.graph.findNode(name);
      if (!node) throw new CliError(`node '${name}' doesn't exist`);
      if (node.desc.type !== 'input') throw new CliError(`node '${name}' is not an input node`);
      main.graph.trace.arm(node.index, count);
    },
  });
  main.registerCliCommand({
    path: 'show trace',
    shortHelp: 'show trace [max COUNT]',
    run: (input) => {
      let max = 50;
      if (input.accept('max')) max = input.expectInt('count', 1);
      input.expectEnd();
      return formatTrace(main, max);
    },
  });
  main.registerCliCommand({
    path: 'clear trace',
    shortHelp: 'clear trace',
    run: (input) => {
      input.expectEnd();
      main.graph.trace.clear();
    },
  });
}
