// Column helpers for VPP-style tables: `%=Ns` centres (odd padding on the left) and truncates.

export function center(text: string, width: number): string {
  if (text.length >= width) return text.slice(0, width);
  const pad = width - text.length;
  const right = Math.floor(pad / 2);
  return ' '.repeat(pad - right) + text + ' '.repeat(right);
}

/** `%-Ns`: left-aligned, padded (never truncated, as printf). */
export function left(text: string, width: number): string {
  return text.padEnd(width);
}

/** `%Ns`: right-aligned. */
export function right(text: string, width: number): string {
  return text.padStart(width);
}
