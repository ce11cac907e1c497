// `unix { interactive }`: the debug CLI on the daemon's own terminal, with history and completion.

import { createInterface, type Interface } from 'node:readline';
import type { Main } from '../core/main.js';
import { CliError } from './command.js';

export function startStdinCli(main: Main, prompt: string, onQuit: () => void): Interface {
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt,
    historySize: 500,
    completer: (line: string): [string[], string] => {
      const words = line.split(/\s+/);
      const partial = words[words.length - 1] ?? '';
      return [main.cli.complete(line).map((w) => `${w} `), partial];
    },
  });
  let quit = false;
  rl.on('line', (line) => {
    rl.pause();
    main.cli
      .execute(line, { main, origin: 'stdin', quit: () => (quit = true) })
      .then(
        (out) => {
          if (out) process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
        },
        (e: unknown) => process.stdout.write(`${e instanceof CliError ? e.message : String(e)}\n`),
      )
      .finally(() => {
        if (quit) {
          rl.close();
          return;
        }
        rl.resume();
        rl.prompt();
      });
  });
  rl.on('close', onQuit);
  rl.prompt();
  return rl;
}
