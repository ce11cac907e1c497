// The core's own startup.conf sections: unix, socksvr, plugins, logging.

import type { TokenInput } from '../control/token-input.js';
import { LOG_LEVELS, type LogLevel } from '../core/log.js';
import type { ConfigSectionDesc } from './section.js';

export interface UnixConfig {
  nodaemon: boolean;
  interactive: boolean;
  cliListen?: string;
  cliPrompt: string;
  log?: string;
  exec?: string;
  /** Group (name or number) that owns the CLI socket. */
  gid?: string;
  cliNoBanner: boolean;
}

export const DEFAULT_PROMPT = 'onionplane# ';

export const unixSection: ConfigSectionDesc<UnixConfig> = {
  name: 'unix',
  parse(input: TokenInput): UnixConfig {
    const c: UnixConfig = { nodaemon: false, interactive: false, cliPrompt: DEFAULT_PROMPT, cliNoBanner: false };
    while (!input.atEnd()) {
      if (input.accept('nodaemon')) c.nodaemon = true;
      else if (input.accept('interactive')) c.interactive = true;
      else if (input.accept('cli-listen')) c.cliListen = input.expectWord('socket path');
      else if (input.accept('cli-prompt')) c.cliPrompt = input.expectWord('prompt');
      else if (input.accept('log')) c.log = input.expectWord('log file');
      else if (input.accept('exec') || input.accept('startup-config')) c.exec = input.expectWord('file of CLI commands');
      else if (input.accept('gid')) c.gid = input.expectWord('group name or id');
      else if (input.accept('cli-no-banner')) c.cliNoBanner = true;
      else if (input.accept('cli-no-pager')) continue;
      else throw input.unknown();
    }
    return c;
  },
};

export interface SocksvrConfig {
  /** Binary API socket path; undefined when the API socket is off (`socksvr` not given). */
  socketName?: string;
}

export const DEFAULT_API_SOCKET = '/run/onionplane/api.sock';

export const socksvrSection: ConfigSectionDesc<SocksvrConfig> = {
  name: 'socksvr',
  parse(input: TokenInput): SocksvrConfig {
    const c: SocksvrConfig = {};
    while (!input.atEnd()) {
      if (input.accept('socket-name')) {
        const w = input.expectWord('socket path');
        c.socketName = w === 'default' ? DEFAULT_API_SOCKET : w;
      } else if (input.accept('default')) c.socketName = DEFAULT_API_SOCKET;
      else throw input.unknown();
    }
    return c;
  },
};

export interface PluginsConfig {
  path?: string;
  /** Default for plugins not named: enabled unless `plugin default { disable }`. */
  defaultDisabled: boolean;
  /** Explicit per-plugin choices. */
  explicit: Map<string, 'enable' | 'disable'>;
}

/** Accepts VPP-style names too (`tor_plugin.so` → `tor`). */
export function pluginBaseName(name: string): string {
  return name.replace(/\.so$/, '').replace(/_plugin$/, '');
}

export const pluginsSection: ConfigSectionDesc<PluginsConfig> = {
  name: 'plugins',
  parse(input: TokenInput): PluginsConfig {
    const c: PluginsConfig = { defaultDisabled: false, explicit: new Map() };
    while (!input.atEnd()) {
      if (input.accept('path')) c.path = input.expectWord('plugin directory');
      else if (input.accept('plugin')) {
        const name = input.expectWord('plugin name');
        const body = input.blockOrWord(`plugins: plugin ${name}`);
        if (!body) throw input.error(`plugin ${name}: { enable | disable } expected`);
        let choice: 'enable' | 'disable' | undefined;
        while (!body.atEnd()) {
          if (body.accept('enable')) choice = 'enable';
          else if (body.accept('disable')) choice = 'disable';
          else throw body.unknown();
        }
        if (!choice) throw input.error(`plugin ${name}: { enable | disable } expected`);
        if (name === 'default') c.defaultDisabled = choice === 'disable';
        else c.explicit.set(pluginBaseName(name), choice);
      } else throw input.unknown();
    }
    return c;
  },
};

export interface LoggingConfig {
  defaultLogLevel: LogLevel;
  defaultSyslogLogLevel: LogLevel;
}

function parseLevel(input: TokenInput): LogLevel {
  const w = input.expectWord('log level');
  if (!(LOG_LEVELS as readonly string[]).includes(w)) {
    throw input.error(`unknown log level \`${w}' (one of ${LOG_LEVELS.join(', ')})`);
  }
  return w as LogLevel;
}

export const loggingSection: ConfigSectionDesc<LoggingConfig> = {
  name: 'logging',
  parse(input: TokenInput): LoggingConfig {
    const c: LoggingConfig = { defaultLogLevel: 'notice', defaultSyslogLogLevel: 'warn' };
    while (!input.atEnd()) {
      if (input.accept('default-log-level')) c.defaultLogLevel = parseLevel(input);
      else if (input.accept('default-syslog-log-level')) c.defaultSyslogLogLevel = parseLevel(input);
      else throw input.unknown();
    }
    return c;
  },
};
