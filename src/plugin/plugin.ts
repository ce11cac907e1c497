// Plugin descriptors: each plugin folder exports one, and registers everything it brings (config
// sections, CLI commands, graph nodes with their error counters, API messages) through `register`.
// Registration has no side effects; a plugin starts its work from an init hook (`main.onInit`).

import type { Main } from '../core/main.js';

export interface PluginDesc {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** Plugins disabled by default load only with `plugins { plugin <name> { enable } }`. */
  readonly defaultDisabled?: boolean;
  readonly register: (main: Main) => void | Promise<void>;
}

/** Checks a plugin module's export (fastify-style checked metadata). */
export function validatePluginDesc(value: unknown, where: string): PluginDesc {
  const d = value as Partial<PluginDesc> | undefined;
  const problems: string[] = [];
  if (!d || typeof d !== 'object') throw new Error(`${where}: no plugin descriptor exported (export default definePlugin({...}))`);
  if (typeof d.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(d.name)) problems.push('name must be a lowercase word');
  if (typeof d.version !== 'string' || !d.version) problems.push('version missing');
  if (typeof d.description !== 'string' || !d.description) problems.push('description missing');
  if (typeof d.register !== 'function') problems.push('register must be a function');
  if (problems.length) throw new Error(`${where}: invalid plugin descriptor: ${problems.join('; ')}`);
  return d as PluginDesc;
}

export function definePlugin(desc: PluginDesc): PluginDesc {
  return desc;
}
