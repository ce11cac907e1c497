import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Raw documents as received, so a restart can skip the network while they are reasonably live. */
export interface CachedDocuments {
  readonly certs: Buffer | undefined;
  readonly consensus: Buffer | undefined;
  readonly microdescs: Buffer | undefined;
}

const FILES = { certs: 'cached-certs', consensus: 'cached-microdesc-consensus', microdescs: 'cached-microdescs' } as const;

export class DirCache {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  async load(): Promise<CachedDocuments> {
    const read = async (name: string): Promise<Buffer | undefined> => {
      try {
        return await readFile(join(this.dir, name));
      } catch {
        return undefined;
      }
    };
    return { certs: await read(FILES.certs), consensus: await read(FILES.consensus), microdescs: await read(FILES.microdescs) };
  }

  async store(kind: keyof typeof FILES, data: Uint8Array | string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, FILES[kind]);
    // Write-then-rename so a crash never leaves a half-written document behind.
    await writeFile(`${path}.tmp`, data, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }
}
