// `show errors`, `clear errors`: error counters by node and reason, zero rows hidden (VPP's layout).

import type { Main } from '../../core/main.js';
import { center, padLeft } from '../format.js';

export function formatErrors(main: Main): string {
  const lines = [center('Count', 10) + center('Node', 35) + center('Reason', 35) + center('Severity', 10)];
  for (const row of main.graph.errors.rows()) {
    if (row.count === 0) continue;
    lines.push(padLeft(String(row.count), 10) + center(row.node, 35) + center(row.description, 35) + center(row.severity, 10));
  }
  return lines.join('\n');
}

export function registerErrorCommands(main: Main): void {
  main.registerCliCommand({
    path: 'show errors',
    shortHelp: 'show errors',
    run: (input) => {
      input.accept('verbose');
      input.expectEnd();
      return formatErrors(main);
    },
  });
  main.registerCliCommand({
    path: 'clear errors',
    shortHelp: 'clear errors',
    run: (input) => {
      input.expectEnd();
      main.graph.errors.clear();
    },
  });
}
