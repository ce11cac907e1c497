// DNS messages (RFC 1035 §4) as far as the harness's authoritative server needs them: parse a query
// (header + one question, names with or without compression pointers) and emit a response whose
// question is a byte copy of the query's (C tor randomises the case of names, 0x20, and checks the echo).
// Pure: bytes in, values or typed errors out.

export const DNS_HEADER_LEN = 12;
/** Largest answer over UDP without EDNS (RFC 1035 §2.3.4). */
export const DNS_UDP_MAX = 512;

export const RrType = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, AAAA: 28, OPT: 41, ANY: 255 } as const;
export const RrClass = { IN: 1 } as const;
export const Opcode = { QUERY: 0 } as const;
export const Rcode = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const MAX_NAME_LEN = 255;
/** More pointer hops than any legal name needs: a loop guard. */
const MAX_POINTERS = 16;

export interface DnsHeader {
  id: number;
  /** The raw 16-bit flags word. */
  flags: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export interface DnsQuestion {
  /** Labels joined by '.', as sent (case preserved), no trailing dot; '' is the root. */
  name: string;
  type: number;
  class: number;
  /** The question section's exact bytes (name, type, class), echoed in the response. */
  raw: Uint8Array;
}

export interface DnsQuery {
  header: DnsHeader;
  opcode: number;
  recursionDesired: boolean;
  isResponse: boolean;
  /** Undefined when qdcount is 0. */
  question?: DnsQuestion;
}

export type DnsParseError = 'short-header' | 'short-question' | 'bad-label' | 'name-too-long' | 'pointer-loop';

export type DnsParseResult = { ok: true; query: DnsQuery } | { ok: false; error: DnsParseError; id?: number };

export function parseHeader(b: Uint8Array): DnsHeader | undefined {
  if (b.length < DNS_HEADER_LEN) return undefined;
  const u16 = (o: number): number => (b[o]! << 8) | b[o + 1]!;
  return { id: u16(0), flags: u16(2), qdcount: u16(4), ancount: u16(6), nscount: u16(8), arcount: u16(10) };
}

/** A name starting at `off`: its text and where the bytes after it (in place, not after pointers) begin. */
export function parseName(b: Uint8Array, off: number): { name: string; end: number } | DnsParseError {
  const labels: string[] = [];
  let pos = off;
  let end = -1;
  let length = 1;
  for (let hops = 0; ; ) {
    if (pos >= b.length) return 'short-question';
    const len = b[pos]!;
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= b.length) return 'short-question';
      if (++hops > MAX_POINTERS) return 'pointer-loop';
      if (end < 0) end = pos + 2;
      pos = ((len & 0x3f) << 8) | b[pos + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) return 'bad-label';
    if (pos + 1 + len > b.length) return 'short-question';
    length += len + 1;
    if (length > MAX_NAME_LEN) return 'name-too-long';
    labels.push(Buffer.from(b.subarray(pos + 1, pos + 1 + len)).toString('latin1'));
    pos += 1 + len;
  }
  return { name: labels.join('.'), end };
}

export function parseQuery(b: Uint8Array): DnsParseResult {
  const header = parseHeader(b);
  if (header === undefined) return { ok: false, error: 'short-header' };
  const query: DnsQuery = {
    header,
    opcode: (header.flags >> 11) & 0xf,
    recursionDesired: (header.flags & FLAG_RD) !== 0,
    isResponse: (header.flags & FLAG_QR) !== 0,
  };
  if (header.qdcount === 0) return { ok: true, query };
  const name = parseName(b, DNS_HEADER_LEN);
  if (typeof name === 'string') return { ok: false, error: name, id: header.id };
  if (name.end + 4 > b.length) return { ok: false, error: 'short-question', id: header.id };
  const type = (b[name.end]! << 8) | b[name.end + 1]!;
  const klass = (b[name.end + 2]! << 8) | b[name.end + 3]!;
  query.question = { name: name.name, type, class: klass, raw: b.slice(DNS_HEADER_LEN, name.end + 4) };
  return { ok: true, query };
}

/** Wire form of a name (no compression); throws on an empty label or a name over 255 bytes. */
export function encodeName(name: string): Uint8Array {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  const labels = trimmed === '' ? [] : trimmed.split('.');
  const parts: number[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length === 0 || bytes.length > 63) throw new RangeError(`bad DNS label in "${name}"`);
    parts.push(bytes.length, ...bytes);
  }
  parts.push(0);
  if (parts.length > MAX_NAME_LEN) throw new RangeError(`DNS name longer than 255 bytes: "${name}"`);
  return Uint8Array.from(parts);
}

export interface ResourceRecord {
  /** Wire form of the owner name; a 2-byte compression pointer (e.g. to the question) is allowed. */
  owner: Uint8Array;
  type: number;
  ttl: number;
  data: Uint8Array;
}

/** A pointer to the question's name, which always sits right after the header. */
export const QUESTION_NAME_POINTER = Uint8Array.of(0xc0, DNS_HEADER_LEN);

export function aRdata(ipv4: string): Uint8Array {
  const parts = ipv4.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new RangeError(`not an IPv4 address: ${ipv4}`);
  return Uint8Array.from(parts);
}

/** SOA rdata: mname, rname, serial, refresh, retry, expire, minimum (the negative-caching TTL). */
export function soaRdata(mname: string, rname: string, serial: number, minimum: number): Uint8Array {
  const tail = Buffer.alloc(20);
  tail.writeUInt32BE(serial >>> 0, 0);
  tail.writeUInt32BE(3600, 4);
  tail.writeUInt32BE(600, 8);
  tail.writeUInt32BE(86400, 12);
  tail.writeUInt32BE(minimum >>> 0, 16);
  return Buffer.concat([encodeName(mname), encodeName(rname), tail]);
}

export interface DnsResponse {
  id: number;
  opcode: number;
  rcode: number;
  authoritative: boolean;
  recursionDesired: boolean;
  /** Exact bytes of the question section to echo; omitted for a response without a question. */
  question?: Uint8Array;
  answers?: ResourceRecord[];
  authority?: ResourceRecord[];
}

function encodeRecord(rr: ResourceRecord): Uint8Array {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(rr.type, 0);
  fixed.writeUInt16BE(RrClass.IN, 2);
  fixed.writeUInt32BE(rr.ttl >>> 0, 4);
  fixed.writeUInt16BE(rr.data.length, 8);
  return Buffer.concat([rr.owner, fixed, rr.data]);
}

/**
 * The response bytes. Records that would push the message past `maxLen` are dropped and TC is set
 * (the client may retry over TCP); the header and question always fit.
 */
export function emitResponse(r: DnsResponse, maxLen = 65535): Uint8Array {
  const question = r.question ?? new Uint8Array(0);
  const sections: { records: ResourceRecord[]; encoded: Uint8Array[] }[] = [
    { records: r.answers ?? [], encoded: [] },
    { records: r.authority ?? [], encoded: [] },
  ];
  let length = DNS_HEADER_LEN + question.length;
  let truncated = false;
  for (const s of sections) {
    for (const rr of s.records) {
      const e = encodeRecord(rr);
      if (truncated || length + e.length > maxLen) {
        truncated = true;
        continue;
      }
      s.encoded.push(e);
      length += e.length;
    }
  }
  const header = Buffer.alloc(DNS_HEADER_LEN);
  let flags = FLAG_QR | ((r.opcode & 0xf) << 11) | (r.rcode & 0xf);
  if (r.authoritative) flags |= FLAG_AA;
  if (truncated) flags |= FLAG_TC;
  if (r.recursionDesired) flags |= FLAG_RD;
  header.writeUInt16BE(r.id, 0);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(r.question ? 1 : 0, 4);
  header.writeUInt16BE(sections[0]!.encoded.length, 6);
  header.writeUInt16BE(sections[1]!.encoded.length, 8);
  header.writeUInt16BE(0, 10);
  return Buffer.concat([header, question, ...sections[0]!.encoded, ...sections[1]!.encoded]);
}

/** The response's rcode, TC bit and answer records (type and rdata), for tests and probes. */
export function parseResponse(b: Uint8Array): { id: number; rcode: number; truncated: boolean; authoritative: boolean; answers: { type: number; ttl: number; data: Uint8Array; rdataOffset: number }[] } | DnsParseError {
  const header = parseHeader(b);
  if (header === undefined) return 'short-header';
  let pos = DNS_HEADER_LEN;
  for (let i = 0; i < header.qdcount; i++) {
    const n = parseName(b, pos);
    if (typeof n === 'string') return n;
    pos = n.end + 4;
  }
  const answers: { type: number; ttl: number; data: Uint8Array; rdataOffset: number }[] = [];
  for (let i = 0; i < header.ancount; i++) {
    const n = parseName(b, pos);
    if (typeof n === 'string') return n;
    if (n.end + 10 > b.length) return 'short-question';
    const view = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const type = view.readUInt16BE(n.end);
    const ttl = view.readUInt32BE(n.end + 4);
    const rdlen = view.readUInt16BE(n.end + 8);
    const start = n.end + 10;
    if (start + rdlen > b.length) return 'short-question';
    answers.push({ type, ttl, data: b.slice(start, start + rdlen), rdataOffset: start });
    pos = start + rdlen;
  }
  return { id: header.id, rcode: header.flags & 0xf, truncated: (header.flags & FLAG_TC) !== 0, authoritative: (header.flags & FLAG_AA) !== 0, answers };
}

/** A standard query for `name` (for probes and tests). */
export function emitQuery(id: number, name: string, type: number, recursionDesired = true): Uint8Array {
  const header = Buffer.alloc(DNS_HEADER_LEN);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(recursionDesired ? FLAG_RD : 0, 2);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(RrClass.IN, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}
