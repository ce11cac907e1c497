// The harness's DNS zone and the answer logic for it: which response a query gets. Pure (no sockets).
// Authoritative for the zone (default `tornet.test`) and for the in-addr.arpa names of its IPv4
// records; every other name is NXDOMAIN, so nothing ever leaves the machine and a test can rely on
// unknown names failing.

import { isIPv4, isIPv6 } from 'node:net';
import {
  aRdata,
  encodeName,
  emitResponse,
  Opcode,
  parseQuery,
  QUESTION_NAME_POINTER,
  Rcode,
  RrClass,
  RrType,
  soaRdata,
  type ResourceRecord,
} from './dns-wire.js';

export const DEFAULT_DNS_ZONE = 'tornet.test';
/** Short, so a test that changes nothing still sees fresh answers; tor clips TTLs anyway. */
export const DNS_TTL = 60;
/** Queries remembered for tests (oldest dropped first). */
export const DNS_QUERY_LOG_MAX = 256;

/** One question the server was asked: the name lower-cased, the type as a number (1 = A, 12 = PTR, …). */
export interface DnsQueryRecord {
  name: string;
  type: number;
  /** The name as sent (C tor exits randomise its letter case, DNS 0x20). */
  asSent: string;
}

/** Name → addresses (IPv4 and/or IPv6). Names are matched case-insensitively; a trailing dot is ignored. */
export type DnsRecords = Record<string, string | readonly string[]>;

export interface DnsZoneCounters {
  queries: number;
  answered: number;
  nxdomain: number;
  nodata: number;
  formerr: number;
  notimp: number;
  /** Messages too broken to answer (no header) or responses sent to us. */
  dropped: number;
}

function normalizeName(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

/** `1.0.0.127.in-addr.arpa` for 127.0.0.1. */
export function reverseName(ipv4: string): string {
  return `${ipv4.split('.').reverse().join('.')}.in-addr.arpa`;
}

function ipv6Rdata(addr: string): Uint8Array {
  if (addr.includes('.')) throw new RangeError(`IPv6 with an embedded IPv4 part is not supported here: ${addr}`);
  // Expand '::' into the right number of zero groups, then pack 8 groups of 16 bits.
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export class DnsZone {
  readonly zone: string;
  readonly counters: DnsZoneCounters = { queries: 0, answered: 0, nxdomain: 0, nodata: 0, formerr: 0, notimp: 0, dropped: 0 };
  /** The latest questions, newest last: lets a test see which names exits looked up. */
  readonly queryLog: DnsQueryRecord[] = [];
  private readonly a = new Map<string, string[]>();
  private readonly aaaa = new Map<string, string[]>();
  private readonly ptr = new Map<string, string>();
  private readonly soa: ResourceRecord;

  constructor(records: DnsRecords, zone = DEFAULT_DNS_ZONE) {
    this.zone = normalizeName(zone);
    encodeName(this.zone);
    for (const [rawName, value] of Object.entries(records)) {
      const name = normalizeName(rawName);
      encodeName(name);
      if (name !== this.zone && !name.endsWith(`.${this.zone}`)) throw new RangeError(`DNS record ${rawName} is outside the zone ${this.zone}`);
      for (const addr of typeof value === 'string' ? [value] : value) {
        if (isIPv4(addr)) {
          this.a.set(name, [...(this.a.get(name) ?? []), addr]);
          // The first name given for an address is its PTR answer.
          if (!this.ptr.has(reverseName(addr))) this.ptr.set(reverseName(addr), name);
        } else if (isIPv6(addr)) {
          ipv6Rdata(addr); // throws now rather than while answering
          this.aaaa.set(name, [...(this.aaaa.get(name) ?? []), addr]);
        } else {
          throw new RangeError(`DNS record ${rawName}: not an IP address: ${addr}`);
        }
      }
    }
    this.soa = {
      owner: encodeName(this.zone),
      type: RrType.SOA,
      ttl: DNS_TTL,
      data: soaRdata(`ns.${this.zone}`, `hostmaster.${this.zone}`, 1, DNS_TTL),
    };
  }

  /** Addresses of `name` (A then AAAA), for callers that want the zone's view without DNS. */
  lookup(name: string): string[] {
    const n = normalizeName(name);
    return [...(this.a.get(n) ?? []), ...(this.aaaa.get(n) ?? [])];
  }

  private inZone(name: string): boolean {
    return name === this.zone || name.endsWith(`.${this.zone}`);
  }

  private exists(name: string): boolean {
    if (this.ptr.has(name) || this.a.has(name) || this.aaaa.has(name)) return true;
    if (name === this.zone) return true;
    // An empty non-terminal (e.g. `tornet.test` parents of records) exists without records of its own.
    for (const k of [...this.a.keys(), ...this.aaaa.keys()]) if (k.endsWith(`.${name}`)) return true;
    return false;
  }

  /** The response to one query message, or undefined when it must be dropped. */
  answer(message: Uint8Array, maxLen: number): Uint8Array | undefined {
    this.counters.queries++;
    const parsed = parseQuery(message);
    if (!parsed.ok) {
      if (parsed.id === undefined) {
        this.counters.dropped++;
        return undefined;
      }
      this.counters.formerr++;
      return emitResponse({ id: parsed.id, opcode: Opcode.QUERY, rcode: Rcode.FORMERR, authoritative: false, recursionDesired: false }, maxLen);
    }
    const q = parsed.query;
    if (q.isResponse) {
      this.counters.dropped++;
      return undefined;
    }
    const base = { id: q.header.id, opcode: q.opcode, recursionDesired: q.recursionDesired, question: q.question?.raw };
    if (q.opcode !== Opcode.QUERY) {
      this.counters.notimp++;
      return emitResponse({ ...base, rcode: Rcode.NOTIMP, authoritative: false }, maxLen);
    }
    if (q.question === undefined || q.header.qdcount !== 1 || q.question.class !== RrClass.IN) {
      this.counters.formerr++;
      return emitResponse({ ...base, rcode: Rcode.FORMERR, authoritative: false }, maxLen);
    }
    const name = normalizeName(q.question.name);
    const type = q.question.type;
    if (this.queryLog.push({ name, type, asSent: q.question.name }) > DNS_QUERY_LOG_MAX) this.queryLog.shift();
    const answers: ResourceRecord[] = [];
    const record = (t: number, data: Uint8Array): ResourceRecord => ({ owner: QUESTION_NAME_POINTER, type: t, ttl: DNS_TTL, data });
    if (type === RrType.A || type === RrType.ANY) for (const addr of this.a.get(name) ?? []) answers.push(record(RrType.A, aRdata(addr)));
    if (type === RrType.AAAA || type === RrType.ANY) for (const addr of this.aaaa.get(name) ?? []) answers.push(record(RrType.AAAA, ipv6Rdata(addr)));
    if (type === RrType.PTR || type === RrType.ANY) {
      const target = this.ptr.get(name);
      if (target !== undefined) answers.push(record(RrType.PTR, encodeName(target)));
    }
    if (answers.length > 0) {
      this.counters.answered++;
      return emitResponse({ ...base, rcode: Rcode.NOERROR, authoritative: true, answers }, maxLen);
    }
    // Negative answers carry the zone's SOA (RFC 2308) when the name is ours.
    const authority = this.inZone(name) ? [this.soa] : [];
    if (this.exists(name)) {
      this.counters.nodata++;
      return emitResponse({ ...base, rcode: Rcode.NOERROR, authoritative: true, authority }, maxLen);
    }
    this.counters.nxdomain++;
    return emitResponse({ ...base, rcode: Rcode.NXDOMAIN, authoritative: true, authority }, maxLen);
  }
}
