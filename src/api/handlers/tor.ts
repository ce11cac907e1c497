// Handlers for the Tor plugin's tor.api over a backend the plugin implements, and the helper that
// publishes tor_stream_event. Stream targets are sent only when the backend says destinations may
// be shown (safe-logging off); otherwise the field is empty.

import { ApiError, ApiRetval } from '../errors.js';
import type { ApiHandlerFn, ApiRegistry } from '../registry.js';

export const TOR_STREAM_STATE = { resolving: 0, connecting: 1, open: 2, closed: 3, failed: 4 } as const;
export const TOR_CIRCUIT_STATE = { building: 0, open: 1, closed: 2, failed: 3 } as const;
export type TorStreamState = keyof typeof TOR_STREAM_STATE;
export type TorCircuitState = keyof typeof TOR_CIRCUIT_STATE;

export interface TorStatusInfo {
  enabled: boolean;
  bootstrapped: boolean;
  bootstrapPercent: number;
  bootstrapPhase: string;
  backend: string;
  circuits: number;
  streams: number;
  bytesSent: bigint | number;
  bytesReceived: bigint | number;
}

export interface TorStreamInfo {
  streamIndex: number;
  circuitId: number;
  state: TorStreamState;
  target: string;
  targetPort: number;
  bytesSent: bigint | number;
  bytesReceived: bigint | number;
  ageSeconds: number;
}

export interface TorCircuitInfo {
  circuitId: number;
  state: TorCircuitState;
  hops: string[];
  streams: number;
  ageSeconds: number;
  purpose: string;
}

export interface TorApiBackend {
  setEnabled(enable: boolean): void | Promise<void>;
  status(): TorStatusInfo;
  streams(): TorStreamInfo[];
  circuits(): TorCircuitInfo[];
  /** Returns false when the client is disabled. */
  newnym(): boolean | Promise<boolean>;
  /** False while safe-logging is on: targets are then withheld. */
  showDestinations(): boolean;
}

export function torHandlers(backend: TorApiBackend, registry: ApiRegistry): Record<string, ApiHandlerFn> {
  return {
    tor_client_enable_disable: async (req, ctx) => {
      await backend.setEnabled(Boolean(req.enable));
      ctx.reply({});
    },
    tor_status: (_req, ctx) => {
      const s = backend.status();
      ctx.reply({
        enabled: s.enabled, bootstrapped: s.bootstrapped, bootstrap_percent: s.bootstrapPercent,
        n_circuits: s.circuits, n_streams: s.streams, bytes_sent: BigInt(s.bytesSent), bytes_received: BigInt(s.bytesReceived),
        backend: s.backend, bootstrap_phase: s.bootstrapPhase,
      });
    },
    tor_stream_dump: async (req, ctx) => {
      const only = Number(req.stream_index ?? 0xffffffff);
      const show = backend.showDestinations();
      for (const s of backend.streams()) {
        if (only !== 0xffffffff && s.streamIndex !== only) continue;
        const ok = ctx.details({
          stream_index: s.streamIndex, circuit_id: s.circuitId, state: TOR_STREAM_STATE[s.state],
          target_port: show ? s.targetPort : 0, bytes_sent: BigInt(s.bytesSent), bytes_received: BigInt(s.bytesReceived),
          age_seconds: s.ageSeconds, target: show ? s.target : '',
        });
        if (!ok && !(await ctx.drained())) return;
      }
    },
    tor_circuit_dump: async (_req, ctx) => {
      for (const c of backend.circuits()) {
        const ok = ctx.details({
          circuit_id: c.circuitId, state: TOR_CIRCUIT_STATE[c.state], n_hops: c.hops.length, n_streams: c.streams,
          age_seconds: c.ageSeconds, purpose: c.purpose, path: c.hops.join(','),
        });
        if (!ok && !(await ctx.drained())) return;
      }
    },
    tor_newnym: async (_req, ctx) => {
      if (!(await backend.newnym())) throw new ApiError(ApiRetval.FEATURE_DISABLED, 'Tor client is disabled');
      ctx.reply({});
    },
    want_tor_stream_events: registry.wantHandler('want_tor_stream_events'),
  };
}

/** Tells subscribers that a stream changed state. */
export function publishTorStreamEvent(
  registry: ApiRegistry,
  ev: { streamIndex: number; circuitId: number; state: TorStreamState; reason?: number },
): number {
  return registry.publish('tor_stream_event', {
    stream_index: ev.streamIndex, circuit_id: ev.circuitId, state: TOR_STREAM_STATE[ev.state], reason: ev.reason ?? 0,
  });
}
