import { BytesError } from './errors.js';

/**
 * Bounds-checked cursor over a Uint8Array (big-endian, like every Tor wire format).
 * Reads past the end throw BytesError('TRUNCATED'); callers at the codec boundary catch it.
 * Returned byte slices are views (subarray), not copies.
 */
export class Reader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new BytesError('TRUNCATED', `truncated ${what}: need ${n} bytes, have ${this.remaining}`);
    }
  }

  u8(): number {
    this.need(1, 'u8');
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2, 'u16');
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4, 'u32');
    const b = this.buf;
    const p = this.pos;
    const v = ((b[p]! << 24) >>> 0) + (b[p + 1]! << 16) + (b[p + 2]! << 8) + b[p + 3]!;
    this.pos += 4;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n, 'bytes');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(n: number): void {
    this.need(n, 'skip');
    this.pos += n;
  }
  /** Everything not yet read. */
  rest(): Uint8Array {
    const out = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return out;
  }
  /** Bytes up to (not including) the next NUL; consumes the NUL. */
  untilNul(): Uint8Array {
    const idx = this.buf.indexOf(0, this.pos);
    if (idx < 0) throw new BytesError('TRUNCATED', 'missing NUL terminator');
    const out = this.buf.subarray(this.pos, idx);
    this.pos = idx + 1;
    return out;
  }
  expectEnd(): void {
    if (this.remaining !== 0) throw new BytesError('EXTRA_BYTES', `${this.remaining} unexpected trailing bytes`);
  }
}
