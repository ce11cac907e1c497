import { NetDocError } from './errors.js';
import type { NetDocItem } from './tokenizer.js';

/** Argument decoders shared by the document parsers; each failure names the item's line. */

const B64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const HEX_RE = /^[0-9A-Fa-f]+$/;
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export function malformed(item: NetDocItem | undefined, message: string): NetDocError {
  return new NetDocError('malformed', message, item?.line ?? 0);
}

/** Decode base64 with or without `=` padding, optionally requiring a byte length. */
export function base64Arg(item: NetDocItem, s: string | undefined, expectedLen?: number): Buffer {
  if (s === undefined || !B64_RE.test(s)) throw malformed(item, `${item.keyword}: bad base64`);
  const buf = Buffer.from(s, 'base64');
  if (expectedLen !== undefined && buf.length !== expectedLen) {
    throw malformed(item, `${item.keyword}: expected ${expectedLen} bytes, got ${buf.length}`);
  }
  return buf;
}

export function hexArg(item: NetDocItem, s: string | undefined, expectedLen: number): Buffer {
  if (s === undefined || s.length !== expectedLen * 2 || !HEX_RE.test(s)) {
    throw malformed(item, `${item.keyword}: expected ${expectedLen * 2} hex digits`);
  }
  return Buffer.from(s, 'hex');
}

export function intArg(item: NetDocItem, s: string | undefined, min: number, max: number): number {
  if (s === undefined || !/^-?\d{1,15}$/.test(s)) throw malformed(item, `${item.keyword}: bad integer`);
  const n = Number(s);
  if (n < min || n > max) throw malformed(item, `${item.keyword}: ${n} out of range ${min}..${max}`);
  return n;
}

/** `YYYY-MM-DD HH:MM:SS` (UTC) from two arguments, as milliseconds since the epoch. */
export function timeArgs(item: NetDocItem, date: string | undefined, time: string | undefined): number {
  const m = TIME_RE.exec(`${date ?? ''} ${time ?? ''}`);
  if (!m) throw malformed(item, `${item.keyword}: bad time`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(ms);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 60) {
    throw malformed(item, `${item.keyword}: invalid date`);
  }
  return ms;
}

export function needArgs(item: NetDocItem, n: number): void {
  if (item.args.length < n) throw malformed(item, `${item.keyword}: needs ${n} arguments`);
}

/** `k=v` integer pairs (params, bandwidth-weights, w). Keys must be unique. */
export function intPairs(item: NetDocItem, args: readonly string[], min: number, max: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw malformed(item, `${item.keyword}: bad key=value ${JSON.stringify(a.slice(0, 40))}`);
    const k = a.slice(0, eq);
    if (out.has(k)) throw malformed(item, `${item.keyword}: duplicate ${k}`);
    out.set(k, intArg(item, a.slice(eq + 1), min, max));
  }
  return out;
}

/** Exactly one item with this keyword, else malformed. */
export function exactlyOne(items: readonly NetDocItem[], keyword: string, where: string): NetDocItem {
  const found = items.filter((i) => i.keyword === keyword);
  if (found.length !== 1) {
    throw malformed(found[1] ?? items[0], `${where}: expected exactly one ${keyword}, found ${found.length}`);
  }
  return found[0]!;
}

export function atMostOne(items: readonly NetDocItem[], keyword: string, where: string): NetDocItem | undefined {
  const found = items.filter((i) => i.keyword === keyword);
  if (found.length > 1) throw malformed(found[1], `${where}: more than one ${keyword}`);
  return found[0];
}
