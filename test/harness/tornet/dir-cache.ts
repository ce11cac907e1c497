// Whether a relay, as a directory cache, already holds the microdesc consensus and the microdescriptors a
// client will ask it for. Read from the files tor keeps in its data directory: a client started before
// its guards have them gets 404s and then waits tor's fixed 10 s descriptor retry.

import fs from 'node:fs';
import path from 'node:path';

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return '';
  }
}

/** `valid-after` of the cached microdesc consensus ("YYYY-MM-DD HH:MM:SS", sorts as text), if any. */
export function cachedConsensusValidAfter(dataDir: string): string | undefined {
  const m = /^valid-after (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$/m.exec(read(path.join(dataDir, 'cached-microdesc-consensus')));
  return m?.[1];
}

/** Microdescriptors in the cache and its journal (each has exactly one ntor-onion-key line). */
export function cachedMicrodescCount(dataDir: string): number {
  const text = read(path.join(dataDir, 'cached-microdescs')) + read(path.join(dataDir, 'cached-microdescs.new'));
  return text.match(/^ntor-onion-key /gm)?.length ?? 0;
}

export function cacheReady(dataDir: string, validAfter: string, relays: number): boolean {
  const cached = cachedConsensusValidAfter(dataDir);
  return cached !== undefined && cached >= validAfter && cachedMicrodescCount(dataDir) >= relays;
}
