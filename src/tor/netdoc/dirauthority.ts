import { NetDocError } from './errors.js';

/** A configured directory authority, from a C tor `DirAuthority` line. */
export interface DirAuthority {
  readonly nickname: string | undefined;
  /** Upper-case hex of the v3 authority identity (`v3ident=`); empty for non-v3 authorities. */
  readonly v3ident: string;
  readonly address: string;
  readonly dirPort: number;
  readonly orPort: number | undefined;
  readonly ipv6OrAddress: string | undefined;
  /** Upper-case hex RSA identity fingerprint of the authority's relay key. */
  readonly rsaFingerprint: string;
  readonly flags: readonly string[];
}

const HEX40_RE = /^[0-9A-Fa-f]{40}$/;
const ADDR_PORT_RE = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/;

/**
 * Parse `[DirAuthority] [nickname] [flags] address:dirport fingerprint` (C tor syntax; the fingerprint
 * may be split in groups of four). Flags: `orport=N`, `v3ident=HEX`, `ipv6=[addr]:port`, `weight=N`,
 * `no-v2`, `hs`, `bridge`, `v1`, `no-hs`.
 */
export function parseDirAuthorityLine(line: string): DirAuthority {
  const fail = (m: string): NetDocError => new NetDocError('malformed', `DirAuthority: ${m}`);
  let tokens = line.trim().split(/\s+/).filter((t) => t !== '');
  if (tokens[0]?.toLowerCase() === 'dirauthority') tokens = tokens.slice(1);
  const addrIdx = tokens.findIndex((t) => ADDR_PORT_RE.test(t));
  if (addrIdx < 0) throw fail('no address:dirport');
  const m = ADDR_PORT_RE.exec(tokens[addrIdx]!)!;
  const address = m[1]!;
  if (address.split('.').some((o) => Number(o) > 255)) throw fail('bad IPv4 address');
  const dirPort = Number(m[2]);
  if (dirPort < 1 || dirPort > 65535) throw fail('bad DirPort');
  const fingerprint = tokens.slice(addrIdx + 1).join('');
  if (!HEX40_RE.test(fingerprint)) throw fail('fingerprint must be 40 hex digits');

  let nickname: string | undefined;
  let v3ident = '';
  let orPort: number | undefined;
  let ipv6OrAddress: string | undefined;
  const flags: string[] = [];
  tokens.slice(0, addrIdx).forEach((t, i) => {
    const eq = t.indexOf('=');
    const key = eq < 0 ? t : t.slice(0, eq);
    const value = eq < 0 ? '' : t.slice(eq + 1);
    switch (key) {
      case 'v3ident':
        if (!HEX40_RE.test(value)) throw fail('v3ident must be 40 hex digits');
        v3ident = value.toUpperCase();
        break;
      case 'orport': {
        const n = Number(value);
        if (!/^\d{1,5}$/.test(value) || n < 1 || n > 65535) throw fail('bad orport');
        orPort = n;
        break;
      }
      case 'ipv6':
        if (!/^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/.test(value)) throw fail('bad ipv6=');
        ipv6OrAddress = value;
        break;
      case 'weight':
      case 'no-v2':
      case 'hs':
      case 'no-hs':
      case 'bridge':
      case 'v1':
        flags.push(t);
        break;
      default:
        if (i === 0 && eq < 0 && /^[A-Za-z0-9]{1,19}$/.test(t)) nickname = t;
        else throw fail(`unknown flag ${JSON.stringify(t.slice(0, 40))}`);
    }
  });
  return { nickname, v3ident, address, dirPort, orPort, ipv6OrAddress, rsaFingerprint: fingerprint.toUpperCase(), flags };
}
