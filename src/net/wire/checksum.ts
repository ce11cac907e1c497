/**
 * Internet checksum (RFC 1071) and the IPv4 pseudo-header sum used by TCP/UDP (RFC 9293 §3.1).
 *
 * Sums are kept as plain JS numbers: 16-bit words can be added ~2^37 times before losing precision,
 * so folding happens once at the end instead of per word.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const BULK_MIN = 64;
// One cached 32-bit view per ArrayBuffer (pool buffers usually share one), so the bulk loop reads words.
let lastBuffer: ArrayBufferLike | null = null;
let lastWords: Uint32Array | null = null;

function wordsOf(buf: Uint8Array): Uint32Array {
  if (buf.buffer !== lastBuffer) {
    lastBuffer = buf.buffer;
    lastWords = new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
  }
  return lastWords!;
}

/** One's-complement sum of buf[start, end) as big-endian 16-bit words, folded to 16 bits (not complemented). */
export function onesComplementSum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  // Bulk: aligned 32-bit little-endian words. Summing byte-swapped words and swapping the folded result is
  // equivalent (RFC 1071 §2(B), byte-order independence). Up to 2^21 words fit a double exactly.
  if (LITTLE_ENDIAN && end - start >= BULK_MIN && ((buf.byteOffset + start) & 3) === 0 && end - start < 1 << 23) {
    const words = wordsOf(buf);
    const w0 = (buf.byteOffset + start) >>> 2;
    const n = (end - start) >>> 2;
    let s32 = 0;
    for (let k = 0; k < n; k++) s32 += words[w0 + k]!;
    const f = foldSum(s32);
    sum += ((f & 0xff) << 8) | (f >>> 8);
    i = start + n * 4;
  }
  const evenEnd = end - ((end - i) & 1);
  for (; i < evenEnd; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8; // odd trailing byte is padded with zero
  return foldSum(sum);
}

/** Fold a wide sum to 16 bits with end-around carry. */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * The Internet checksum of buf[start, end): the complement of the one's-complement sum, with `initial`
 * (e.g. a pseudo-header sum) folded in. Over data that already contains a correct checksum it yields 0.
 */
export function internetChecksum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  return ~onesComplementSum(buf, start, end, initial) & 0xffff;
}

/** Sum of the IPv4 pseudo-header {src, dst, zero, proto, length}; addresses are u32 numbers. */
export function pseudoHeaderSum(src: number, dst: number, proto: number, len: number): number {
  return foldSum(
    ((src >>> 16) & 0xffff) + (src & 0xffff) + ((dst >>> 16) & 0xffff) + (dst & 0xffff) + (proto & 0xff) + (len & 0xffff),
  );
}

/**
 * Incremental update (RFC 1624 eqn. 3) of a checksum field when one 16-bit word changes from oldWord to newWord.
 * Lets NAT-style rewriters patch a header without re-summing the payload.
 */
export function checksumAdjust(checksum: number, oldWord: number, newWord: number): number {
  const sum = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~foldSum(sum) & 0xffff;
}
