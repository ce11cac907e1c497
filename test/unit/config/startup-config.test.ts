import { describe, expect, it } from 'vitest';
import { loggingSection, pluginsSection, socksvrSection, unixSection } from '../../../src/config/core-sections.js';
import { parseStartupConfig, sectionInput, unknownSectionError } from '../../../src/config/startup-config.js';
import { tokenize } from '../../../src/control/token-input.js';

describe('startup.conf grammar', () => {
  it('tokenizes words, braces, quotes and comments', () => {
    expect(tokenize('unix { cli-listen /run/x.sock # a comment\n log "/tmp/a b.log" }', true)).toEqual([
      'unix', '{', 'cli-listen', '/run/x.sock', 'log', '/tmp/a b.log', '}',
    ]);
    expect(tokenize('a{b}c', true)).toEqual(['a', '{', 'b', '}', 'c']);
    expect(() => tokenize('log "unterminated', true)).toThrow(/unterminated quoted string/);
  });

  it('concatenates a section given twice and accepts one-word values', () => {
    const c = parseStartupConfig('unix { nodaemon }\nlogging { default-log-level debug }\nunix { interactive }\napi-trace on');
    expect([...c.sections.keys()]).toEqual(['unix', 'logging', 'api-trace']);
    expect(c.sections.get('unix')).toEqual(['nodaemon', 'interactive']);
    expect(c.sections.get('api-trace')).toEqual(['on']);
    const unix = unixSection.parse(sectionInput(c, 'unix'));
    expect(unix.nodaemon && unix.interactive).toBe(true);
  });

  it('keeps nested blocks for the section to parse', () => {
    const c = parseStartupConfig(`
      plugins {
        path /opt/plugins
        plugin default { disable }
        plugin tor { enable }
        plugin dns_plugin.so { disable }
      }`);
    const p = pluginsSection.parse(sectionInput(c, 'plugins'));
    expect(p.path).toBe('/opt/plugins');
    expect(p.defaultDisabled).toBe(true);
    expect(p.explicit.get('tor')).toBe('enable');
    expect(p.explicit.get('dns')).toBe('disable');
  });

  it('parses every core key', () => {
    const c = parseStartupConfig(
      'unix { nodaemon interactive cli-listen /run/op/cli.sock cli-prompt op> log /tmp/op.log exec /etc/op/setup.gate gid 0 } socksvr { socket-name /run/op/api.sock } logging { default-log-level warn }',
    );
    expect(unixSection.parse(sectionInput(c, 'unix'))).toMatchObject({
      cliListen: '/run/op/cli.sock',
      cliPrompt: 'op>',
      log: '/tmp/op.log',
      exec: '/etc/op/setup.gate',
      gid: '0',
    });
    expect(socksvrSection.parse(sectionInput(c, 'socksvr')).socketName).toBe('/run/op/api.sock');
    expect(loggingSection.parse(sectionInput(c, 'logging')).defaultLogLevel).toBe('warn');
  });

  it('reports each error path with the section and the offending words', () => {
    const bad = (text: string, section: typeof unixSection | typeof pluginsSection | typeof loggingSection, name: string) =>
      () => section.parse(sectionInput(parseStartupConfig(text), name));
    expect(bad('unix { nodaemon bogus-key 42 }', unixSection, 'unix')).toThrow("unix: unknown input `bogus-key 42'");
    expect(bad('unix { cli-listen }', unixSection, 'unix')).toThrow('unix: socket path expected');
    expect(bad('logging { default-log-level loud }', loggingSection, 'logging')).toThrow(/logging: unknown log level `loud'/);
    expect(bad('plugins { plugin tor { maybe } }', pluginsSection, 'plugins')).toThrow("plugins: plugin tor: unknown input `maybe'");
    expect(() => parseStartupConfig('unix { nodaemon')).toThrow(/unbalanced/);
    expect(() => parseStartupConfig('unix')).toThrow("unknown input `unix'");
    expect(() => parseStartupConfig('}')).toThrow("unknown input `}'");
    const c = parseStartupConfig('frobnicate { on 3 }');
    expect(unknownSectionError(c, 'frobnicate').message).toBe("unknown input `frobnicate { on 3 }'");
  });
});

describe('exec files', () => {
  it('runs one command per line, joining lines inside braces and skipping comments', async () => {
    const { execFileCommands } = await import('../../../src/daemon/daemon.js');
    expect(execFileCommands('# setup\ncomment { two\n  lines }\n\nshow version\n  set interface state host-x up  \n')).toEqual([
      'comment { two lines }',
      'show version',
      'set interface state host-x up',
    ]);
  });
});
