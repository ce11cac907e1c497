// VPP's text formatting, for output operators and scripts compare against VPP's own:
// `%=N` centres (the odd pad on the left) and truncates, `%.Ne` prints `1.23e3` (no `+`, no padding).

export function center(text: string, width: number): string {
  if (text.length >= width) return text.slice(0, width);
  const pad = width - text.length;
  const left = Math.ceil(pad / 2);
  return ' '.repeat(left) + text + ' '.repeat(pad - left);
}

export function padLeft(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

export function padRight(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** VPP's `%.<digits>e`: mantissa with `digits` decimals and a bare exponent (`2.16e3`, `0.00e0`). */
export function formatExp(value: number, digits: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return `${(0).toFixed(digits)}e0`;
  const [mantissa, exponent] = value.toExponential(digits).split('e') as [string, string];
  return `${mantissa}e${Number(exponent)}`;
}

/** `hh:mm:ss:uuuuuu` since an origin, as VPP's trace timestamps. */
export function formatTimeInterval(ns: bigint): string {
  const us = ns / 1000n;
  const s = us / 1_000_000n;
  const two = (v: bigint): string => v.toString().padStart(2, '0');
  return `${two(s / 3600n)}:${two((s / 60n) % 60n)}:${two(s % 60n)}:${(us % 1_000_000n).toString().padStart(6, '0')}`;
}

/** A fixed-column table: each column a width and alignment; rows of cells. */
export function table(
  columns: readonly { title: string; width: number; align?: 'left' | 'right' | 'center' }[],
  rows: readonly (readonly string[])[],
): string {
  const cell = (text: string, c: (typeof columns)[number]): string =>
    c.align === 'right' ? padLeft(text, c.width) : c.align === 'center' ? center(text, c.width) : padRight(text, c.width);
  const lines = [columns.map((c) => cell(c.title, c)).join(' ').trimEnd()];
  for (const row of rows) lines.push(row.map((t, i) => cell(t, columns[i]!)).join(' ').trimEnd());
  return lines.join('\n');
}
