// What a stream or RESOLVE target names, before anything is sent: some names must never reach an exit.
// - IP literals: RESOLVE of an address is that address (C tor answers it locally).
// - `.onion`: an onion service address; this client has no onion-service client, and asking an exit would
//   tell it (and its DNS resolver) which service the user wants.
// - `.exit`: the old exit-selection notation, refused as C tor refuses it since AllowDotExit went away.
import { isIP } from 'node:net';

export type TargetKind = 'ipv4' | 'ipv6' | 'onion' | 'exit' | 'hostname';

export function targetKind(name: string): TargetKind {
  const v = isIP(name);
  if (v === 4) return 'ipv4';
  if (v === 6) return 'ipv6';
  const n = name.toLowerCase().replace(/\.$/, '');
  if (n === 'onion' || n.endsWith('.onion')) return 'onion';
  if (n === 'exit' || n.endsWith('.exit')) return 'exit';
  return 'hostname';
}

/** The bytes of an IP literal (`kind` from targetKind). */
export function ipLiteralBytes(name: string, kind: 'ipv4' | 'ipv6'): Uint8Array {
  if (kind === 'ipv4') return Uint8Array.from(name.split('.'), Number);
  const [head = '', tail = ''] = name.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
  const groups = (parts: string[]): number[] =>
    parts.flatMap((p) => (p.includes('.') ? ((b) => [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!])(p.split('.').map(Number)) : [parseInt(p, 16)]));
  const hg = groups(h);
  const tg = groups(t);
  const all = name.includes('::') ? [...hg, ...Array<number>(8 - hg.length - tg.length).fill(0), ...tg] : hg;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >>> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}
