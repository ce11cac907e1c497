// The harness DNS server as its own process, for a network that outlives the process that started it
// (`npm run tornet -- up` without --foreground). Usage: node dns-serve.js <zone.json>
// zone.json: { "zone": "...", "records": { name: address | [addresses] }, "host": "127.0.0.1" }.
// Once listening it writes {"port": N} to <zone.json>.port (atomically); SIGTERM/SIGINT stop it.
// The zone file's path is on the command line so the harness can verify the PID before signalling it.

import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { portFileOf, startDnsServer } from './dns-server.js';
import type { DnsRecords } from './dns-zone.js';

async function main(zoneFile: string): Promise<void> {
  const spec = JSON.parse(fs.readFileSync(zoneFile, 'utf8')) as { zone?: string; records: DnsRecords; host?: string };
  const server = await startDnsServer({ records: spec.records, zone: spec.zone, host: spec.host });
  const tmp = `${portFileOf(zoneFile)}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ port: server.port }) + '\n');
  fs.renameSync(tmp, portFileOf(zoneFile));
  const stop = (): void => void server.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => undefined);
}

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const zoneFile = process.argv[2];
  if (zoneFile === undefined) {
    process.stderr.write('usage: dns-serve.js <zone.json>\n');
    process.exit(2);
  }
  main(zoneFile).catch((e: unknown) => {
    process.stderr.write(`dns-serve: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
