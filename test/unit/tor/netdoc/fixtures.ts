import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../../fixtures/tor/netdoc/', import.meta.url));

/** Raw bytes of a captured document. */
export function fixture(name: string): Buffer {
  return readFileSync(dir + name);
}

export function dirAuthorityLines(): string[] {
  return fixture('dir-authorities.txt').toString('latin1').split('\n').filter((l) => l.trim() !== '');
}
