// Handlers for plugins.api: the plugin registry as `show plugins` lists it.

import type { ApiHandlerFn } from '../registry.js';

export interface PluginInfo {
  name: string;
  version: string;
  description: string;
  enabled: boolean;
  defaultDisabled: boolean;
}

export interface PluginsApiBackend {
  listPlugins(): PluginInfo[];
}

export function pluginsHandlers(backend: PluginsApiBackend): Record<string, ApiHandlerFn> {
  return {
    plugin_dump: async (_req, ctx) => {
      let index = 0;
      for (const p of backend.listPlugins()) {
        const ok = ctx.details({
          index: index++, enabled: p.enabled, default_disabled: p.defaultDisabled, name: p.name, version: p.version, description: p.description,
        });
        if (!ok && !(await ctx.drained())) return;
      }
    },
  };
}
