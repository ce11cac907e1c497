// A ready vitest globalSetup: one network for the whole run, shared with test files through provide/inject.
// Opt in from a vitest config or project: `globalSetup: ['test/harness/tornet/global-setup.ts']`, then in a
// test: `const net = attachTorNet(inject('tornet'))`. With $ONIONPLANE_TORNET_STATE naming a running network
// (`npm run tornet -- up`), that one is used and left running.
// The onion service forwards to an origin server that lives in the vitest main process for the run.

import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { acquireTorNet } from './index.js';
import type { TorNetDescription } from './types.js';

declare module 'vitest' {
  export interface ProvidedContext {
    tornet: TorNetDescription;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { net, release, shared } = await acquireTorNet({
    onionService: true,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  project.provide('tornet', net.describe());
  process.stderr.write(`tornet: ${shared ? 'attached to' : 'started'} ${net.root} (${net.bringUpMs} ms)\n`);
  return release;
}
