// VPP's socket framing: every message is a 16-byte header — 8 ignored bytes, the body length as
// a big-endian u32, 4 more ignored bytes (vpp_papi packs ">QII" with 0, len, 0) — then the body.
// The decoder is a pure byte-stream splitter with a cap on the body size.

export const HEADER_BYTES = 16;

export type FrameError = 'oversized';

export class FrameDecoder {
  private pending: Uint8Array = new Uint8Array(0);

  constructor(private readonly maxBodyBytes: number) {}

  /** Bytes of an incomplete frame held back (a vanished client leaves these behind). */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** Splits `chunk` (appended to what is held back) into whole bodies. */
  push(chunk: Uint8Array): { frames: Uint8Array[]; error: FrameError | null } {
    const buf = this.pending.length ? concat(this.pending, chunk) : chunk;
    const frames: Uint8Array[] = [];
    let off = 0;
    while (buf.length - off >= HEADER_BYTES) {
      const len = readU32(buf, off + 8);
      if (len > this.maxBodyBytes) {
        this.pending = new Uint8Array(0);
        return { frames, error: 'oversized' };
      }
      if (buf.length - off < HEADER_BYTES + len) break;
      frames.push(buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len));
      off += HEADER_BYTES + len;
    }
    // Keep a copy so the caller's chunk can be reused.
    this.pending = off === buf.length ? new Uint8Array(0) : buf.slice(off);
    return { frames, error: null };
  }
}

export function encodeFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.length);
  writeHeader(out, 0, body.length);
  out.set(body, HEADER_BYTES);
  return out;
}

export function writeHeader(out: Uint8Array, off: number, len: number): void {
  out.fill(0, off, off + HEADER_BYTES);
  out[off + 8] = len >>> 24;
  out[off + 9] = (len >>> 16) & 0xff;
  out[off + 10] = (len >>> 8) & 0xff;
  out[off + 11] = len & 0xff;
}

function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
