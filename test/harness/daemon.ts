// Starts the compiled daemon (dist/) as a child process for integration tests, and talks to its
// CLI socket. Stops only the process it started, by PID.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliClient } from '../../src/cli/cli-client.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The package root, from test/harness (sources) or dist/test/harness (compiled). */
export const PACKAGE_ROOT = existsSync(join(here, '..', '..', 'package.json')) ? resolve(here, '..', '..') : resolve(here, '..', '..', '..');
export const DAEMON_BIN = join(PACKAGE_ROOT, 'dist', 'src', 'bin', 'onionplane.js');
export const ONIONCTL_BIN = join(PACKAGE_ROOT, 'dist', 'src', 'bin', 'onionctl.js');

export interface DaemonProcess {
  readonly pid: number;
  readonly dir: string;
  readonly cliSocket: string;
  readonly child: ChildProcess;
  output(): string;
  /** Runs a command over a fresh CLI connection. */
  cli(command: string): Promise<{ output: string; failed: boolean }>;
  stop(): Promise<number | null>;
}

export interface DaemonOptions {
  /** startup.conf text; `$DIR` is replaced by the daemon's temporary directory. */
  config: string;
  /** Extra files to write into the directory before start (name → text, `$DIR` replaced). */
  files?: Record<string, string>;
  timeoutMs?: number;
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startDaemonProcess(opts: DaemonOptions): Promise<DaemonProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'onionplane-test-'));
  const sub = (s: string): string => s.replaceAll('$DIR', dir);
  for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), sub(text));
  const confFile = join(dir, 'startup.conf');
  writeFileSync(confFile, sub(opts.config));
  const cliSocket = join(dir, 'cli.sock');
  const child = spawn(process.execPath, [DAEMON_BIN, '-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  let exited = false;
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => ((exited = true), r(code))));
  try {
    await waitFor(() => existsSync(cliSocket) || exited, opts.timeoutMs ?? 20_000, () => `CLI socket ${cliSocket}; output:\n${out}`);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  if (exited) throw new Error(`daemon exited during startup:\n${out}`);
  return {
    pid: child.pid!,
    dir,
    cliSocket,
    child,
    output: () => out,
    async cli(command: string) {
      const c = await CliClient.connect(cliSocket);
      try {
        return await c.run(command);
      } finally {
        c.close();
      }
    },
    async stop() {
      if (!exited) process.kill(child.pid!, 'SIGTERM');
      const timer = setTimeout(() => !exited && process.kill(child.pid!, 'SIGKILL'), 10_000);
      const code = await exit;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Runs the daemon expecting it to fail at startup; returns its exit code and output. */
export async function runDaemonExpectingFailure(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [DAEMON_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(timer);
  return { code, output };
}

/** Runs onionctl; resolves with its exit code and output. */
export async function onionctl(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [ONIONCTL_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(stdin ?? '');
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  return { code, stdout, stderr };
}
