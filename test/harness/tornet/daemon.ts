// One tor process: start it with its torrc and log file, tell whether it still runs, stop it by PID, read its log.
// PIDs are checked against /proc/<pid>/cmdline before any signal, so a recycled PID is never touched.

import { spawn } from 'node:child_process';
import fs from 'node:fs';

export const TOR_BINARY = process.env.ONIONPLANE_TOR ?? '/usr/bin/tor';

export interface SpawnedTor {
  pid: number;
  torrcFile: string;
  logFile: string;
}

export function spawnTor(torrcFile: string, logFile: string, defaultsFile: string): SpawnedTor {
  const fd = fs.openSync(logFile, 'a');
  try {
    // Own process group, ignoring the terminal's ^C: the harness decides when daemons stop.
    const child = spawn(TOR_BINARY, ['-f', torrcFile, '--defaults-torrc', defaultsFile], {
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    if (child.pid === undefined) throw new Error(`could not start ${TOR_BINARY}`);
    // Keep an error listener so a failed spawn surfaces as a dead PID rather than an uncaught exception.
    child.on('error', () => undefined);
    child.unref();
    return { pid: child.pid, torrcFile, logFile };
  } finally {
    fs.closeSync(fd);
  }
}

/** True while `pid` is a live (non-zombie) process whose command line names `torrcFile`. */
export function isOurTorRunning(pid: number, torrcFile: string): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(torrcFile);
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** SIGHUP: tor re-reads its torrc and retries its directory downloads at once. */
export function hupTor(pid: number, torrcFile: string): void {
  if (isOurTorRunning(pid, torrcFile)) signal(pid, 'SIGHUP');
}

/** Synchronous last resort for exit hooks: SIGKILL if it is still ours. */
export function killTorNow(pid: number, torrcFile: string): void {
  if (isOurTorRunning(pid, torrcFile)) signal(pid, 'SIGKILL');
}

/** SIGTERM (tor exits at once, also as a relay), then SIGKILL after `graceMs`; resolves when gone. */
export async function stopTor(pid: number, torrcFile: string, graceMs = 3000): Promise<void> {
  if (!isOurTorRunning(pid, torrcFile)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isOurTorRunning(pid, torrcFile)) {
    if (Date.now() > deadline) {
      signal(pid, 'SIGKILL');
      await sleep(50);
      if (Date.now() > deadline + 2000) throw new Error(`tor pid ${pid} survived SIGKILL`);
    } else {
      await sleep(25);
    }
  }
}

export function readLog(logFile: string): string {
  try {
    return fs.readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
}

export function tailLines(text: string, lines: number): string {
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return all.slice(-lines).join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
