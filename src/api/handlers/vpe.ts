// Handlers for vpe.api: the daemon's identity and clock.

import type { ApiHandlerFn } from '../registry.js';

export interface VpeInfo {
  /** Program name, e.g. "onionplane" (VPP answers "vpe"). */
  program: string;
  version: string;
  buildDate: string;
  buildDirectory: string;
  /** Wall clock in milliseconds since the epoch (injected for tests). */
  now?: () => number;
}

export function vpeHandlers(info: VpeInfo): Record<string, ApiHandlerFn> {
  const now = info.now ?? Date.now;
  return {
    show_version: (_req, ctx) => {
      ctx.reply({ program: info.program, version: info.version, build_date: info.buildDate, build_directory: info.buildDirectory });
    },
    show_vpe_system_time: (_req, ctx) => {
      ctx.reply({ vpe_system_time: now() / 1000 });
    },
  };
}
