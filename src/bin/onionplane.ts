#!/usr/bin/env node
// The onionplane daemon: `onionplane -c startup.conf` or `onionplane unix { interactive }`.

import { InputError, parseArgs, startDaemon, USAGE, UsageError } from '../daemon/daemon.js';
import { VERSION } from '../core/main.js';

async function run(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`onionplane: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args === 'version') {
    process.stdout.write(`onionplane v${VERSION}\n`);
    return 0;
  }
  let daemon;
  try {
    daemon = await startDaemon(args);
  } catch (e) {
    const msg = e instanceof InputError || e instanceof UsageError ? e.message : (e as Error).message;
    process.stderr.write(`onionplane: ${msg}\n`);
    return 1;
  }
  const onSignal = (): void => {
    void daemon.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await daemon.done;
  return 0;
}

run().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`onionplane: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
