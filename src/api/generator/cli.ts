#!/usr/bin/env node
// onionplane's vppapigen: `node dist/src/api/generator/cli.js --out <dir> [-I <dir>]... [--check] <file.api>...`
// writes <dir>/<file>.api.json (vppapigen's JSON, same CRCs) and <dir>/<file>.api.ts for every input.
// With --check nothing is written; the exit code is 1 when a file on disk differs from what would be.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateModule } from './generate.js';

function usage(): never {
  process.stderr.write('usage: cli.js --out <dir> [-I <include-dir>]... [--check] <file.api>...\n');
  process.exit(2);
}

export function main(argv: string[]): number {
  let out: string | null = null;
  let check = false;
  const includes: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out') out = argv[++i] ?? usage();
    else if (a === '-I' || a === '--includedir') includes.push(argv[++i] ?? usage());
    else if (a === '--check') check = true;
    else if (a.startsWith('-')) usage();
    else files.push(a);
  }
  if (!out || files.length === 0) usage();
  let stale = 0;
  for (const f of files) {
    let g;
    try {
      g = generateModule(f, includes);
    } catch (e) {
      process.stderr.write(`${f}: ${(e as Error).message}\n`);
      return 1;
    }
    for (const [name, text] of [[`${g.apiFile}.json`, g.jsonText], [`${g.apiFile}.ts`, g.tsText]] as const) {
      const target = path.join(out, name);
      if (check) {
        const cur = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
        if (cur !== text) {
          process.stderr.write(`stale: ${target}\n`);
          stale++;
        }
      } else {
        fs.mkdirSync(out, { recursive: true });
        fs.writeFileSync(target, text);
      }
    }
  }
  return stale ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = main(process.argv.slice(2));
}
