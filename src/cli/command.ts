// CLI command descriptors: a path of words, a short help, and a handler that takes the remaining
// input and returns the text to print. A handler error prints as `<path>: <message>`.

import type { TokenInput } from '../control/token-input.js';
import type { Main } from '../core/main.js';

export interface CliContext {
  readonly main: Main;
  /** Who runs the command, for logs: 'stdin', 'cli-socket', 'exec', 'api'. */
  readonly origin: string;
  /** Ends the session the command came from (`quit`); absent where there is none. */
  readonly quit?: () => void;
}

export type CliOutput = string | void;

export interface CliCommandDesc {
  /** Words from the root, e.g. `show interface`. */
  readonly path: string;
  /** One line: the syntax, as VPP's short_help. */
  readonly shortHelp: string;
  readonly run: (input: TokenInput, ctx: CliContext) => CliOutput | Promise<CliOutput>;
}

/** A handler's failure; printed as `<path>: <message>`. */
export class CliError extends Error {
  override readonly name = 'CliError';
}
