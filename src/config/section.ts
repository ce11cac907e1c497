// startup.conf section descriptors: a section name and a parser for its contents. Parsing has no
// side effects, so the whole file is checked before anything starts.

import type { TokenInput } from '../control/token-input.js';

export interface ConfigSectionDesc<T = unknown> {
  readonly name: string;
  /** Parses the section's (concatenated) contents; throws InputError (`<name>: unknown input ...`). */
  readonly parse: (input: TokenInput) => T;
}
