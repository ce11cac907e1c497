// Session-layer CLI: `show session [verbose]`, `show tcp stats`, `test tcp server …`.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CliError } from '../cli/command.js';
import { padRight } from '../cli/format.js';
import type { Main } from '../core/main.js';
import { ip4ToString, parseIp4 } from '../net/wire/ipv4.js';
import { fifoStoragePool } from './fifo.js';
import type { SessionListener, SessionMain } from './session-main.js';
import { createTestApp, type TestAppMode, type TestAppStats } from './test-apps.js';

interface TestServer {
  uri: string;
  mode: TestAppMode;
  listener: SessionListener;
  stats: TestAppStats;
}

function fifoSize(n: number): number {
  if (n < 4096 || n > 1 << 30) throw new CliError('fifo size must be between 4k and 1g');
  return n;
}

function parseUri(uri: string): { ip: number; port: number } {
  const m = /^tcp:\/\/([\d.]+)\/(\d+)$/.exec(uri);
  const ip = m ? parseIp4(m[1]!) : undefined;
  const port = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(port >= 1 && port <= 65535)) throw new CliError(`bad uri \`${uri}' (tcp://<a.b.c.d>/<port>)`);
  return { ip, port };
}

export function formatSessions(sm: SessionMain, verbose: boolean): string {
  const now = sm.now();
  const lines = [`${padRight('Connection', 50)}${padRight('State', 15)}${padRight('Rx-f', 10)}Tx-f`];
  for (const l of sm.listeners) {
    lines.push(`${padRight(`[0:${l.port}][T] ${ip4ToString(l.ip)}:${l.port}->0.0.0.0:0`, 50)}${padRight('LISTEN', 15)}${padRight('0', 10)}0`);
  }
  for (const s of sm.sessions.values()) {
    const info = s.conn.info(now);
    const name = `[0:${s.id}][T] ${ip4ToString(info.localIp)}:${info.localPort}->${ip4ToString(info.remoteIp)}:${info.remotePort}`;
    lines.push(`${padRight(name, 50)}${padRight(info.state, 15)}${padRight(String(info.rxFifo.used), 10)}${info.txFifo.used}`);
    if (verbose) {
      lines.push(
        `  app ${s.app.name} age ${(info.ageMs / 1000).toFixed(1)}s bytes in ${info.bytesIn} out ${info.bytesOut} retransmitted ${info.retransmitted}`,
        `  rx fifo ${info.rxFifo.used}/${info.rxFifo.size} ooo ${info.rxFifo.ooo} tx fifo ${info.txFifo.used}/${info.txFifo.size}${info.txSpliced ? ` spliced ${info.txSpliced.used}` : ''}`,
        `  snd_una ${info.sndUna} snd_nxt ${info.sndNxt} snd_wnd ${info.sndWnd} (wscale ${info.sndWscale}) rcv_nxt ${info.rcvNxt} rcv_wnd ${info.rcvWnd} (wscale ${info.rcvWscale})`,
        `  mss ${info.sndMss} cc ${info.cc} cwnd ${info.cwnd} ssthresh ${info.ssthresh} srtt ${info.srttMs.toFixed(1)}ms rttvar ${info.rttvarMs.toFixed(1)}ms rto ${info.rtoMs}ms${info.sack ? ' sack' : ''}${info.timestamps ? ' ts' : ''}${info.inRecovery ? ' recovery' : ''}`,
      );
    }
  }
  lines.push(`Thread 0: active sessions ${sm.sessions.size}`);
  return lines.join('\n');
}

/** Forces a full garbage collection (for memory measurements from the CLI). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Process memory and what the sessions' fifos hold, one `key value` per line (bytes). */
export function formatSessionMemory(sm: SessionMain): string {
  let fifoBytes = 0;
  let fifosAllocated = 0;
  for (const s of sm.sessions.values()) {
    for (const f of [s.rxFifo, s.txFifo]) {
      if (f.hasStorage) {
        fifoBytes += f.storageBytes;
        fifosAllocated++;
      }
    }
  }
  const m = process.memoryUsage();
  return [
    `sessions ${sm.sessions.size}`,
    `connections ${sm.stack.connectionCount}`,
    `fifo-bytes ${fifoBytes}`,
    `fifos-allocated ${fifosAllocated}`,
    `fifos-released ${sm.fifosReleased}`,
    // Idle ring storage kept for reuse (bounded): fifo space, not per-connection state.
    `fifo-pool-bytes ${fifoStoragePool.pooledBytes}`,
    `fifo-pool-reused ${fifoStoragePool.reused}`,
    `fifo-pool-allocated ${fifoStoragePool.allocated}`,
    `heap-used ${m.heapUsed}`,
    `external ${m.external}`,
    `array-buffers ${m.arrayBuffers}`,
    `rss ${m.rss}`,
  ].join('\n');
}

export function registerSessionCommands(main: Main, sm: SessionMain): void {
  const servers: TestServer[] = [];
  main.registerCliCommand({
    path: 'show session memory',
    shortHelp: 'show session memory [gc]',
    run: (input) => {
      const gc = input.accept('gc');
      input.expectEnd();
      if (gc) collectGarbage();
      return formatSessionMemory(sm);
    },
  });
  main.registerCliCommand({
    path: 'show session',
    shortHelp: 'show session [verbose]',
    run: (input) => {
      const verbose = input.accept('verbose') || input.accept('v');
      input.expectEnd();
      return formatSessions(sm, verbose);
    },
  });
  main.registerCliCommand({
    path: 'show tcp stats',
    shortHelp: 'show tcp stats',
    run: (input) => {
      input.expectEnd();
      const stats = sm.stack.stats();
      const states = sm.stack.stateCounts();
      const lines = Object.entries(stats)
        .filter(([, v]) => v !== 0)
        .map(([k, v]) => `${String(v).padStart(12)} ${k}`);
      lines.push('', 'Connections by state:');
      for (const [k, v] of Object.entries(states)) lines.push(`${String(v).padStart(12)} ${k}`);
      return lines.join('\n');
    },
  });
  main.registerCliCommand({
    path: 'test tcp server',
    shortHelp:
      'test tcp server uri tcp://<addr>/<port> [echo | sink | source <bytes>] [rx-fifo-size <n>] [tx-fifo-size <n>] | stop uri <uri> | show',
    run: (input) => {
      if (input.accept('show')) {
        input.expectEnd();
        if (!servers.length) return 'no test servers';
        return servers
          .map((s) => `${s.uri} ${s.mode.kind}${s.mode.kind === 'source' ? ` ${s.mode.bytes}` : ''}: accepted ${s.stats.accepted} closed ${s.stats.closed} resets ${s.stats.resets} bytes in ${s.stats.bytesIn} out ${s.stats.bytesOut}`)
          .join('\n');
      }
      if (input.accept('stop')) {
        input.accept('uri');
        const uri = input.expectWord('uri');
        input.expectEnd();
        const i = servers.findIndex((s) => s.uri === uri);
        if (i < 0) throw new CliError(`no test server on ${uri}`);
        sm.unlisten(servers[i]!.listener);
        servers.splice(i, 1);
        return;
      }
      if (!input.accept('uri')) throw input.unknown();
      const uri = input.expectWord('uri');
      const { ip, port } = parseUri(uri);
      let mode: TestAppMode = { kind: 'echo' };
      const opts: { rxFifoSize?: number; txFifoSize?: number } = {};
      while (!input.atEnd()) {
        if (input.accept('echo')) mode = { kind: 'echo' };
        else if (input.accept('sink')) mode = { kind: 'sink' };
        else if (input.accept('source')) mode = { kind: 'source', bytes: input.expectSize('bytes to send') };
        else if (input.accept('rx-fifo-size')) opts.rxFifoSize = fifoSize(input.expectSize('rx fifo size'));
        else if (input.accept('tx-fifo-size')) opts.txFifoSize = fifoSize(input.expectSize('tx fifo size'));
        else throw input.unknown();
      }
      const { app, stats } = createTestApp(`test-tcp-${mode.kind}`, mode);
      const r = sm.listen(app, ip, port, opts);
      if (!r.ok) throw new CliError(`cannot listen on ${uri}: ${r.error}`);
      servers.push({ uri, mode, listener: r.value, stats });
    },
  });
}
