// A gateway under test: a network namespace (the LAN client) joined by veth to a daemon that owns
// the other end as a host-interface with the gateway address, with a tor { } stanza of the test's
// choosing. Everything is created here and removed by `close`.

import { afterEach } from 'vitest';
import { createVethNamespace, type VethNamespace } from '../../src/native/veth.js';
import { startDaemonProcess, type DaemonProcess } from './daemon.js';

export interface GatewayOptions {
  /** Short prefix for the namespace and veth names. */
  prefix: string;
  /** First three octets of the /24 between client (.2) and gateway (.1). */
  subnet: string;
  /** The body of the `tor { }` stanza. */
  tor: string;
  /** CLI commands run at startup after the interface is up. */
  setup?: string[];
}

export interface Gateway {
  readonly ns: VethNamespace;
  readonly d: DaemonProcess;
  readonly gatewayAddr: string;
  readonly clientAddr: string;
  close(): Promise<void>;
}

/** `tor { }` lines for a private network's DirAuthority lines. */
export function dirAuthorityStanza(lines: readonly string[]): string {
  return lines.map((l) => `dir-authority "${l}"`).join('\n');
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const gatewayAddr = `${opts.subnet}.1`;
  const clientAddr = `${opts.subnet}.2`;
  // The client's kernel sends MTU-sized frames, as a LAN host behind a real NIC would.
  const ns = await createVethNamespace(opts.prefix, { peerAddress: `${clientAddr}/24`, gsoMaxSegs: 1 });
  try {
    const d = await startDaemonProcess({
      config: `unix { cli-listen $DIR/cli.sock exec $DIR/setup.gate }\ntor {\n${opts.tor}\n}\n`,
      files: {
        'setup.gate': [
          `create host-interface name ${ns.host}`,
          `set interface state host-${ns.host} up`,
          `set interface ip address host-${ns.host} ${gatewayAddr}/24`,
          ...(opts.setup ?? []),
          '',
        ].join('\n'),
      },
    });
    return {
      ns,
      d,
      gatewayAddr,
      clientAddr,
      async close() {
        await d.stop();
        await ns.close();
      },
    };
  } catch (e) {
    await ns.close();
    throw e;
  }
}

/** Polls `fn` every half second until it returns a value. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits until `show tor status` reports bootstrap at 100%. */
export function waitBootstrapped(d: DaemonProcess, timeoutMs = 120_000): Promise<true> {
  return waitFor('the Tor backend to bootstrap', async () => ((await d.cli('show tor status')).output.includes('bootstrap: 100%') ? true : undefined), timeoutMs);
}

/**
 * What the daemon knew when a test failed: its Tor status, circuits, streams, error counters and the
 * tail of its log. CI output is all a failed run leaves behind.
 */
export async function gatewayDiagnostics(d: DaemonProcess): Promise<string> {
  const parts: string[] = [];
  for (const cmd of ['show tor status', 'show tor circuits', 'show tor streams verbose', 'show errors']) {
    const r = await d.cli(cmd).catch((e: unknown) => ({ output: `(${String(e)})` }));
    parts.push(`--- ${cmd}\n${r.output}`);
  }
  parts.push(`--- daemon log (tail)\n${d.output().slice(-6000)}`);
  return parts.join('\n');
}

/** In the calling suite: when a test fails, print `gatewayDiagnostics` of the daemon `daemon()` returns. */
export function printDiagnosticsOnFailure(daemon: () => DaemonProcess | undefined): void {
  afterEach(async ({ task }) => {
    const d = daemon();
    if (task.result?.state === 'fail' && d) console.log(`[${task.name}] diagnostics:\n${await gatewayDiagnostics(d)}`);
  });
}
