// npm run tornet -- up|down|status [options]
//   up      start a private network, write its description to the state file and leave it running
//           (detached), or with --foreground keep it until ^C / SIGTERM
//   down    stop the recorded network by PID and remove its directories and the state file
//   status  print the recorded network and whether each daemon still runs
// State file: $ONIONPLANE_TORNET_STATE or $TMPDIR/onionplane-tornet/state.json (--state overrides).

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { isOurTorRunning } from './tornet/daemon.js';
import { defaultStatePath, loadTorNetState, readStateFile, startTorNet, writeStateFile, type TorNetOptions } from './tornet/index.js';

const USAGE = `usage: npm run tornet -- <up|down|status> [options]
  up options:
    --authorities N        directory authorities (default 3)
    --relays N             non-exit relays (default 3)
    --exits N              exits allowing 127.0.0.0/8 (default 2)
    --onion-service PORT   onion service (virtual port 80) forwarding to 127.0.0.1:PORT
    --onion-origin         onion service forwarding to a built-in origin server (needs --foreground)
    --no-client            no reference client
    --param k=v            consensus parameter (repeatable), e.g. --param sendme_accept_min_version=1
    --voting-interval S    seconds between consensuses (default 10)
    --root DIR             parent directory of the network root (default $TMPDIR)
    --timeout S            bring-up timeout (default 150)
    --foreground           stay attached; ^C or SIGTERM stops the network
  all:
    --state FILE           state file (default ${defaultStatePath()})
    --json                 status: print the raw JSON`;

function fail(message: string): never {
  process.stderr.write(`${message.startsWith('tornet') ? '' : 'tornet: '}${message}\n`);
  process.exit(1);
}

function daemonsOf(file: string) {
  const d = readStateFile(file);
  return [...d.authorities, ...d.relays, ...(d.onionService ? [d.onionService] : []), ...(d.client ? [d.client] : [])];
}

async function up(values: Record<string, unknown>, stateFile: string): Promise<void> {
  if (fs.existsSync(stateFile)) {
    const running = daemonsOf(stateFile).some((n) => isOurTorRunning(n.pid, n.torrcFile));
    if (running) fail(`a network is already running (${stateFile}); run "npm run tornet -- down" first`);
  }
  const foreground = values.foreground === true;
  let onionService: TorNetOptions['onionService'];
  if (values['onion-service'] !== undefined) onionService = { targetPort: Number(values['onion-service']) };
  else if (values['onion-origin'] === true) {
    if (!foreground) fail('--onion-origin serves from this process: add --foreground, or use --onion-service PORT');
    onionService = true;
  }
  const num = (k: string): number | undefined => (values[k] === undefined ? undefined : Number(values[k]));
  const net = await startTorNet({
    authorities: num('authorities'),
    relays: num('relays'),
    exits: num('exits'),
    onionService,
    referenceClient: values['no-client'] !== true,
    consensusParams: (values.param as string[] | undefined) ?? [],
    rootDir: values.root as string | undefined,
    votingIntervalSeconds: num('voting-interval'),
    timeoutMs: values.timeout === undefined ? undefined : Number(values.timeout) * 1000,
    ownedByThisProcess: foreground,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  writeStateFile(net.describe(), stateFile);
  process.stdout.write(JSON.stringify(net.describe(), null, 2) + '\n');
  process.stderr.write(`tornet: up in ${net.bringUpMs} ms; state in ${stateFile}\n`);
  if (!foreground) return;
  process.stderr.write('tornet: running in the foreground; ^C stops it\n');
  // The interval also keeps the event loop (and so this process) alive: signal listeners alone do not.
  const reason = await new Promise<string | undefined>((resolve) => {
    const watch = setInterval(() => {
      if (net.running()) return;
      clearInterval(watch);
      resolve(`a daemon exited:\n${net.logTails(15)}`);
    }, 2000);
    const done = (): void => {
      clearInterval(watch);
      resolve(undefined);
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await net.stop();
  fs.rmSync(stateFile, { force: true });
  if (reason !== undefined) fail(`stopped the network because ${reason}`);
  process.stderr.write('tornet: stopped\n');
}

async function down(stateFile: string): Promise<void> {
  if (!fs.existsSync(stateFile)) fail(`no state file at ${stateFile}: nothing to stop`);
  const net = loadTorNetState(stateFile);
  await net.stop();
  fs.rmSync(stateFile, { force: true });
  process.stderr.write(`tornet: stopped the network in ${net.root}\n`);
}

function status(stateFile: string, json: boolean): void {
  if (!fs.existsSync(stateFile)) {
    process.stdout.write(`no network recorded (${stateFile})\n`);
    process.exitCode = 3;
    return;
  }
  const d = readStateFile(stateFile);
  if (json) {
    process.stdout.write(JSON.stringify(d, null, 2) + '\n');
    return;
  }
  const nodes = daemonsOf(stateFile);
  const rows = nodes.map((n) => {
    const alive = isOurTorRunning(n.pid, n.torrcFile) ? 'running' : 'DEAD';
    const ports = [n.orPort && `or=${n.orPort}`, n.dirPort && `dir=${n.dirPort}`, n.socksPort && `socks=${n.socksPort}`].filter(Boolean).join(' ');
    return `  ${n.nickname.padEnd(8)} ${n.role.padEnd(13)} pid ${String(n.pid).padEnd(7)} ${alive.padEnd(7)} ${ports}${n.rsaFingerprint ? ` ${n.rsaFingerprint}` : ''}`;
  });
  const dead = nodes.filter((n) => !isOurTorRunning(n.pid, n.torrcFile)).length;
  process.stdout.write(
    [
      `root ${d.root} (started ${d.startedAt}, usable after ${d.bringUpMs} ms)`,
      ...d.dirAuthorityLines,
      d.socksPort !== undefined ? `reference client SOCKS 127.0.0.1:${d.socksPort}` : 'no reference client',
      d.onionAddress ? `onion service ${d.onionAddress}:${d.onionVirtualPort} -> 127.0.0.1:${d.onionServiceTarget}` : 'no onion service',
      d.consensusParams.length > 0 ? `consensus params ${d.consensusParams.join(' ')}` : 'no extra consensus params',
      ...rows,
    ].join('\n') + '\n',
  );
  if (dead > 0) process.exitCode = 2;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      authorities: { type: 'string' },
      relays: { type: 'string' },
      exits: { type: 'string' },
      'onion-service': { type: 'string' },
      'onion-origin': { type: 'boolean' },
      'no-client': { type: 'boolean' },
      param: { type: 'string', multiple: true },
      'voting-interval': { type: 'string' },
      root: { type: 'string' },
      timeout: { type: 'string' },
      foreground: { type: 'boolean' },
      state: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const stateFile = (values.state as string | undefined) ?? defaultStatePath();
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (command === 'up') await up(values, stateFile);
  else if (command === 'down') await down(stateFile);
  else if (command === 'status') status(stateFile, values.json === true);
  else fail(`unknown command "${command}"\n${USAGE}`);
}

main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
