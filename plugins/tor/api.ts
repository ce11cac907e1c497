// tor.api over the plugin's state: the same operations as the CLI.

import type { TorApiBackend, TorCircuitInfo, TorStreamInfo } from '../../src/api/handlers/tor.js';
import { listCircuits, type CircuitRow } from './circuits.js';
import type { TorMain } from './tor-main.js';

/** The API answers synchronously; circuit lists from the control port are refreshed in the background. */
const CIRCUIT_REFRESH_MS = 2000;

export function torApiBackend(tor: TorMain): TorApiBackend {
  let circuits: CircuitRow[] = [];
  let refreshing = false;
  let refreshedAt = 0;
  const refresh = (): void => {
    if (refreshing || Date.now() - refreshedAt < CIRCUIT_REFRESH_MS) return;
    refreshing = true;
    listCircuits(tor.backend)
      .then((rows) => (circuits = rows ?? []))
      .catch(() => undefined)
      .finally(() => {
        refreshing = false;
        refreshedAt = Date.now();
      });
  };
  return {
    setEnabled: async (enable) => {
      if (enable) await tor.enable({ ...tor.config });
      else tor.disable();
    },
    status: () => {
      const b = tor.backend;
      const boot = b?.bootstrap();
      const { up, down } = tor.byteTotals();
      const percent = boot ? boot.percent : b?.state === 'ready' ? 100 : 0;
      refresh();
      return {
        enabled: tor.config.enabled,
        bootstrapped: percent >= 100,
        bootstrapPercent: percent,
        bootstrapPhase: boot ? `${boot.tag}: ${boot.summary}` : (b?.state ?? 'stopped'),
        backend: b?.name ?? tor.config.backend.kind,
        circuits: circuits.length,
        streams: tor.streams.size,
        bytesSent: up,
        bytesReceived: down,
      };
    },
    streams: (): TorStreamInfo[] =>
      [...tor.streams.values()].map((st) => {
        const t = st.request?.target;
        return {
          streamIndex: st.id,
          circuitId: Number(tor.circuitOf(st) ?? 0) || 0,
          state: st.state === 'open' ? 'open' : st.state === 'resolving' ? 'resolving' : st.state === 'closed' || st.state === 'closing' ? 'closed' : 'connecting',
          target: t ? (t.kind === 'host' ? t.host : t.addr) : '',
          targetPort: t?.port ?? 0,
          bytesSent: st.bytesUp,
          bytesReceived: st.bytesDown,
          ageSeconds: (Date.now() - st.createdAt) / 1000,
        };
      }),
    circuits: (): TorCircuitInfo[] => {
      refresh();
      return circuits.map((c) => ({ circuitId: Number(c.id) || 0, state: c.state, hops: c.path, streams: c.streams ?? 0, ageSeconds: c.ageSeconds, purpose: c.purpose }));
    },
    newnym: () => tor.newnym(),
    showDestinations: () => !tor.config.safeLogging,
  };
}
