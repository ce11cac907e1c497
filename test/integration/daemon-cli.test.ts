// The daemon started from a startup.conf and driven over its CLI socket: onionctl, a client doing
// vppctl's telnet negotiation byte for byte, misbehaving clients, config errors, plugins.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { SERVER_GREETING } from '../../src/cli/telnet.js';
import { DAEMON_BIN, ONIONCTL_BIN, onionctl, PACKAGE_ROOT, runDaemonExpectingFailure, startDaemonProcess, type DaemonProcess } from '../harness/daemon.js';

const FIXTURE_PLUGINS = join(PACKAGE_ROOT, 'test', 'fixtures', 'plugins');

describe('daemon over its CLI socket', () => {
  let d: DaemonProcess;
  beforeAll(async () => {
    d = await startDaemonProcess({
      config: `
        # a comment
        unix { nodaemon cli-listen $DIR/cli.sock log $DIR/onionplane.log exec $DIR/setup.gate gid daemon }
        socksvr { socket-name $DIR/api.sock }
        plugins { path ${FIXTURE_PLUGINS} }
        alpha { greeting bonjour }
        logging { default-log-level debug }
      `,
      files: { 'setup.gate': 'comment { set up by exec }\nclear errors\n' },
    });
  });
  afterAll(async () => {
    expect(await d.stop()).toBe(0);
  });

  it('answers onionctl: show version, sh plug, show errors, show runtime', async () => {
    const v = await onionctl(['-s', d.cliSocket, 'show', 'version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^onionplane v\d+\.\d+\.\d+ built with node v\d+/);
    const p = await onionctl(['-s', d.cliSocket, 'sh', 'plug']);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain(`Plugin path is: ${FIXTURE_PLUGINS}`);
    expect(p.stdout).toMatch(/1\. alpha\s+1\.2\.3\s+Test plugin alpha/);
    expect(p.stdout).toMatch(/beta\s+0\.0\.1\s+disabled/);
    expect(p.stdout).toMatch(/broken\s+0\.0\.1\s+failed: cannot find its frobnicator/);
    const e = await onionctl(['-s', d.cliSocket, 'show', 'errors']);
    expect(e.code).toBe(0);
    expect(e.stdout).toContain('Count');
    const r = await onionctl(['-s', d.cliSocket, 'show', 'runtime']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Time \d+\.\d, 10 sec internal node vector rate/);
  });

  it('creates the CLI socket with mode 0660 owned by the unix { gid } group', () => {
    const st = statSync(d.cliSocket);
    expect(st.mode & 0o777).toBe(0o660);
    const daemonGid = Number(readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith('daemon:'))!.split(':')[2]);
    expect(st.gid).toBe(daemonGid);
  });

  it('exits non-zero with the error on a CLI error', async () => {
    const r = await onionctl(['-s', d.cliSocket, 'show', 'nonsense']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("show: unknown input `nonsense'\n");
  });

  it('runs plugin commands with plugin config', async () => {
    expect((await d.cli('show alpha')).output).toBe('alpha says bonjour\n');
    expect((await d.cli('show beta')).failed).toBe(true);
  });

  it('speaks vppctl byte for byte', async () => {
    const sock = createConnection(d.cliSocket);
    const received: Buffer[] = [];
    let closed = false;
    sock.on('data', (b) => received.push(b));
    sock.on('close', () => (closed = true));
    const all = () => Buffer.concat(received);
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(cond()).toBe(true);
    };
    await until(() => all().length >= SERVER_GREETING.length);
    expect(all().subarray(0, SERVER_GREETING.length).equals(Buffer.from(SERVER_GREETING))).toBe(true);
    // vppctl: IAC SB TTYPE IS "vppctl" IAC SE, then "show version\n\0"
    sock.write(Buffer.concat([Buffer.from([255, 250, 24, 0]), Buffer.from('vppctl'), Buffer.from([255, 240])]));
    sock.write(Buffer.from('show version\n\0'));
    await until(() => all().includes(0, SERVER_GREETING.length));
    const answer = all().subarray(SERVER_GREETING.length);
    const text = answer.subarray(0, answer.indexOf(0)).toString();
    expect(text).toMatch(/^onionplane v\S+ built with node \S+ on \S+\r\n$/);
    expect(text).not.toContain('onionplane#');
    sock.write('quit\n');
    await until(() => closed);
    // After the NUL for `quit`, the server closed the connection.
    expect(all().subarray(SERVER_GREETING.length).filter((b) => b === 0).length).toBe(2);
  });

  it('serves other clients while one sends garbage and another vanishes mid-command', async () => {
    const garbage = createConnection(d.cliSocket);
    garbage.on('error', () => undefined);
    garbage.write(Buffer.from([255, 250, 24, 0, ...Buffer.from('vppctl'), 255, 240]));
    const junk = Buffer.alloc(200_000);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) & 0xff;
    garbage.write(junk);
    const vanish = createConnection(d.cliSocket);
    vanish.on('error', () => undefined);
    vanish.write(Buffer.from([255, 250, 24, 0, ...Buffer.from('vppctl'), 255, 240]));
    vanish.write('show runtime verbose\n\0');
    vanish.destroy();
    const results = await Promise.all(Array.from({ length: 5 }, () => d.cli('show version')));
    for (const r of results) expect(r.output).toMatch(/^onionplane v/);
    garbage.destroy();
    expect((await d.cli('show errors')).failed).toBe(false);
  });

  it('serves the binary API on the socksvr socket', async () => {
    const r = await onionctl(['api', '--socket', join(d.dir, 'api.sock'), 'show_version']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ retval: 0, program: 'onionplane' });
    const ifs = await onionctl(['api', '--socket', join(d.dir, 'api.sock'), 'sw_interface_dump']);
    expect(JSON.parse(ifs.stdout)[0]).toMatchObject({ sw_if_index: 0, interface_name: 'local0' });
    const plugins = await onionctl(['api', '--socket', join(d.dir, 'api.sock'), 'plugin_dump']);
    expect(JSON.parse(plugins.stdout).map((p: { name: string }) => p.name)).toEqual(['alpha', 'beta', 'broken']);
  });

  it('sends events to API subscribers', async () => {
    const client = await ApiClient.connect(join(d.dir, 'api.sock'));
    try {
      const events: { sw_if_index: number; flags: number }[] = [];
      const unsubscribe = await client.subscribe('want_interface_events', (e) => events.push(e as { sw_if_index: number; flags: number }));
      const r = await client.call('sw_interface_set_flags', { sw_if_index: 0, flags: 1 });
      expect(r.retval).toBe(0);
      for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((res) => setTimeout(res, 20));
      expect(events[0]).toMatchObject({ sw_if_index: 0, flags: 1 });
      expect((await d.cli('show interface')).output).toMatch(/local0\s+0\s+up/);
      await unsubscribe();
      const bad = await client.call('sw_interface_set_flags', { sw_if_index: 77, flags: 1 }).catch((e: Error) => e);
      expect(String(bad)).toMatch(/-\d+|INVALID/);
    } finally {
      client.close();
    }
  });

  it('runs onionctl interactively on a terminal with tab completion and history', async () => {
    // A pseudo-terminal driven by python's pty module: type `sh<TAB>ver<Enter>`, then recall it
    // with the up arrow, then quit.
    const script = [
      'import os, pty, sys, time',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      `    os.execvp(${JSON.stringify(process.execPath)}, ["node", ${JSON.stringify(ONIONCTL_BIN)}, "-s", ${JSON.stringify(d.cliSocket)}])`,
      'out = b""',
      'def pump(t):',
      '    global out',
      '    end = time.time() + t',
      '    while time.time() < end:',
      '        try:',
      '            import select',
      '            r, _, _ = select.select([fd], [], [], 0.1)',
      '            if r: out += os.read(fd, 4096)',
      '        except OSError: break',
      'pump(1.5)',
      'os.write(fd, b"sh"); pump(0.3)',
      'os.write(fd, b"\\t"); pump(0.5)',
      'os.write(fd, b"ver\\r"); pump(1.0)',
      'os.write(fd, b"\\x1b[A\\r"); pump(1.0)',
      'os.write(fd, b"quit\\r"); pump(1.0)',
      'sys.stdout.write(out.decode("utf8", "replace"))',
    ].join('\n');
    const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    await new Promise((r) => child.once('exit', r));
    expect(err).toBe('');
    expect(out).toContain('onionplane# ');
    // Completed `sh` to `show ` and ran it; the history recalled it for a second run.
    expect(out).toMatch(/show ver/);
    expect(out.match(/onionplane v\S+ built with node/g)?.length).toBe(2);
  }, 20_000);

  it('ran the exec file at startup and logs to the configured file', async () => {
    const log = await d.cli('show log');
    expect(log.output).toMatch(/Loaded plugin: alpha/);
    expect(existsSync(join(d.dir, 'onionplane.log'))).toBe(true);
  });
});

describe('configuration errors', () => {
  it('exits non-zero naming the section and words, leaving no socket behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onionplane-badconf-'));
    try {
      const sock = join(dir, 'cli.sock');
      const conf = join(dir, 'startup.conf');
      writeFileSync(conf, `unix { cli-listen ${sock} }\nfrobnicate { harder 3 }\n`);
      let r = await runDaemonExpectingFailure(['-c', conf]);
      expect(r.code).toBe(1);
      expect(r.output).toContain("unknown input `frobnicate { harder 3 }'");
      expect(existsSync(sock)).toBe(false);

      writeFileSync(conf, `unix { cli-listen ${sock} bogus-key 42 }\n`);
      r = await runDaemonExpectingFailure(['-c', conf]);
      expect(r.code).toBe(1);
      expect(r.output).toContain("unix: unknown input `bogus-key 42'");
      expect(existsSync(sock)).toBe(false);

      r = await runDaemonExpectingFailure(['unix', '{', 'cli-listen', sock, '}', 'logging', '{', 'default-log-level', 'loud', '}']);
      expect(r.code).toBe(1);
      expect(r.output).toMatch(/logging: unknown log level `loud'/);
      expect(existsSync(sock)).toBe(false);

      r = await runDaemonExpectingFailure(['-c', join(dir, 'missing.conf')]);
      expect(r.code).toBe(2);
      expect(r.output).toMatch(/cannot read .*missing\.conf: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('plugins', () => {
  it('enables and disables plugins from startup.conf; a disabled plugin section is unknown', async () => {
    const d = await startDaemonProcess({
      config: `unix { cli-listen $DIR/cli.sock }
        plugins { path ${FIXTURE_PLUGINS} plugin default { disable } plugin beta { enable } }`,
    });
    try {
      expect((await d.cli('show beta')).output).toBe('beta is here\n');
      const alpha = await d.cli('show alpha');
      expect(alpha.failed).toBe(true);
      expect((await d.cli('show plugins')).output).toMatch(/1\. beta/);
    } finally {
      await d.stop();
    }
    const r = await runDaemonExpectingFailure(['plugins', '{', 'path', FIXTURE_PLUGINS, 'plugin', 'alpha', '{', 'disable', '}', '}', 'alpha', '{', 'greeting', 'x', '}']);
    expect(r.code).toBe(1);
    expect(r.output).toContain("unknown input `alpha { greeting x }'");
  });
});

describe('interactive CLI on stdin', () => {
  it('prompts, runs commands and exits on quit', async () => {
    const child = spawn(process.execPath, [DAEMON_BIN, 'unix', '{', 'interactive', '}', 'plugins', '{', 'path', FIXTURE_PLUGINS, '}'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stdin.write('sh ver\n');
    for (let i = 0; i < 200 && !out.includes('built with'); i++) await new Promise((r) => setTimeout(r, 20));
    child.stdin.write('quit\n');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(out).toContain('onionplane# ');
    expect(out).toMatch(/onionplane v\S+ built with node/);
  });
});
