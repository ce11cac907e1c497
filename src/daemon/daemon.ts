// Daemon startup, in VPP's order: read the configuration, pre-scan `plugins`, load plugins (which
// register their sections), parse every section (nothing has started yet, so a bad config exits
// with no socket left behind), then init modules, open the CLI socket, run `unix { exec }`, and
// serve until SIGINT/SIGTERM or `quit` on the terminal.

import { readFileSync } from 'node:fs';
import { registerBuiltinCommands } from '../cli/builtin/index.js';
import { CliError } from '../cli/command.js';
import { CliSocketServer } from '../cli/socket-server.js';
import { startStdinCli } from '../cli/stdin-cli.js';
import {
  loggingSection,
  pluginsSection,
  socksvrSection,
  unixSection,
  type LoggingConfig,
  type UnixConfig,
} from '../config/core-sections.js';
import { parseStartupConfig, sectionInput, unknownSectionError, type StartupConfig } from '../config/startup-config.js';
import type { ConfigSectionDesc } from '../config/section.js';
import { InputError, TokenInput } from '../control/token-input.js';
import { Main, VERSION } from '../core/main.js';
import { loadPlugins } from '../plugin/loader.js';
import { startApiServer } from './api-modules.js';
import { registerCoreModules } from './core-modules.js';

export interface DaemonArgs {
  configText: string;
  source: string;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): DaemonArgs | 'help' | 'version' {
  if (argv[0] === '-h' || argv[0] === '--help') return 'help';
  if (argv[0] === '--version') return 'version';
  if (argv[0] === '-c') {
    const file = argv[1];
    if (!file) throw new UsageError('-c needs a configuration file');
    if (argv.length > 2) throw new UsageError(`unexpected arguments after -c ${file}: ${argv.slice(2).join(' ')}`);
    try {
      return { configText: readFileSync(file, 'utf8'), source: file };
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return { configText: argv.join(' '), source: 'command line' };
}

export const USAGE = `usage: onionplane -c <startup.conf>
       onionplane <configuration words, e.g. unix { interactive }>`;

/**
 * Splits an exec file into commands: one per line, except that a `{ … }` block may span lines
 * (`comment { … }`); `#` lines are comments.
 */
export function execFileCommands(text: string): string[] {
  const commands: string[] = [];
  let current = '';
  let depth = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!current && (!line || line.startsWith('#'))) continue;
    current = current ? `${current} ${line}` : line;
    for (const c of line) depth += c === '{' ? 1 : c === '}' ? -1 : 0;
    if (depth <= 0) {
      commands.push(current);
      current = '';
      depth = 0;
    }
  }
  if (current) commands.push(current);
  return commands;
}

/** Runs the CLI commands of an exec file, stopping at the first failure (as VPP does). */
export async function runExecFile(main: Main, file: string): Promise<void> {
  const log = main.log.child('cli');
  for (const command of execFileCommands(readFileSync(file, 'utf8'))) {
    try {
      await main.cli.execute(command, { main, origin: 'exec' });
    } catch (e) {
      const msg = e instanceof CliError ? e.message : (e as Error).message;
      log.error(`exec ${file}: ${msg}`);
      process.stderr.write(`exec ${file}: ${msg}\n`);
      return;
    }
  }
}

export interface Daemon {
  main: Main;
  stop(): Promise<void>;
  /** Resolves when the daemon has stopped (signal, or `quit` on its terminal). */
  done: Promise<void>;
}

/** Builds and configures the daemon; throws InputError for configuration errors before starting anything. */
export async function startDaemon(args: DaemonArgs): Promise<Daemon> {
  const config: StartupConfig = parseStartupConfig(args.configText);
  const pluginsConfig = pluginsSection.parse(sectionInput(config, 'plugins'));

  const main = new Main();
  for (const s of [unixSection, socksvrSection, pluginsSection, loggingSection] as ConfigSectionDesc[]) main.registerConfigSection(s);
  registerBuiltinCommands(main);
  registerCoreModules(main);
  await loadPlugins(main, pluginsConfig);

  for (const name of config.sections.keys()) {
    if (!main.hasConfigSection(name)) throw unknownSectionError(config, name);
  }
  const given = new Map<string, TokenInput>();
  for (const name of config.sections.keys()) given.set(name, sectionInput(config, name));
  main.configure(given);

  const unix = main.config<UnixConfig>('unix');
  const logging = main.config<LoggingConfig>('logging');
  main.log.configure({ file: unix.log, level: logging.defaultLogLevel });
  main.log.child('main').info(`onionplane v${VERSION} starting (config from ${args.source})`);

  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const stop = async (): Promise<void> => {
    await main.shutdown();
    resolveDone();
  };

  try {
    await main.init();
    if (unix.cliListen) {
      const server = new CliSocketServer(main, { path: unix.cliListen, prompt: unix.cliPrompt, banner: !unix.cliNoBanner, gid: unix.gid });
      await server.start();
      main.onShutdown('cli-listen', () => server.stop());
    }
    await startApiServer(main);
  } catch (e) {
    await main.shutdown();
    throw e;
  }
  if (unix.exec) await runExecFile(main, unix.exec);
  if (unix.interactive) startStdinCli(main, unix.cliPrompt, () => void stop());
  return { main, stop, done };
}

export { InputError };
