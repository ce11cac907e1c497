import { isIP } from 'node:net';

/** IPv4/IPv6 literal → bytes; null for anything else (we never resolve names here). */
export function ipToBytes(ip: string): { type: 4 | 6; bytes: Uint8Array } | null {
  const v = isIP(ip);
  if (v === 4) return { type: 4, bytes: Uint8Array.from(ip.split('.').map(Number)) };
  if (v === 6) {
    const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
    const parse = (s: string | undefined): number[] => (s ? s.split(':').filter((x) => x.length > 0) : []).flatMap((g) => {
      if (g.includes('.')) {
        const b = g.split('.').map(Number);
        return [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
      }
      return [parseInt(g, 16)];
    });
    const h = parse(head);
    const t = parse(tail);
    const groups = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
    if (groups.length !== 8) return null;
    const out = new Uint8Array(16);
    groups.forEach((g, i) => {
      out[2 * i] = g >>> 8;
      out[2 * i + 1] = g & 0xff;
    });
    return { type: 6, bytes: out };
  }
  return null;
}
