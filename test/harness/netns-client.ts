// Runs real clients (curl, torsocks, python) inside a test's network namespace, without blocking
// the test's event loop (origin servers may live in the same process).

import { spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export function runInNetns(netns: string, argv: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; stdin?: Buffer } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.end(opts.stdin ?? Buffer.alloc(0));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/** curl through a SOCKS5 proxy with remote name resolution, as Tor users run it. */
export function curlSocks(netns: string, proxy: string, url: string, extra: string[] = [], timeoutMs = 120_000): Promise<RunResult> {
  return runInNetns(netns, ['curl', '-sS', '--fail', '--max-time', String(Math.floor(timeoutMs / 1000)), '--socks5-hostname', proxy, ...extra, url], { timeoutMs: timeoutMs + 5000 });
}
