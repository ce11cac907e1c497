// The two primitives behind vppapigen's CRCs: zlib's CRC-32 (with a running start value, like
// Python's binascii.crc32(data, crc)) and Python's repr() of the nested lists it hashes.

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array | string, start = 0): number {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let c = (start ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A value printed verbatim by pyRepr (vppapigen's Option objects repr as their bare name). */
export class PyRaw {
  constructor(readonly text: string) {}
}

export type PyValue = string | number | boolean | null | PyRaw | PyValue[];

function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return out + quote;
}

/** Python's repr of a float: always shows a fractional part or an exponent. */
export function pyFloatText(n: number): string {
  const s = String(n);
  return /[.e]/.test(s) ? s : s + '.0';
}

/** Python's repr() of a nested list of str/int/None/bool, as vppapigen stringifies blocks. */
export function pyRepr(v: PyValue): string {
  if (v === null) return 'None';
  if (v instanceof PyRaw) return v.text;
  if (typeof v === 'string') return reprString(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  return '[' + v.map(pyRepr).join(', ') + ']';
}

/** vppapigen's "0x%08x" form used for message CRCs and name_crc suffixes (without 0x). */
export function crcHex(crc: number): string {
  return crc.toString(16).padStart(8, '0');
}
