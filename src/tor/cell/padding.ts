/** PADDING (fixed) and VPADDING (variable) cells carry nothing a client acts on. */
export function encodePaddingBody(): Uint8Array {
  return new Uint8Array(0);
}
export function encodeVpaddingBody(len: number): Uint8Array {
  if (!Number.isInteger(len) || len < 0 || len > 0xffff) throw new RangeError('VPADDING length out of range');
  return new Uint8Array(len);
}
