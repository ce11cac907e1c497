// The daemon's main state (VPP's vlib_main): the graph, the CLI, config sections, logging, and the
// lifecycle hooks every module and plugin registers with descriptor objects.

import { ApiRegistry } from '../api/registry.js';
import { CliRegistry } from '../cli/registry.js';
import type { CliCommandDesc } from '../cli/command.js';
import type { ConfigSectionDesc } from '../config/section.js';
import { TokenInput } from '../control/token-input.js';
import { Graph } from '../runtime/graph.js';
import type { NodeDesc } from '../runtime/node.js';
import { LogService } from './log.js';

export const VERSION = '0.1.0';

export interface LifecycleHook {
  /** Who registered it, for error messages. */
  readonly owner: string;
  readonly run: () => void | Promise<void>;
}

export class Main {
  readonly graph: Graph;
  readonly cli = new CliRegistry();
  /** Binary API messages by module; the socket server (socksvr) serves them. */
  readonly api = new ApiRegistry();
  readonly log = new LogService();
  readonly startedAt = Date.now();
  private readonly sections = new Map<string, ConfigSectionDesc>();
  private readonly parsed = new Map<string, unknown>();
  private readonly initHooks: LifecycleHook[] = [];
  private readonly shutdownHooks: LifecycleHook[] = [];
  /** One state object per module or plugin, by name (`tor`, `interfaces`, ...). */
  private readonly modules = new Map<string, unknown>();
  private stopping = false;

  constructor(opts: { buffers?: number } = {}) {
    this.graph = new Graph(opts.buffers);
  }

  registerConfigSection<T>(desc: ConfigSectionDesc<T>): void {
    if (this.sections.has(desc.name)) throw new Error(`config section ${desc.name} registered twice`);
    this.sections.set(desc.name, desc as ConfigSectionDesc);
  }

  hasConfigSection(name: string): boolean {
    return this.sections.has(name);
  }

  registerCliCommand(desc: CliCommandDesc): void {
    this.cli.register(desc);
  }

  registerNode(desc: NodeDesc): number {
    return this.graph.register(desc);
  }

  onInit(owner: string, run: () => void | Promise<void>): void {
    this.initHooks.push({ owner, run });
  }

  onShutdown(owner: string, run: () => void | Promise<void>): void {
    this.shutdownHooks.push({ owner, run });
  }

  setModule<T>(name: string, state: T): T {
    if (this.modules.has(name)) throw new Error(`module ${name} registered twice`);
    this.modules.set(name, state);
    return state;
  }

  module<T>(name: string): T {
    if (!this.modules.has(name)) throw new Error(`no module ${name}`);
    return this.modules.get(name) as T;
  }

  hasModule(name: string): boolean {
    return this.modules.has(name);
  }

  /**
   * Parses every registered section: given ones from `given`, the rest as empty (their defaults).
   * Throws on the first error; nothing has started yet at this point.
   */
  configure(given: ReadonlyMap<string, TokenInput>): void {
    for (const name of given.keys()) {
      if (!this.sections.has(name)) throw new Error(`unknown section ${name}`);
    }
    for (const [name, desc] of this.sections) {
      const input = given.get(name) ?? new TokenInput([], name);
      this.parsed.set(name, desc.parse(input));
    }
  }

  /** The parsed value of a section (after `configure`). */
  config<T>(name: string): T {
    if (!this.parsed.has(name)) {
      const desc = this.sections.get(name);
      if (!desc) throw new Error(`no config section ${name}`);
      this.parsed.set(name, desc.parse(new TokenInput([], name)));
    }
    return this.parsed.get(name) as T;
  }

  async init(): Promise<void> {
    for (const hook of this.initHooks) {
      try {
        await hook.run();
      } catch (e) {
        throw new Error(`${hook.owner}: ${(e as Error).message}`, { cause: e });
      }
    }
    this.graph.checkResolved();
    this.graph.start();
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Runs shutdown hooks in reverse order; each failure is logged, not fatal. */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.graph.stop();
    const log = this.log.child('main');
    for (const hook of [...this.shutdownHooks].reverse()) {
      try {
        await hook.run();
      } catch (e) {
        log.error(`shutdown of ${hook.owner} failed: ${(e as Error).message}`);
      }
    }
    this.log.flush();
  }
}
