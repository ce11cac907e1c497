// `set interface fault`, `show interface fault`: fault injection for tests (no netem here).

import { CliError } from '../../cli/command.js';
import type { Main } from '../../core/main.js';
import { NO_FAULTS, type FaultConfig, type FaultInjector } from '../fault/fault-injector.js';
import type { FaultDirection, NetMain } from '../net-main.js';
import { expectInterface, expectNumber } from './parse.js';

/** Longest delay accepted, ms: held frames occupy buffers meanwhile. */
const MAX_DELAY_MS = 10_000;

function describe(config: FaultConfig): string {
  return `drop ${config.dropPct}% duplicate ${config.duplicatePct}% reorder ${config.reorderPct}% corrupt ${config.corruptPct}% delay ${config.delayMs}ms seed ${config.seed}`;
}

export function registerFaultCommands(main: Main, net: NetMain): void {
  main.registerCliCommand({
    path: 'set interface fault',
    shortHelp:
      'set interface fault <interface> [rx|tx|both] [off | [drop <pct>] [duplicate <pct>] [reorder <pct>] [corrupt <pct>] [delay <ms>] [seed <n>]]',
    run: (input) => {
      const itf = expectInterface(net, input);
      let dirs: FaultDirection[] = ['rx', 'tx'];
      if (input.accept('rx')) dirs = ['rx'];
      else if (input.accept('tx')) dirs = ['tx'];
      else input.accept('both');
      if (input.accept('off')) {
        input.expectEnd();
        for (const d of dirs) net.setFault(itf, d, null);
        return;
      }
      const c = { ...NO_FAULTS };
      let any = false;
      while (!input.atEnd()) {
        if (input.accept('drop')) c.dropPct = expectNumber(input, 'drop percentage', 0, 100);
        else if (input.accept('duplicate')) c.duplicatePct = expectNumber(input, 'duplicate percentage', 0, 100);
        else if (input.accept('reorder')) c.reorderPct = expectNumber(input, 'reorder percentage', 0, 100);
        else if (input.accept('corrupt')) c.corruptPct = expectNumber(input, 'corrupt percentage', 0, 100);
        else if (input.accept('delay')) c.delayMs = expectNumber(input, 'delay in ms', 0, MAX_DELAY_MS);
        else if (input.accept('seed')) c.seed = input.expectInt('seed', 0, 0xffffffff);
        else throw input.unknown();
        any = true;
      }
      if (!any) throw new CliError('expected off or at least one of drop, duplicate, reorder, corrupt, delay');
      for (const d of dirs) net.setFault(itf, d, c);
    },
  });

  main.registerCliCommand({
    path: 'show interface fault',
    shortHelp: 'show interface fault',
    run: (input) => {
      input.expectEnd();
      const lines: string[] = [];
      const row = (name: string, dir: string, inj: FaultInjector): void => {
        const s = inj.stats;
        lines.push(`${name} ${dir}: ${describe(inj.config)}`);
        lines.push(
          `  seen ${s.seen} dropped ${s.dropped} duplicated ${s.duplicated} reordered ${s.reordered} corrupted ${s.corrupted} delayed ${s.delayed} queue-full ${s.queueFull} held-now ${inj.held}`,
        );
      };
      for (const itf of net.interfaces.all()) {
        const rx = net.rxFaults[itf.swIfIndex];
        const tx = net.txFaults[itf.swIfIndex];
        if (rx) row(itf.name, 'rx', rx);
        if (tx) row(itf.name, 'tx', tx);
      }
      return lines.length ? lines.join('\n') : 'no fault injection configured';
    },
  });
}
