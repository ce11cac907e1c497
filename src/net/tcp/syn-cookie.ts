/**
 * Stateless SYN cookies, used when a listener's SYN backlog is full.
 *
 * Our ISN carries: 5 bits of a 64-second time counter, 3 bits of an MSS table index and 24 bits of a keyed
 * hash over the 4-tuple, the peer's ISN and the counter. When the peer offered timestamps, the low 6 bits of
 * our TSval carry its window scale (4 bits, 15 = none) and SACK-permitted (1 bit) so those options survive;
 * the peer echoes them in TSecr on the final ACK. Without timestamps a cookie connection has no window
 * scaling or SACK (the usual trade-off).
 */
import type { TcpSecrets } from './secrets.js';

export const COOKIE_MSS_TABLE = [536, 1200, 1360, 1400, 1440, 1460, 4312, 8960] as const;
const COOKIE_PERIOD_MS = 64_000;

export interface CookieResult {
  mss: number;
}

export function cookieCounter(now: number): number {
  return Math.floor(now / COOKIE_PERIOD_MS) & 31;
}

/** Largest table MSS ≤ mss. */
export function cookieMssIndex(mss: number): number {
  let idx = 0;
  for (let i = 0; i < COOKIE_MSS_TABLE.length; i++) if (COOKIE_MSS_TABLE[i]! <= mss) idx = i;
  return idx;
}

export function makeSynCookie(
  secrets: TcpSecrets, now: number, localIp: number, localPort: number, remoteIp: number, remotePort: number,
  peerIsn: number, mss: number,
): number {
  const t = cookieCounter(now);
  const idx = cookieMssIndex(mss);
  const h = secrets.hash(3, localIp, localPort, remoteIp, remotePort, peerIsn, t) & 0xffffff;
  return ((t << 27) | (idx << 24) | h) >>> 0;
}

/** Validate `cookie` (our ISN, i.e. the ACK number minus one); returns the encoded MSS, or 0 if invalid. */
export function checkSynCookie(
  secrets: TcpSecrets, now: number, localIp: number, localPort: number, remoteIp: number, remotePort: number,
  peerIsn: number, cookie: number,
): number {
  const t = cookie >>> 27;
  const cur = cookieCounter(now);
  // Accept the current period and the previous one (a cookie lives 64–128 s).
  if (t !== cur && t !== ((cur + 31) & 31)) return 0;
  const h = secrets.hash(3, localIp, localPort, remoteIp, remotePort, peerIsn, t) & 0xffffff;
  if (h !== (cookie & 0xffffff)) return 0;
  return COOKIE_MSS_TABLE[(cookie >>> 24) & 7]!;
}

/** Low TSval bits: wscale (0..14, 15 = none) in bits 0-3, SACK-permitted in bit 4, bit 5 set (marks encoding). */
export function encodeCookieTsBits(wscale: number, sackOk: boolean): number {
  return 0x20 | (sackOk ? 0x10 : 0) | (wscale < 0 ? 15 : wscale & 15);
}

export function decodeCookieTsBits(tsEcr: number): { wscale: number; sackOk: boolean } | null {
  if ((tsEcr & 0x20) === 0) return null;
  const ws = tsEcr & 15;
  return { wscale: ws === 15 ? -1 : Math.min(ws, 14), sackOk: (tsEcr & 0x10) !== 0 };
}
