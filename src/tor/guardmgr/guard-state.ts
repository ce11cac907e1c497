// Persistent guard state (guard-spec §4.1, A.5): the sampled set in sample order, with confirmation
// order and reachability. Stored as one JSON file in the data directory, written atomically.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SampledGuard {
  /** Upper-case hex RSA identity. */
  readonly id: string;
  nickname: string;
  /** When it entered the sample (ms). */
  readonly addedAt: number;
  /** When the current consensus stopped listing it as a usable guard; null while listed. */
  unlistedSince: number | null;
  /** Position in the confirmed list: when we first built a circuit through it; null = unconfirmed. */
  confirmedAt: number | null;
  /** Last connection attempt (ms) and whether it failed; failures make it unreachable for a while. */
  lastTriedAt: number | null;
  failingSince: number | null;
}

export interface GuardStateFile {
  readonly version: 1;
  readonly sampled: SampledGuard[];
}

export const GUARD_STATE_FILE = 'guards.json';

export function emptyGuardState(): GuardStateFile {
  return { version: 1, sampled: [] };
}

function isSampledGuard(v: unknown): v is SampledGuard {
  if (typeof v !== 'object' || v === null) return false;
  const g = v as Record<string, unknown>;
  const numOrNull = (x: unknown) => x === null || typeof x === 'number';
  return (
    typeof g['id'] === 'string' && /^[0-9A-F]{40}$/.test(g['id']) && typeof g['nickname'] === 'string' && typeof g['addedAt'] === 'number' &&
    numOrNull(g['unlistedSince']) && numOrNull(g['confirmedAt']) && numOrNull(g['lastTriedAt']) && numOrNull(g['failingSince'])
  );
}

/** Parse a state file; anything malformed yields an empty state (the sample is rebuilt). */
export function parseGuardState(text: string): GuardStateFile {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (v['version'] !== 1 || !Array.isArray(v['sampled'])) return emptyGuardState();
    const seen = new Set<string>();
    const sampled = (v['sampled'] as unknown[]).filter(isSampledGuard).filter((g) => !seen.has(g.id) && seen.add(g.id));
    return { version: 1, sampled: sampled.slice(0, 1000) };
  } catch {
    return emptyGuardState();
  }
}

/** Where guard state lives and how it is read and written. */
export interface GuardStore {
  load(): Promise<GuardStateFile>;
  save(state: GuardStateFile): Promise<void>;
}

/** `<dataDir>/guards.json`, replaced atomically (write to a temp file, rename). */
export function fileGuardStore(dataDir: string): GuardStore {
  const file = join(dataDir, GUARD_STATE_FILE);
  let writing: Promise<void> = Promise.resolve();
  return {
    async load() {
      try {
        return parseGuardState(await readFile(file, 'utf8'));
      } catch {
        return emptyGuardState();
      }
    },
    save(state) {
      const text = JSON.stringify(state, null, 1);
      // Serialise writes so an older state never lands after a newer one.
      writing = writing.then(async () => {
        await mkdir(dataDir, { recursive: true, mode: 0o700 });
        const tmp = `${file}.tmp`;
        await writeFile(tmp, text, { mode: 0o600 });
        await rename(tmp, file);
      }).catch(() => undefined);
      return writing;
    },
  };
}

/** In-memory store (no data directory configured). */
export function memoryGuardStore(): GuardStore & { state: GuardStateFile } {
  const s = {
    state: emptyGuardState(),
    async load() {
      return parseGuardState(JSON.stringify(s.state));
    },
    async save(state: GuardStateFile) {
      s.state = parseGuardState(JSON.stringify(state));
    },
  };
  return s;
}
