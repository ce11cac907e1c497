// The CLI command tree. Each word of a path is a level; parents exist implicitly. Matching is per
// word: an exact word wins, else a unique prefix; `?` lists what is below a point with short help.

import { InputError, TokenInput } from '../control/token-input.js';
import { CliError, type CliCommandDesc, type CliContext } from './command.js';

interface CliNode {
  readonly word: string;
  readonly path: string;
  readonly children: Map<string, CliNode>;
  command?: CliCommandDesc;
}

/** Column where short help starts in `?` listings. */
const HELP_COLUMN = 40;

export class CliRegistry {
  private readonly root: CliNode = { word: '', path: '', children: new Map() };

  register(desc: CliCommandDesc): void {
    const words = desc.path.trim().split(/\s+/);
    let node = this.root;
    for (const word of words) {
      let child = node.children.get(word);
      if (!child) {
        child = { word, path: node.path ? `${node.path} ${word}` : word, children: new Map() };
        node.children.set(word, child);
      }
      node = child;
    }
    if (node.command) throw new Error(`CLI command \`${desc.path}' registered twice`);
    node.command = desc;
  }

  /** Every registered command, sorted by path. */
  commands(): CliCommandDesc[] {
    const out: CliCommandDesc[] = [];
    const walk = (n: CliNode): void => {
      if (n.command) out.push(n.command);
      for (const c of n.children.values()) walk(c);
    };
    walk(this.root);
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Picks the child for `word`: exact match first, then a unique prefix. */
  private matchChild(node: CliNode, word: string): CliNode | undefined {
    const exact = node.children.get(word);
    if (exact) return exact;
    let found: CliNode | undefined;
    for (const [w, child] of node.children) {
      if (w.startsWith(word)) {
        if (found) return undefined; // ambiguous
        found = child;
      }
    }
    return found;
  }

  /** Lists the commands at or below `node`, each with its short help. */
  private helpBelow(node: CliNode): string {
    const lines: string[] = [];
    const walk = (n: CliNode): void => {
      if (n.command) lines.push(`  ${n.path.padEnd(HELP_COLUMN - 3)} ${n.command.shortHelp}`);
      for (const c of [...n.children.values()].sort((a, b) => a.word.localeCompare(b.word))) walk(c);
    };
    walk(node);
    return lines.join('\n');
  }

  /**
   * Runs one command line and returns its output. Errors come back as CliError with VPP's texts:
   * ``<parent>: unknown input `…'`` for a path that matches nothing, `<path>: <message>` for a
   * handler's failure.
   */
  async execute(line: string, ctx: CliContext): Promise<string> {
    let input: TokenInput;
    try {
      input = TokenInput.fromLine(line);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    let node = this.root;
    let last: { node: CliNode; mark: number } | undefined;
    while (!input.atEnd()) {
      const word = input.peek()!;
      if (word === '?') return this.helpBelow(node);
      const child = this.matchChild(node, word);
      if (!child) break;
      input.word();
      node = child;
      if (node.command) last = { node, mark: input.mark() };
    }
    // Words past the deepest command that matched no deeper command are that command's arguments.
    if (!node.command && last) {
      node = last.node;
      input.rewind(last.mark);
    }
    if (!input.atEnd() && input.peek() === '?' && node.command) {
      return `  ${node.path.padEnd(HELP_COLUMN - 3)} ${node.command.shortHelp}`;
    }
    if (!node.command) {
      if (node === this.root && input.atEnd()) return '';
      const where = node.path;
      const rest = input.rest();
      throw new CliError(where ? `${where}: unknown input \`${rest}'` : `unknown input \`${rest}'`);
    }
    const cmd = node.command;
    const args = new TokenInput(input.takeRest(), cmd.path);
    try {
      const out = await cmd.run(args, ctx);
      return out ?? '';
    } catch (e) {
      if (e instanceof InputError) throw new CliError(e.message);
      if (e instanceof CliError) throw new CliError(`${cmd.path}: ${e.message}`);
      throw new CliError(`${cmd.path}: ${(e as Error).message ?? String(e)}`);
    }
  }

  /** Completions for a partial line (interactive CLIs): full words that may come next. */
  complete(line: string): string[] {
    const words = line.split(/\s+/);
    const partial = words.pop() ?? '';
    let node = this.root;
    for (const w of words.filter(Boolean)) {
      const child = this.matchChild(node, w);
      if (!child) return [];
      node = child;
    }
    return [...node.children.keys()].filter((w) => w.startsWith(partial)).sort();
  }
}
