// A young private network settles slowly: C tor relays refuse to extend to, or open streams from,
// relays missing from their own cached consensus. startTorNet waits until every relay knows every
// node; tests that need more (a relay's view of itself) wait again on the cached documents.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TorNode } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Whether both of `node`'s cached consensuses (the ns flavor a relay uses for itself, the microdesc flavor
 * it serves to clients) list every one of `nodes` by nickname.
 */
export function knowsEveryNode(node: TorNode, nodes: readonly TorNode[]): boolean {
  return cachedConsensuses(node).every((text) => nodes.every((o) => text.includes(`r ${o.nickname} `)));
}

/** `node`'s cached ns and microdesc consensuses ('' where there is none yet). */
function cachedConsensuses(node: TorNode): string[] {
  return ['cached-consensus', 'cached-microdesc-consensus'].map((f) => {
    const path = join(node.dataDir, f);
    return existsSync(path) ? readFileSync(path, 'latin1') : '';
  });
}

/**
 * Waits until one of `node`'s cached consensuses lists every one of `others` (by nickname and
 * identity); returns that document. A relay's consensus may list its peers before itself.
 */
export async function waitUntilKnows(node: TorNode, others: TorNode | readonly TorNode[], timeoutMs = 120_000): Promise<string> {
  const wanted = (Array.isArray(others) ? others : [others]) as readonly TorNode[];
  const entries = wanted.map((o) => `r ${o.nickname} ${Buffer.from(o.rsaFingerprint!, 'hex').toString('base64').replace(/=+$/, '')} `);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const doc = cachedConsensuses(node).find((text) => entries.every((e) => text.includes(e)));
    if (doc !== undefined) return doc;
    if (Date.now() > deadline) throw new Error(`${node.nickname} never learned ${wanted.map((o) => o.nickname).join(', ')}`);
    await sleep(500);
  }
}
