import { Writer } from '../bytes/writer.js';
import { err, ok, type Result } from '../bytes/result.js';
import { isVariableLengthCommand } from './commands.js';
import { cellError, type CellError } from './errors.js';

/** Body size of a fixed-length cell. */
export const FIXED_BODY_LEN = 509;
/** Largest body a variable-length cell can carry (u16 length). */
export const MAX_VAR_BODY_LEN = 0xffff;

export type CircIdLen = 2 | 4;

/** One channel cell: the unit a channel carries (tor-spec §3). */
export interface ChannelCell {
  readonly circId: number;
  readonly command: number;
  /** Fixed cells: exactly 509 bytes on decode; on encode shorter bodies are zero-padded. */
  readonly body: Uint8Array;
}

/** Encoded size of a fixed cell with this circuit-id length. */
export function fixedCellLen(circIdLen: CircIdLen): number {
  return circIdLen + 1 + FIXED_BODY_LEN;
}

export function encodeChannelCell(cell: ChannelCell, circIdLen: CircIdLen): Result<Uint8Array, CellError> {
  const maxId = circIdLen === 2 ? 0xffff : 0xffffffff;
  if (!Number.isInteger(cell.circId) || cell.circId < 0 || cell.circId > maxId) {
    return err(cellError('BAD_VALUE', `circuit id ${cell.circId} does not fit ${circIdLen} bytes`));
  }
  if (!Number.isInteger(cell.command) || cell.command < 0 || cell.command > 255) {
    return err(cellError('BAD_VALUE', `command ${cell.command} out of range`));
  }
  const variable = isVariableLengthCommand(cell.command);
  if (variable && cell.body.length > MAX_VAR_BODY_LEN) return err(cellError('TOO_LARGE', 'variable cell body too large'));
  if (!variable && cell.body.length > FIXED_BODY_LEN) return err(cellError('TOO_LARGE', 'fixed cell body exceeds 509 bytes'));
  const w = new Writer(circIdLen + 3 + MAX_VAR_BODY_LEN, variable ? circIdLen + 3 + cell.body.length : fixedCellLen(circIdLen));
  if (circIdLen === 2) w.u16(cell.circId);
  else w.u32(cell.circId);
  w.u8(cell.command);
  if (variable) {
    w.u16(cell.body.length).bytes(cell.body);
  } else {
    w.bytes(cell.body).zeros(FIXED_BODY_LEN - cell.body.length);
  }
  return ok(w.finish());
}
