// Just enough of the ns-flavour consensus (dir-spec §3.4.1) to tell whether the private network is complete:
// which relays it lists, with what flags. Parsing is pure; fetchConsensus is the only I/O.

import http from 'node:http';

export interface ConsensusRelay {
  nickname: string;
  /** 40 upper-case hex digits. */
  rsaFingerprint: string;
  address: string;
  orPort: number;
  dirPort: number;
  flags: string[];
}

export interface ConsensusSummary {
  validAfter?: string;
  freshUntil?: string;
  validUntil?: string;
  params: Record<string, number>;
  relays: ConsensusRelay[];
}

function b64ToHex(b64: string): string {
  return Buffer.from(b64, 'base64').toString('hex').toUpperCase();
}

export function parseConsensusSummary(text: string): ConsensusSummary {
  const summary: ConsensusSummary = { params: {}, relays: [] };
  let current: ConsensusRelay | undefined;
  for (const line of text.split('\n')) {
    const words = line.split(' ');
    switch (words[0]) {
      case 'valid-after':
        summary.validAfter = words.slice(1).join(' ');
        break;
      case 'fresh-until':
        summary.freshUntil = words.slice(1).join(' ');
        break;
      case 'valid-until':
        summary.validUntil = words.slice(1).join(' ');
        break;
      case 'params':
        for (const kv of words.slice(1)) {
          const eq = kv.indexOf('=');
          if (eq > 0) summary.params[kv.slice(0, eq)] = Number(kv.slice(eq + 1));
        }
        break;
      case 'r':
        // r nickname identity digest YYYY-MM-DD HH:MM:SS IP ORPort DirPort
        if (words.length < 9) break;
        current = {
          nickname: words[1]!,
          rsaFingerprint: b64ToHex(words[2]!),
          address: words[6]!,
          orPort: Number(words[7]),
          dirPort: Number(words[8]),
          flags: [],
        };
        summary.relays.push(current);
        break;
      case 's':
        if (current) current.flags = words.slice(1).filter((w) => w.length > 0);
        break;
      case 'directory-footer':
        current = undefined;
        break;
    }
  }
  return summary;
}

/** Fingerprints from `expected` that the consensus does not list as Running and Valid. */
export function missingRelays(summary: ConsensusSummary, expected: readonly string[]): string[] {
  const usable = new Set(
    summary.relays.filter((r) => r.flags.includes('Running') && r.flags.includes('Valid')).map((r) => r.rsaFingerprint),
  );
  return expected.filter((fp) => !usable.has(fp.toUpperCase()));
}

/** GET a document from a DirPort; resolves undefined on 404/503 (not there yet), rejects on transport errors. */
export function fetchDirDocument(dirPort: number, path: string, timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: dirPort, path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(res.statusCode === 200 ? Buffer.concat(chunks).toString('utf8') : undefined));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`DirPort ${dirPort}${path}: timed out`)));
    req.on('error', reject);
  });
}

export async function fetchConsensus(dirPort: number): Promise<ConsensusSummary | undefined> {
  const text = await fetchDirDocument(dirPort, '/tor/status-vote/current/consensus');
  return text === undefined ? undefined : parseConsensusSummary(text);
}
