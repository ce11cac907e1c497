// The tor plugin's CLI: `tor client enable|disable`, `show tor status|streams|circuits`, `tor newnym`.

import { CliError } from '../../src/cli/command.js';
import { padLeft, padRight } from '../../src/cli/format.js';
import type { Main } from '../../src/core/main.js';
import { ip4ToString } from '../../src/net/wire/ipv4.js';
import { describeBackend } from './backends.js';
import { listCircuits } from './circuits.js';
import { parseTorKey } from './config.js';
import type { SocksStream } from './socks-stream.js';
import type { TorMain } from './tor-main.js';

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

/** A stream's destination, or `[scrubbed]` while safe-logging is on (as tor logs it). */
export function streamTarget(tor: TorMain, st: SocksStream): string {
  const t = st.request?.target;
  if (!t) return '-';
  if (tor.config.safeLogging) return '[scrubbed]';
  return `${t.kind === 'host' ? t.host : t.kind === 'ipv6' ? `[${t.addr}]` : t.addr}:${t.port}`;
}

export async function formatStatus(tor: TorMain): Promise<string> {
  const c = tor.config;
  const b = tor.backend;
  const lines = [`Tor client: ${c.enabled ? 'enabled' : 'disabled'}${tor.enabledAt ? `, uptime ${duration(Date.now() - tor.enabledAt)}` : ''}`];
  lines.push(`  backend: ${b ? `${b.name}, ${b.state}${b.failure ? ` (${b.failure})` : ''}` : describeBackend(c.backend) + ', not started'}`);
  const m = b?.managedStatus();
  const boot = b?.bootstrap();
  if (m) {
    lines.push(`  bootstrap: ${boot ? formatBootstrap(boot) : 'not started'}`);
    lines.push(`  managed tor: ${m.state}${m.pid ? `, pid ${m.pid}` : ''}${m.torVersion ? `, tor ${m.torVersion}` : ''}, restarts ${m.restarts}${m.lastError ? `, last error: ${m.lastError}` : ''}`);
  } else if (b?.embedded) {
    lines.push(`  bootstrap: ${boot ? formatBootstrap(boot) : 'starting'}`);
    const st = await b.embedded.status();
    const c = st?.consensus;
    lines.push(`  consensus: ${c ? `${c.liveness}, ${c.relays} relays, valid-after ${c.validAfter}, fresh-until ${c.freshUntil}, valid-until ${c.validUntil}` : 'none yet'}`);
    if (st) lines.push(`  circuits: ${st.circuits.filter((x) => x.state === 'open').length} open, guards ${st.guards.length}`);
  } else if (b) lines.push(`  bootstrap: ${b.state === 'ready' ? 'done (the backend does not report phases)' : b.state}`);
  lines.push(`  listener: ${tor.listener ? `${c.socksAddress ? ip4ToString(c.socksAddress) : '*'}:${c.socksPort} (SOCKS4, SOCKS4a, SOCKS5)` : 'none'}`);
  const { up, down } = tor.byteTotals();
  lines.push(`  streams: ${tor.streams.size} open, max ${c.maxConnections}`);
  if (b) {
    // Ring memory is committed as streams need it (the most open at once), up to the reservation.
    const mem = b.table.memory();
    lines.push(`  rings: ${mib(mem.committed)} MiB committed for ${b.table.committedSlots()} streams, ${mib(mem.reserved)} MiB reserved (ring-size ${c.ringSize})`);
  }
  lines.push(`  bytes: ${up} client->tor, ${down} tor->client`);
  lines.push(`  safe-logging: ${c.safeLogging ? 'on' : 'off'}${c.testNetwork ? ', test-network on' : ''}`);
  return lines.join('\n');
}

export function formatStreams(tor: TorMain, verbose: boolean): string {
  const rows = [...tor.streams.values(), ...(verbose ? tor.recent : [])];
  const head = `${padLeft('ID', 6)}  ${padRight('Client', 21)} ${padRight('Target', 28)} ${padRight('State', 11)}${padLeft('Up', 12)}${padLeft('Down', 12)}  ${padRight('Circuit', 8)}${padLeft('Age', 7)}  End`;
  const lines = [head];
  for (const st of rows) {
    lines.push(
      `${padLeft(String(st.id), 6)}  ${padRight(`${ip4ToString(st.clientAddr)}:${st.clientPort}`, 21)} ${padRight(streamTarget(tor, st), 28)} ${padRight(st.state, 11)}${padLeft(String(st.bytesUp), 12)}${padLeft(String(st.bytesDown), 12)}  ${padRight(tor.circuitOf(st) ?? '-', 8)}${padLeft(duration(Date.now() - st.createdAt), 7)}  ${st.endReason ?? '-'}`,
    );
  }
  if (!verbose && tor.recent.length) lines.push(`(${tor.recent.length} recently closed streams: show tor streams verbose)`);
  return lines.join('\n');
}

export function registerTorCommands(main: Main, tor: TorMain): void {
  main.registerCliCommand({
    path: 'tor client enable',
    shortHelp: 'tor client enable port <n> [address <a.b.c.d>] [backend embedded | external <addr:port> | managed [tor-binary <path>] | direct i-understand-this-is-not-anonymous] [...]',
    run: async (input) => {
      const next = { ...tor.config, dirAuthorities: [...tor.config.dirAuthorities], allowedClients: [...tor.config.allowedClients] };
      while (!input.atEnd()) if (!parseTorKey(input, next)) throw input.unknown();
      await tor.enable(next);
    },
  });
  main.registerCliCommand({
    path: 'tor client disable',
    shortHelp: 'tor client disable: stop accepting SOCKS connections (open streams continue)',
    run: (input) => {
      input.expectEnd();
      tor.disable();
    },
  });
  main.registerCliCommand({
    path: 'show tor status',
    shortHelp: 'show tor status',
    run: (input) => {
      input.expectEnd();
      return formatStatus(tor);
    },
  });
  main.registerCliCommand({
    path: 'show tor streams',
    shortHelp: 'show tor streams [verbose]',
    run: (input) => {
      const verbose = input.accept('verbose') || input.accept('v');
      input.expectEnd();
      return formatStreams(tor, verbose);
    },
  });
  main.registerCliCommand({
    path: 'show tor circuits',
    shortHelp: 'show tor circuits',
    run: async (input) => {
      input.expectEnd();
      const rows = await listCircuits(tor.backend);
      if (!rows) return `backend ${tor.backend?.name ?? 'none'} does not report circuits`;
      const lines = [`${padLeft('ID', 6)}  ${padRight('State', 9)} ${padLeft('Age', 7)} ${padLeft('Streams', 7)}  ${padRight('Purpose', 24)} Path`];
      for (const r of rows) {
        lines.push(
          `${padLeft(r.id, 6)}  ${padRight(r.state, 9)} ${padLeft(duration(r.ageSeconds * 1000), 7)} ${padLeft(r.streams === undefined ? '-' : String(r.streams), 7)}  ${padRight(r.purpose, 24)} ${r.path.join(' > ')}`,
        );
      }
      return lines.join('\n');
    },
  });
  main.registerCliCommand({
    path: 'tor newnym',
    shortHelp: 'tor newnym: new circuits for new streams',
    run: async (input) => {
      input.expectEnd();
      if (!(await tor.newnym())) throw new CliError(`backend ${tor.backend?.name ?? 'none'} cannot switch to new circuits`);
      return 'new streams will use new circuits';
    },
  });
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0);
}

/** C tor's form, with the last problem while it is still short of 100% (why bootstrap is stuck). */
function formatBootstrap(p: { percent: number; tag: string; summary: string; warning?: string | undefined }): string {
  return `${p.percent}% (${p.tag}): ${p.summary}${p.percent < 100 && p.warning ? ` [warning: ${p.warning}]` : ''}`;
}
