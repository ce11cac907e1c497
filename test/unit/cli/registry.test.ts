import { describe, expect, it } from 'vitest';
import { CliError } from '../../../src/cli/command.js';
import { CliRegistry } from '../../../src/cli/registry.js';
import { Main } from '../../../src/core/main.js';

function registry(): { cli: CliRegistry; calls: string[]; ctx: { main: Main; origin: string } } {
  const cli = new CliRegistry();
  const calls: string[] = [];
  const add = (path: string) =>
    cli.register({
      path,
      shortHelp: `${path} help`,
      run: (input) => {
        calls.push(`${path}|${input.rest()}`);
        return `ran ${path}`;
      },
    });
  ['show errors', 'show interface', 'show interface address', 'show ip fib', 'show ipsec sa', 'set interface state', 'ip route add'].forEach(add);
  cli.register({ path: 'show fail', shortHelp: 'fails', run: () => { throw new CliError('it broke'); } });
  return { cli, calls, ctx: { main: new Main(), origin: 'test' } };
}

describe('CLI matching', () => {
  it('matches unique prefixes per word', async () => {
    const { cli, calls, ctx } = registry();
    expect(await cli.execute('sh err', ctx)).toBe('ran show errors');
    expect(await cli.execute('sh int addr', ctx)).toBe('ran show interface address');
    expect(await cli.execute('set int st host-veth0 up', ctx)).toBe('ran set interface state');
    expect(calls).toContain('set interface state|host-veth0 up');
  });

  it('prefers an exact word over a longer one', async () => {
    const { cli, ctx } = registry();
    expect(await cli.execute('show ip fib', ctx)).toBe('ran show ip fib');
    await expect(cli.execute('show ips sa', ctx)).resolves.toBe('ran show ipsec sa');
  });

  it('hands words that match no deeper command to the deepest command', async () => {
    const { cli, calls, ctx } = registry();
    expect(await cli.execute('show interface host-eth0', ctx)).toBe('ran show interface');
    expect(calls.at(-1)).toBe('show interface|host-eth0');
  });

  it('reports unknown and ambiguous input VPP-style', async () => {
    const { cli, ctx } = registry();
    await expect(cli.execute('show bogus', ctx)).rejects.toThrow("show: unknown input `bogus'");
    await expect(cli.execute('frob', ctx)).rejects.toThrow("unknown input `frob'");
    // `i` is ambiguous under show (interface, ip, ipsec)
    await expect(cli.execute('show i', ctx)).rejects.toThrow("show: unknown input `i'");
    await expect(cli.execute('show', ctx)).rejects.toThrow("show: unknown input `'");
    await expect(cli.execute('show fail', ctx)).rejects.toThrow('show fail: it broke');
  });

  it('lists commands with ?', async () => {
    const { cli, ctx } = registry();
    const all = await cli.execute('?', ctx);
    expect(all).toContain('show errors');
    expect(all).toContain('ip route add');
    const show = await cli.execute('show ?', ctx);
    expect(show.split('\n').every((l) => l.trim().startsWith('show'))).toBe(true);
    expect(show).toMatch(/show interface address\s+show interface address help/);
    expect(await cli.execute('show errors ?', ctx)).toMatch(/^ {2}show errors\s+show errors help$/);
    expect(await cli.execute('', ctx)).toBe('');
  });

  it('refuses duplicate registrations and completes words', () => {
    const { cli } = registry();
    expect(() => cli.register({ path: 'show errors', shortHelp: '', run: () => undefined })).toThrow(/registered twice/);
    expect(cli.complete('sh')).toEqual(['set', 'show'].filter((w) => w.startsWith('sh')));
    expect(cli.complete('show i')).toEqual(['interface', 'ip', 'ipsec']);
  });
});
