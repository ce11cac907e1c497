// Destination addresses as SOCKS carries them: IPv4, IPv6 or a hostname (never resolved here).

export type SocksTarget =
  | { readonly kind: 'host'; readonly host: string; readonly port: number }
  | { readonly kind: 'ipv4'; readonly addr: string; readonly port: number }
  | { readonly kind: 'ipv6'; readonly addr: string; readonly port: number };

export const MAX_HOSTNAME_LEN = 255;

export function formatIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function ipv4ToU32(b: Uint8Array, off = 0): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** Dotted quad -> 4 bytes, or undefined when not a strict dotted quad. */
export function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

/** RFC 5952 text form of 16 bytes: lower case, longest zero run (>=2 groups) as "::". */
export function formatIpv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (x: number) => x.toString(16);
  if (bestLen < 2) return g.map(hex).join(':');
  const left = g.slice(0, bestStart).map(hex).join(':');
  const right = g.slice(bestStart + bestLen).map(hex).join(':');
  return `${left}::${right}`;
}

/** IPv6 text (optionally bracketed, optional embedded IPv4 tail) -> 16 bytes, or undefined. */
export function parseIpv6(input: string): Uint8Array | undefined {
  let s = input;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (s.length < 2 || s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let tail: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    tail = parseIpv4(s.slice(lastColon + 1));
    if (!tail) return undefined;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const h of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(h)) return undefined;
      out.push(parseInt(h, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  let all: number[];
  if (halves.length === 2) {
    if (head.length + rest.length > 7) return undefined;
    all = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    if (head.length !== 8) return undefined;
    all = head;
  }
  const out = new Uint8Array(16);
  all.forEach((v, i) => { out[2 * i] = v >> 8; out[2 * i + 1] = v & 0xff; });
  if (tail) out.set(tail, 12);
  return out;
}

/** True when a hostname string is really an IP literal (what safe-socks treats as "IP-only"). */
export function isIpLiteral(host: string): boolean {
  return parseIpv4(host) !== undefined || parseIpv6(host) !== undefined;
}

/**
 * A destination name Tor would accept: an IP literal, or labels of letters, digits, '-' and '_'
 * separated by single dots (a trailing dot allowed). Anything else (controls, spaces, NULs,
 * non-ASCII, empty labels) is refused before it can reach a circuit.
 */
export function isValidDestination(host: string): boolean {
  if (host.length === 0 || host.length > MAX_HOSTNAME_LEN) return false;
  if (isIpLiteral(host)) return true;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0) return false;
  return name.split('.').every((label) => /^[A-Za-z0-9_-]{1,63}$/.test(label));
}

/** Target after parsing a hostname field: IP literals stay hostnames, as the client sent them. */
export function targetIsIpOnly(t: SocksTarget): boolean {
  return t.kind !== 'host' || isIpLiteral(t.host);
}

/** Text form for isolation keys and debugging (never logged by default). */
export function formatTarget(t: SocksTarget): string {
  switch (t.kind) {
    case 'host': return `${t.host}:${t.port}`;
    case 'ipv4': return `${t.addr}:${t.port}`;
    case 'ipv6': return `[${t.addr}]:${t.port}`;
  }
}

/**
 * Addresses that name this host or a private network (C tor's "internal" set): 0/8, 10/8, 127/8,
 * 169.254/16, 172.16/12, 192.168/16; ::, ::1, fc00::/7, fe80::/10, fec0::/10, and IPv4-mapped forms.
 * Applies to address targets and to hostnames that are IP literals, plus "localhost".
 */
export function isInternalTarget(t: SocksTarget): boolean {
  if (t.kind === 'host') {
    const h = t.host.toLowerCase().replace(/\.$/, '');
    if (h === 'localhost' || h.endsWith('.localhost')) return true;
    const v4 = parseIpv4(t.host);
    if (v4) return isInternalIpv4(v4);
    const v6 = parseIpv6(t.host);
    return v6 ? isInternalIpv6(v6) : false;
  }
  if (t.kind === 'ipv4') {
    const v4 = parseIpv4(t.addr);
    return v4 ? isInternalIpv4(v4) : false;
  }
  const v6 = parseIpv6(t.addr);
  return v6 ? isInternalIpv6(v6) : false;
}

function isInternalIpv4(b: Uint8Array): boolean {
  const [a, c] = [b[0]!, b[1]!];
  return a === 0 || a === 10 || a === 127 || (a === 169 && c === 254) || (a === 172 && c >= 16 && c <= 31) || (a === 192 && c === 168);
}

function isInternalIpv6(b: Uint8Array): boolean {
  const zeroTo = (n: number) => b.subarray(0, n).every((x) => x === 0);
  if (zeroTo(10) && b[10] === 0xff && b[11] === 0xff) return isInternalIpv4(b.subarray(12));
  if (zeroTo(15) && (b[15] === 0 || b[15] === 1)) return true;
  if ((b[0]! & 0xfe) === 0xfc) return true; // fc00::/7
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return true; // fe80::/10
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return true; // fec0::/10
  return false;
}
