/** Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4): comparisons via the signed 32-bit difference. */
export function seqLt(a: number, b: number): boolean { return ((a - b) | 0) < 0; }
export function seqLe(a: number, b: number): boolean { return ((a - b) | 0) <= 0; }
export function seqGt(a: number, b: number): boolean { return ((a - b) | 0) > 0; }
export function seqGe(a: number, b: number): boolean { return ((a - b) | 0) >= 0; }
/** a + n as a u32. */
export function seqAdd(a: number, n: number): number { return (a + n) >>> 0; }
/** Distance b - a as a signed 32-bit integer. */
export function seqDiff(b: number, a: number): number { return (b - a) | 0; }
export function seqMax(a: number, b: number): number { return seqGt(a, b) ? a : b; }
