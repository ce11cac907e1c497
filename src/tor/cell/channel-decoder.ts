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
 * buffer never exceeds one maximum-size cell; complete cells are returned as copies.
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
    const data = this.pending.length === 0 ? chunk : concat(this.pending, chunk);
    const cells: ChannelCell[] = [];
    let pos = 0;
    for (;;) {
      const idLen = this.circIdLen;
      const avail = data.length - pos;
      if (avail < idLen + 1) break;
      const circId = idLen === 2 ? (data[pos]! << 8) | data[pos + 1]! : readU32(data, pos);
      const command = data[pos + idLen]!;
      let bodyStart: number;
      let bodyLen: number;
      if (this.shortFirst && command !== ChanCmd.VERSIONS) {
        return this.fail(cellError('BAD_VALUE', `first cell must be VERSIONS, got command ${command}`));
      }
      if (isVariableLengthCommand(command)) {
        if (avail < idLen + 3) break;
        bodyLen = (data[pos + idLen + 1]! << 8) | data[pos + idLen + 2]!;
        if (bodyLen > this.maxVarBodyLen) {
          return this.fail(cellError('TOO_LARGE', `variable cell of ${bodyLen} bytes exceeds ${this.maxVarBodyLen}`));
        }
        bodyStart = pos + idLen + 3;
      } else {
        bodyLen = FIXED_BODY_LEN;
        bodyStart = pos + idLen + 1;
      }
      if (data.length < bodyStart + bodyLen) break;
      cells.push({ circId, command, body: data.slice(bodyStart, bodyStart + bodyLen) });
      pos = bodyStart + bodyLen;
      if (this.shortFirst) {
        this.shortFirst = false;
        this.circIdLen = 4;
      }
    }
    this.pending = pos === data.length ? new Uint8Array(0) : data.slice(pos);
    return ok(cells);
  }

  private fail(e: CellError): Result<ChannelCell[], CellError> {
    this.failed = e;
    this.pending = new Uint8Array(0);
    return err(e);
  }
}

function readU32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) >>> 0) + (b[p + 1]! << 16) + (b[p + 2]! << 8) + b[p + 3]!;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
