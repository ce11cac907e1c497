/**
 * Internet checksum (RFC 1071) and the IPv4 pseudo-header sum used by TCP/UDP (RFC 9293 §3.1).
 *
 * Sums are kept as plain JS numbers: 16-bit words can be added ~2^37 times before losing precision,
 * so folding happens once at the end instead of per word.
 */

/** One's-complement sum of buf[start, end) as big-endian 16-bit words, folded to 16 bits (not complemented). */
export function onesComplementSum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  const evenEnd = end - ((end - start) & 1);
  // Four words per iteration: fewer loop checks on the hot path.
  const quadEnd = evenEnd - ((evenEnd - i) & 7);
  for (; i < quadEnd; i += 8) {
    sum += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!)
      + ((buf[i + 4]! << 8) | buf[i + 5]!) + ((buf[i + 6]! << 8) | buf[i + 7]!);
  }
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
