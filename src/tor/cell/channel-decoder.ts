import { err, ok, type Result } from '../bytes/result.js';
import { FIXED_BODY_LEN, MAX_VAR_BODY_LEN, type ChannelCell, type CircIdLen } from './channel-cell.js';
import { ChanCmd, isVariableLengthCommand } from './commands.js';
import { cellError, type CellError } from './errors.js';

export interface ChannelCellDecoderOptions {
  /**
   * The initiator's first incoming cell is the responder's VERSIONS cell with a 2-byte circuit id
   * (tor-spec §4.1); every later cell uses 4 bytes (link protocol >= 4, the only ones we speak).
   */
  readonly firstCellShortCircId?: boolean;
  /** Reject variable cells longer than this (default: the u16 maximum). */
  readonly maxVarBodyLen?: number;
}

/**
 * Frames a byte stream into channel cells. Only an incomplete trailing cell is buffered, so the
 * buffer never exceeds one maximum-size cell. Cell bodies are views into the pushed chunk (no copy
 * per cell; the channel decrypts relay bodies in place there), so a caller hands the chunk over and
 * must not reuse it. A cell split across chunks is reassembled from just its own bytes.
 * After an error the decoder stays failed (the channel must be closed).
 */
export class ChannelCellDecoder {
  private pending: Uint8Array = new Uint8Array(0);
  private circIdLen: CircIdLen;
  private shortFirst: boolean;
  private failed: CellError | null = null;
  private readonly maxVarBodyLen: number;

  constructor(opts: ChannelCellDecoderOptions = {}) {
    this.shortFirst = opts.firstCellShortCircId ?? false;
    this.circIdLen = this.shortFirst ? 2 : 4;
    this.maxVarBodyLen = Math.min(opts.maxVarBodyLen ?? MAX_VAR_BODY_LEN, MAX_VAR_BODY_LEN);
  }

  /** Bytes held back waiting for the rest of a cell. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** Decode every complete cell in `pending + chunk`. */
  push(chunk: Uint8Array): Result<ChannelCell[], CellError> {
    if (this.failed) return err(this.failed);
    const cells: ChannelCell[] = [];
    let pos = 0;
    if (this.pending.length > 0) {
      // Finish the held-back cell with only the bytes it needs: first its header, then its body.
      let held = this.pending;
      if (held.length < HEADER_MAX) {
        const take = Math.min(chunk.length, HEADER_MAX - held.length);
        held = concat(held, chunk.subarray(0, take));
        pos = take;
      }
      const total = this.cellLength(held, 0);
      if (total === 0) {
        this.pending = held;
        return ok(cells);
      }
      if (total <= held.length) {
        // The header top-up ran past a short cell: hand the extra bytes back to the chunk.
        pos -= held.length - total;
        held = held.subarray(0, total);
      } else {
        const need = total - held.length;
        if (chunk.length - pos < need) {
          this.pending = concat(held, chunk.subarray(pos));
          return ok(cells);
        }
        held = concat(held, chunk.subarray(pos, pos + need));
        pos += need;
      }
      this.pending = EMPTY;
      const e = this.drain(held, 0, cells);
      if (typeof e !== 'number') return this.fail(e);
    }
    const end = this.drain(chunk, pos, cells);
    if (typeof end !== 'number') return this.fail(end);
    this.pending = end === chunk.length ? EMPTY : chunk.slice(end);
    return ok(cells);
  }

  /** Length of the cell at `pos` (header and body), or 0 if its header is not all there yet. */
  private cellLength(data: Uint8Array, pos: number): number {
    const idLen = this.circIdLen;
    const avail = data.length - pos;
    if (avail < idLen + 1) return 0;
    const command = data[pos + idLen]!;
    if (!isVariableLengthCommand(command)) return idLen + 1 + FIXED_BODY_LEN;
    if (avail < idLen + 3) return 0;
    return idLen + 3 + ((data[pos + idLen + 1]! << 8) | data[pos + idLen + 2]!);
  }

  /** Append every complete cell from `pos` on; returns where the incomplete remainder starts. */
  private drain(data: Uint8Array, pos: number, cells: ChannelCell[]): number | CellError {
    for (;;) {
      const idLen = this.circIdLen;
      const avail = data.length - pos;
      if (avail < idLen + 1) return pos;
      const circId = idLen === 2 ? (data[pos]! << 8) | data[pos + 1]! : readU32(data, pos);
      const command = data[pos + idLen]!;
      let bodyStart: number;
      let bodyLen: number;
      if (this.shortFirst && command !== ChanCmd.VERSIONS) {
        return cellError('BAD_VALUE', `first cell must be VERSIONS, got command ${command}`);
      }
      if (isVariableLengthCommand(command)) {
        if (avail < idLen + 3) return pos;
        bodyLen = (data[pos + idLen + 1]! << 8) | data[pos + idLen + 2]!;
        if (bodyLen > this.maxVarBodyLen) {
          return cellError('TOO_LARGE', `variable cell of ${bodyLen} bytes exceeds ${this.maxVarBodyLen}`);
        }
        bodyStart = pos + idLen + 3;
      } else {
        bodyLen = FIXED_BODY_LEN;
        bodyStart = pos + idLen + 1;
      }
      if (data.length < bodyStart + bodyLen) return pos;
      cells.push({ circId, command, body: data.subarray(bodyStart, bodyStart + bodyLen) });
      pos = bodyStart + bodyLen;
      if (this.shortFirst) {
        this.shortFirst = false;
        this.circIdLen = 4;
      }
    }
  }

  private fail(e: CellError): Result<ChannelCell[], CellError> {
    this.failed = e;
    this.pending = EMPTY;
    return err(e);
  }
}

/** Longest cell header: 4-byte circuit id, command, 2-byte length. */
const HEADER_MAX = 7;
const EMPTY = new Uint8Array(0);

function readU32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) >>> 0) + (b[p + 1]! << 16) + (b[p + 2]! << 8) + b[p + 3]!;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
