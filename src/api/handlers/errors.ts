// Handlers for errors.api: node error counters as `show errors` / `clear errors` see them.

import type { ApiHandlerFn } from '../registry.js';

export type ErrorSeverity = 'info' | 'warn' | 'error';

const SEVERITY: Record<ErrorSeverity, number> = { info: 0, warn: 1, error: 2 };

export interface ErrorCounterInfo {
  node: string;
  name: string;
  description: string;
  severity: ErrorSeverity;
  /** Count since the last clear. */
  count: number | bigint;
}

export interface ErrorsApiBackend {
  listErrorCounters(): ErrorCounterInfo[];
  clearErrorCounters(): void;
}

export function errorsHandlers(backend: ErrorsApiBackend): Record<string, ApiHandlerFn> {
  return {
    error_counters_dump: async (req, ctx) => {
      let index = 0;
      for (const c of backend.listErrorCounters()) {
        const i = index++;
        const count = BigInt(c.count);
        if (count === 0n && !req.include_zero) continue;
        const ok = ctx.details({
          index: i, count, severity: SEVERITY[c.severity], node_name: c.node, counter_name: c.name, description: c.description,
        });
        if (!ok && !(await ctx.drained())) return;
      }
    },
    error_counters_clear: (_req, ctx) => {
      backend.clearErrorCounters();
      ctx.reply({});
    },
  };
}
