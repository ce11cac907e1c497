import { BytesError } from './errors.js';

/**
 * Growable big-endian writer with a hard capacity (every buffer is bounded).
 * Writing past `maxLength` throws BytesError('CAPACITY_EXCEEDED').
 */
export class Writer {
  private buf: Uint8Array;
  private len = 0;

  constructor(private readonly maxLength = 65_535 + 16, initial = 64) {
    this.buf = new Uint8Array(Math.min(initial, maxLength));
  }

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    const need = this.len + n;
    if (need > this.maxLength) {
      throw new BytesError('CAPACITY_EXCEEDED', `writer capacity ${this.maxLength} exceeded`);
    }
    if (need <= this.buf.length) return;
    const next = new Uint8Array(Math.min(this.maxLength, Math.max(need, this.buf.length * 2)));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new BytesError('BAD_VALUE', `u8 out of range: ${v}`);
    this.reserve(1);
    this.buf[this.len++] = v;
    return this;
  }
  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new BytesError('BAD_VALUE', `u16 out of range: ${v}`);
    this.reserve(2);
    this.buf[this.len++] = v >>> 8;
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new BytesError('BAD_VALUE', `u32 out of range: ${v}`);
    this.reserve(4);
    this.buf[this.len++] = v >>> 24;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }
  zeros(n: number): this {
    this.reserve(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
    return this;
  }
  /** Overwrite a u16 already written at `at` (used for length prefixes). */
  patchU16(at: number, v: number): this {
    if (at < 0 || at + 2 > this.len) throw new BytesError('BAD_VALUE', `patch offset ${at} out of range`);
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v & 0xff;
    return this;
  }
  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
