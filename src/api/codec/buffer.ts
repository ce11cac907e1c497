// Big-endian cursor reader/writer for API message bodies. The reader never reads past its view
// (a short body is a typed error, not a crash); the writer grows up to a fixed cap.

export class ApiCodecError extends Error {
  override name = 'ApiCodecError';
}

export class ByteReader {
  private readonly view: DataView;
  pos = 0;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  need(n: number, what: string): void {
    if (n > this.remaining) throw new ApiCodecError(`truncated: ${what} needs ${n} bytes, ${this.remaining} left`);
  }

  u8(): number { this.need(1, 'u8'); return this.view.getUint8(this.pos++); }
  i8(): number { this.need(1, 'i8'); return this.view.getInt8(this.pos++); }
  u16(): number { this.need(2, 'u16'); const v = this.view.getUint16(this.pos); this.pos += 2; return v; }
  i16(): number { this.need(2, 'i16'); const v = this.view.getInt16(this.pos); this.pos += 2; return v; }
  u32(): number { this.need(4, 'u32'); const v = this.view.getUint32(this.pos); this.pos += 4; return v; }
  i32(): number { this.need(4, 'i32'); const v = this.view.getInt32(this.pos); this.pos += 4; return v; }
  u64(): bigint { this.need(8, 'u64'); const v = this.view.getBigUint64(this.pos); this.pos += 8; return v; }
  i64(): bigint { this.need(8, 'i64'); const v = this.view.getBigInt64(this.pos); this.pos += 8; return v; }
  f64(): number { this.need(8, 'f64'); const v = this.view.getFloat64(this.pos); this.pos += 8; return v; }

  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(private readonly maxBytes: number, initial = 256) {
    this.buf = new Uint8Array(Math.min(initial, maxBytes));
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    const want = this.pos + n;
    if (want <= this.buf.length) return;
    if (want > this.maxBytes) throw new ApiCodecError(`message larger than ${this.maxBytes} bytes`);
    let size = this.buf.length * 2;
    while (size < want) size *= 2;
    const next = new Uint8Array(Math.min(size, this.maxBytes));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void { this.ensure(1); this.view.setUint8(this.pos, v); this.pos += 1; }
  i8(v: number): void { this.ensure(1); this.view.setInt8(this.pos, v); this.pos += 1; }
  u16(v: number): void { this.ensure(2); this.view.setUint16(this.pos, v); this.pos += 2; }
  i16(v: number): void { this.ensure(2); this.view.setInt16(this.pos, v); this.pos += 2; }
  u32(v: number): void { this.ensure(4); this.view.setUint32(this.pos, v); this.pos += 4; }
  i32(v: number): void { this.ensure(4); this.view.setInt32(this.pos, v); this.pos += 4; }
  u64(v: bigint): void { this.ensure(8); this.view.setBigUint64(this.pos, v); this.pos += 8; }
  i64(v: bigint): void { this.ensure(8); this.view.setBigInt64(this.pos, v); this.pos += 8; }
  f64(v: number): void { this.ensure(8); this.view.setFloat64(this.pos, v); this.pos += 8; }

  bytes(b: Uint8Array, padTo = b.length): void {
    this.ensure(padTo);
    this.buf.set(b.subarray(0, padTo), this.pos);
    this.buf.fill(0, this.pos + Math.min(b.length, padTo), this.pos + padTo);
    this.pos += padTo;
  }

  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
