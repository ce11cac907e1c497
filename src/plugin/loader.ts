// Plugin discovery and loading: every folder under the plugin path with a `plugin.js` (or, when
// running from sources, `plugin.ts`) is a plugin. A plugin that fails to load is reported by name
// and the daemon goes on without it.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PluginsConfig } from '../config/core-sections.js';
import type { Main } from '../core/main.js';
import { validatePluginDesc, type PluginDesc } from './plugin.js';

export type PluginState = 'loaded' | 'disabled' | 'failed';

export interface PluginRecord {
  name: string;
  readonly file: string;
  state: PluginState;
  desc?: PluginDesc;
  error?: string;
}

export interface PluginRegistry {
  readonly path: string;
  readonly plugins: PluginRecord[];
}

/** The plugins folder next to this build: dist/plugins when compiled, plugins/ from sources. */
export function defaultPluginPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, '..', '..', 'plugins');
}

function pluginEntry(dir: string): string | undefined {
  for (const f of ['plugin.js', 'plugin.ts']) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export async function loadPlugins(main: Main, config: PluginsConfig): Promise<PluginRegistry> {
  const path = resolve(config.path ?? defaultPluginPath());
  const registry: PluginRegistry = { path, plugins: [] };
  main.setModule('plugins', registry);
  const log = main.log.child('plugin/load');
  if (!existsSync(path)) {
    log.warn(`plugin path ${path} does not exist`);
    return registry;
  }
  const dirs = readdirSync(path)
    .filter((d) => statSync(join(path, d)).isDirectory())
    .sort();
  for (const dir of dirs) {
    const file = pluginEntry(join(path, dir));
    if (!file) continue;
    const record: PluginRecord = { name: dir, file, state: 'failed' };
    registry.plugins.push(record);
    try {
      const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
      const desc = validatePluginDesc(mod.default, file);
      record.name = desc.name;
      record.desc = desc;
      const choice = config.explicit.get(desc.name);
      const disabled = choice ? choice === 'disable' : (desc.defaultDisabled ?? false) || config.defaultDisabled;
      if (disabled) {
        record.state = 'disabled';
        log.info(`plugin disabled: ${desc.name}`);
        continue;
      }
      await desc.register(main);
      record.state = 'loaded';
      log.info(`Loaded plugin: ${desc.name} (${desc.description})`);
    } catch (e) {
      record.state = 'failed';
      record.error = (e as Error).message;
      log.error(`plugin ${record.name} failed to load: ${record.error}`);
    }
  }
  for (const name of config.explicit.keys()) {
    if (!registry.plugins.some((p) => p.name === name)) log.warn(`plugins: no plugin named ${name} in ${path}`);
  }
  return registry;
}
