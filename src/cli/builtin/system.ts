// `show version`, `show plugins`, `show log`, `show cli`, `comment`, `quit`.

import { arch, hostname, platform } from 'node:os';
import { VERSION, type Main } from '../../core/main.js';
import type { PluginRegistry } from '../../plugin/loader.js';
import { padRight } from '../format.js';

export function formatPlugins(main: Main): string {
  if (!main.hasModule('plugins')) return ' No plugins loaded';
  const reg = main.module<PluginRegistry>('plugins');
  const lines = [` Plugin path is: ${reg.path}`, '', `     ${padRight('Plugin', 41)}${padRight('Version', 33)}Description`];
  let i = 0;
  for (const p of reg.plugins.filter((r) => r.state === 'loaded')) {
    lines.push(`${String(++i).padStart(3)}. ${padRight(p.name, 41)}${padRight(p.desc!.version, 33)}${p.desc!.description}`);
  }
  const others = reg.plugins.filter((r) => r.state !== 'loaded');
  if (others.length) {
    lines.push('', ' Not loaded:');
    for (const p of others) {
      const why = p.state === 'disabled' ? 'disabled' : `failed: ${p.error}`;
      lines.push(`     ${padRight(p.name, 41)}${padRight(p.desc?.version ?? '-', 33)}${why}`);
    }
  }
  return lines.join('\n');
}

export function registerSystemCommands(main: Main): void {
  main.registerCliCommand({
    path: 'show version',
    shortHelp: 'show version [verbose]',
    run: (input) => {
      const verbose = input.accept('verbose') || input.accept('v');
      input.expectEnd();
      const line = `onionplane v${VERSION} built with node ${process.version} on ${hostname()}`;
      if (!verbose) return line;
      return [
        `${padRight('Version:', 22)}v${VERSION}`,
        `${padRight('Node.js:', 22)}${process.version} (${platform()} ${arch()})`,
        `${padRight('PID:', 22)}${process.pid}`,
        `${padRight('Uptime:', 22)}${((Date.now() - main.startedAt) / 1000).toFixed(1)} s`,
      ].join('\n');
    },
  });
  main.registerCliCommand({
    path: 'show plugins',
    shortHelp: 'show plugins',
    run: (input) => {
      input.expectEnd();
      return formatPlugins(main);
    },
  });
  main.registerCliCommand({
    path: 'show log',
    shortHelp: 'show log',
    run: (input) => {
      input.expectEnd();
      return main.log
        .entries()
        .map((e) => {
          const t = e.time.toISOString().replace('T', ' ').replace('Z', '').replace(/-/g, '/');
          return `${t} ${padRight(e.level, 10)} ${padRight(e.subsystem, 14)} ${e.message}`;
        })
        .join('\n');
    },
  });
  main.registerCliCommand({
    path: 'show cli',
    shortHelp: 'show cli: every command with its short help',
    run: (input) => {
      input.expectEnd();
      return main.cli
        .commands()
        .map((c) => `${padRight(c.path, 37)} ${c.shortHelp}`)
        .join('\n');
    },
  });
  main.registerCliCommand({
    path: 'comment',
    shortHelp: 'comment <anything>: ignored (for scripts)',
    run: (input) => {
      input.takeRest();
    },
  });
  main.registerCliCommand({
    path: 'quit',
    shortHelp: 'quit: end this CLI session',
    run: (input, ctx) => {
      input.takeRest();
      ctx.quit?.();
    },
  });
}
