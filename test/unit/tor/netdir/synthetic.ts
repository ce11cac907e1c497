import { createHash } from 'node:crypto';

/** Builders for unsigned synthetic directory documents (selection tests need no signatures). */

export interface SynthRelay {
  nick: string;
  ip: string;
  flags: string[];
  bw: number;
  /** microdesc extra lines, e.g. `p accept 80` or `family $HEX` */
  md?: string[];
}

export function rsaIdOf(nick: string): Buffer {
  return createHash('sha1').update(nick).digest();
}

export function hexIdOf(nick: string): string {
  return rsaIdOf(nick).toString('hex').toUpperCase();
}

export function microdescText(r: SynthRelay): string {
  const ntor = createHash('sha256').update('ntor' + r.nick).digest('base64').replace(/=+$/, '');
  return `onion-key\nntor-onion-key ${ntor}\n${(r.md ?? []).map((l) => l + '\n').join('')}`;
}

export function consensusText(relays: SynthRelay[], weights = '', params = ''): string {
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  const lines = [
    'network-status-version 3 microdesc',
    'vote-status consensus',
    'consensus-method 35',
    'valid-after 2026-01-01 00:00:00',
    'fresh-until 2026-01-01 01:00:00',
    'valid-until 2026-01-01 03:00:00',
    'voting-delay 300 300',
    'known-flags BadExit Exit Fast Guard Running Stable V2Dir Valid',
  ];
  if (params) lines.push(`params ${params}`);
  lines.push(`dir-source a ${'AB'.repeat(20)} 10.0.0.1 10.0.0.1 80 443`, 'contact x', `vote-digest ${'00'.repeat(20)}`);
  for (const r of relays) {
    const md = createHash('sha256').update(microdescText(r), 'latin1').digest();
    lines.push(`r ${r.nick} ${b64(rsaIdOf(r.nick))} 2038-01-01 00:00:00 ${r.ip} 9001 0`, `m ${b64(md)}`, `s ${r.flags.join(' ')}`, `w Bandwidth=${r.bw}`);
  }
  lines.push('directory-footer');
  if (weights) lines.push(`bandwidth-weights ${weights}`);
  lines.push(`directory-signature sha256 ${'AB'.repeat(20)} ${'CD'.repeat(20)}`, '-----BEGIN SIGNATURE-----', 'AAAA', '-----END SIGNATURE-----');
  return lines.join('\n') + '\n';
}

/** Deterministic RandomSource (mulberry32). */
export function seededRandom(seed: number): { next(): number } {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
