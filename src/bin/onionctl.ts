#!/usr/bin/env node
// onionctl: the CLI client. `onionctl [-s <socket>] <command words>` runs one command (exit 1 when
// it fails); `onionctl` alone is an interactive session with history and tab completion.

import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runApiCommand } from '../api/cli-mode.js';
import { DEFAULT_API_SOCKET } from '../api/server.js';
import { CliClient, DEFAULT_CLI_SOCKETS } from '../cli/cli-client.js';

const USAGE = `usage: onionctl [-s <cli socket>] [<command words>]
       onionctl [-s <cli socket>]            (interactive)
       onionctl api [--socket <api socket>] <message> [field=value ...]   (binary API, JSON output)`;

async function interactive(client: CliClient): Promise<number> {
  const paths = (await client.run('show cli')).output
    .split('\n')
    .map((l) => l.slice(0, 37).trim())
    .filter(Boolean);
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    prompt: 'onionplane# ',
    historySize: 500,
    completer: (line: string): [string[], string] => {
      const words = line.trimStart().split(/\s+/);
      const partial = words.pop() ?? '';
      const prefix = words.join(' ');
      const next = new Set<string>();
      for (const p of paths) {
        const pw = p.split(' ');
        if (pw.slice(0, words.length).join(' ') !== prefix) continue;
        const w = pw[words.length];
        if (w?.startsWith(partial)) next.add(`${w} `);
      }
      return [[...next].sort(), partial];
    },
  });
  rl.prompt();
  for await (const line of rl) {
    if (/^\s*(quit|exit)\s*$/.test(line)) break;
    try {
      const r = await client.run(line);
      if (r.output) process.stdout.write(r.output);
    } catch (e) {
      process.stderr.write(`onionctl: ${(e as Error).message}\n`);
      return 1;
    }
    rl.prompt();
  }
  rl.close();
  return 0;
}

async function run(argv: string[]): Promise<number> {
  let socket: string | undefined;
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (argv[0] === 'api') return runApiCommand(argv.slice(1), { socketPath: DEFAULT_API_SOCKET });
  if (argv[0] === '-s') {
    socket = argv[1];
    if (!socket) {
      process.stderr.write(`onionctl: -s needs a socket path\n${USAGE}\n`);
      return 2;
    }
    argv = argv.slice(2);
  }
  socket ??= DEFAULT_CLI_SOCKETS.find((p) => existsSync(p)) ?? DEFAULT_CLI_SOCKETS[0]!;
  let client: CliClient;
  try {
    client = await CliClient.connect(socket);
  } catch (e) {
    process.stderr.write(`onionctl: cannot connect to ${socket}: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    if (argv.length === 0) return await interactive(client);
    const r = await client.run(argv.join(' '));
    if (r.failed) process.stderr.write(r.output);
    else process.stdout.write(r.output);
    return r.failed ? 1 : 0;
  } finally {
    client.close();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`onionctl: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
