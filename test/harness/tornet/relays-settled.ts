// A young private network settles slowly: C tor relays refuse to extend to, or open streams from,
// relays missing from their own cached consensus. Tests wait on the relays' cached documents.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TorNet, TorNode } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every relay's cached microdesc consensus lists every authority and relay. */
export async function waitUntilRelaysKnowEachOther(net: TorNet, timeoutMs = 120_000): Promise<void> {
  const nodes = [...net.authorities, ...net.relays];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = net.relays.every((n) => {
      const f = join(n.dataDir, 'cached-microdesc-consensus');
      const text = existsSync(f) ? readFileSync(f, 'latin1') : '';
      return nodes.every((o) => text.includes(`r ${o.nickname} `));
    });
    if (all) return;
    if (Date.now() > deadline) throw new Error('relays never learned each other');
    await sleep(1000);
  }
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
    for (const f of ['cached-consensus', 'cached-microdesc-consensus']) {
      const path = join(node.dataDir, f);
      const doc = existsSync(path) ? readFileSync(path, 'latin1') : '';
      if (entries.every((e) => doc.includes(e))) return doc;
    }
    if (Date.now() > deadline) throw new Error(`${node.nickname} never learned ${wanted.map((o) => o.nickname).join(', ')}`);
    await sleep(500);
  }
}
