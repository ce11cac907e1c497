// Last-resort teardown when the owning process ends without calling stop(): on 'exit', SIGINT, SIGTERM and
// SIGHUP every registered network is killed (SIGKILL, by verified PID) and its directory removed,
// synchronously. Hooks are installed only while at least one network is registered.

import fs from 'node:fs';

export interface SyncTeardown {
  teardownSync(): void;
}

const live = new Set<SyncTeardown>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

function teardownAll(): void {
  for (const net of [...live]) {
    live.delete(net);
    try {
      net.teardownSync();
    } catch {
      // Keep going: the other networks still need stopping.
    }
  }
}

function onExit(): void {
  teardownAll();
}

function onSignal(sig: NodeJS.Signals): void {
  teardownAll();
  uninstall();
  // Without our listener, re-raising gives the default action (terminate) unless someone else handles it.
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  for (const sig of SIGNALS) process.on(sig, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', onExit);
  for (const sig of SIGNALS) process.off(sig, onSignal);
}

export function registerForCleanup(net: SyncTeardown): void {
  live.add(net);
  install();
}

export function unregisterFromCleanup(net: SyncTeardown): void {
  live.delete(net);
  if (live.size === 0) uninstall();
}

/** rm -rf that tolerates files a dying daemon writes at the last moment. */
export function removeTreeSync(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}
