// startup.conf sections of the session layer and TCP: `session { … }`, `tcp { … }`.

import type { ConfigSectionDesc } from '../config/section.js';
import { DEFAULT_TCP_CONFIG, type TcpConfig } from '../net/tcp/config.js';
import type { SessionConfig } from './session-main.js';

/** Default rx and tx fifo capacity per session. */
export const DEFAULT_FIFO_SIZE = 4 * 1024 * 1024;

export const sessionSection: ConfigSectionDesc<SessionConfig> = {
  name: 'session',
  parse(input) {
    // Like Linux's tcp_rmem/tcp_wmem maxima: a bulk flow gets a window of megabytes, while fifo storage
    // starts at 16 KiB and grows only as the data held needs it (fifo.ts), so short sessions stay small.
    const c: SessionConfig = { rxFifoSize: DEFAULT_FIFO_SIZE, txFifoSize: DEFAULT_FIFO_SIZE, maxSessions: 65_536 };
    while (!input.atEnd()) {
      if (input.accept('rx-fifo-size')) c.rxFifoSize = input.expectSize('rx fifo size');
      else if (input.accept('tx-fifo-size')) c.txFifoSize = input.expectSize('tx fifo size');
      else if (input.accept('max-sessions')) c.maxSessions = input.expectInt('max sessions', 1, 1 << 22);
      else throw input.unknown();
    }
    for (const [k, v] of [['rx-fifo-size', c.rxFifoSize], ['tx-fifo-size', c.txFifoSize]] as const) {
      if (v < 4096 || v > 1 << 30) throw input.error(`${k} must be between 4k and 1g`);
    }
    return c;
  },
};

export const tcpSection: ConfigSectionDesc<Partial<TcpConfig>> = {
  name: 'tcp',
  parse(input) {
    const c: Partial<TcpConfig> = {};
    while (!input.atEnd()) {
      if (input.accept('cc-algo')) {
        const algo = input.expectWord('congestion control (newreno | cubic)');
        if (algo !== 'newreno' && algo !== 'cubic') throw input.error(`unknown cc-algo \`${algo}' (newreno | cubic)`);
        c.ccAlgo = algo;
      } else if (input.accept('time-wait-ms')) c.timeWaitMs = input.expectInt('TIME-WAIT in ms', 0, 240_000);
      else if (input.accept('syn-backlog')) c.synBacklog = input.expectInt('SYN backlog', 1, 1 << 20);
      else if (input.accept('no-syn-cookies')) c.synCookies = false;
      else if (input.accept('no-tail-loss-probe')) c.tailLossProbe = false;
      else if (input.accept('delayed-ack-ms')) c.delayedAckMs = input.expectInt('delayed ACK in ms', 0, 499);
      else if (input.accept('ack-coalesce-segments')) c.ackCoalesceSegments = input.expectInt('segments', 0, 64);
      else if (input.accept('mtu')) c.mtu = input.expectInt('MTU', 576, 9000);
      else if (input.accept('initial-cwnd')) c.initialCwndSegments = input.expectInt('initial cwnd segments', 1, 100);
      else if (input.accept('tso')) {
        // TCP segmentation offload toward devices with TX GSO (default on).
        const v = input.expectWord('tso on | off');
        if (v !== 'on' && v !== 'off') throw input.error(`tso expects on or off, got \`${v}'`);
        c.tso = v === 'on';
      }
      else throw input.unknown();
    }
    return c;
  },
};

export { DEFAULT_TCP_CONFIG };
