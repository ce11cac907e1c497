// startup.conf as VPP reads it: one token stream of `name value` pairs at top level, a value being
// a balanced `{ … }` block or one word; a section given twice is concatenated.

import { CLOSE, InputError, OPEN, TokenInput, tokenize, type Token } from '../control/token-input.js';

export interface StartupConfig {
  /** Section name → its tokens, concatenated over repeats, in first-seen order. */
  readonly sections: ReadonlyMap<string, readonly Token[]>;
}

export function parseStartupConfig(text: string): StartupConfig {
  const tokens = tokenize(text, true);
  const top = new TokenInput(tokens);
  const sections = new Map<string, Token[]>();
  while (!top.atEnd()) {
    const name = top.word();
    if (name === undefined) throw new InputError(`unknown input \`${top.rest()}'`);
    // A word value (`api-trace on`) and a block value are the same to the section parser.
    const value = top.blockOrWord(name);
    if (!value) throw new InputError(`unknown input \`${[name, top.rest()].filter(Boolean).join(' ')}'`);
    const valueTokens = value.takeRest();
    const list = sections.get(name) ?? [];
    list.push(...valueTokens);
    sections.set(name, list);
  }
  return { sections };
}

/** The section's contents as an input whose errors are prefixed with the section name. */
export function sectionInput(config: StartupConfig, name: string): TokenInput {
  return new TokenInput(config.sections.get(name) ?? [], name);
}

/** How an unknown section is reported: ``unknown input `NAME { … }'``. */
export function unknownSectionError(config: StartupConfig, name: string): InputError {
  const body = (config.sections.get(name) ?? []).map((t) => (t === '' || /[\s{}"]/.test(t) ? JSON.stringify(t) : t));
  return new InputError(`unknown input \`${name} { ${body.join(' ')} }'`.replace('{  }', '{ }'));
}

export { OPEN, CLOSE };
