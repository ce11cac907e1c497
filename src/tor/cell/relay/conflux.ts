import { Reader } from '../../bytes/reader.js';
import { Writer } from '../../bytes/writer.js';
import { err, ok, type Result } from '../../bytes/result.js';
import { CellDecodeFailure, cellError, decodeWith, type CellError } from '../errors.js';

// Conflux relay messages (proposal 329, tor-spec "Conflux"; C tor's trunnel/conflux.trunnel):
//   CONFLUX_LINK / CONFLUX_LINKED = VERSION(1)=1 | NONCE(32) | LAST_SEQNO_SENT(8) | LAST_SEQNO_RECV(8) | DESIRED_UX(1)
//   CONFLUX_LINKED_ACK            = empty
//   CONFLUX_SWITCH                = RELATIVE_SEQ(4)
// Bytes after these fields are ignored, as C tor's trunnel parsers do.

export const CONFLUX_NONCE_LEN = 32;
export const CONFLUX_LINK_VERSION = 1;

/** DESIRED_UX values: how the sender wants the peer to schedule cells across legs. */
export const ConfluxUx = {
  NO_OPINION: 0,
  MIN_LATENCY: 1,
  LOW_MEM_LATENCY: 2,
  HIGH_THROUGHPUT: 3,
  LOW_MEM_THROUGHPUT: 4,
} as const;

/** Body of CONFLUX_LINK (client → exit) and CONFLUX_LINKED (exit → client). */
export interface ConfluxLink {
  readonly nonce: Uint8Array;
  /** Sequence numbers fit in a JS number: 2^53 cells is far beyond any circuit's life. */
  readonly lastSeqnoSent: number;
  readonly lastSeqnoRecv: number;
  readonly desiredUx: number;
}

const U32 = 0x1_0000_0000;

function isUx(v: number): boolean {
  return Number.isInteger(v) && v >= ConfluxUx.NO_OPINION && v <= ConfluxUx.LOW_MEM_THROUGHPUT;
}
function isSeqno(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

export function encodeConfluxLinkBody(link: ConfluxLink): Result<Uint8Array, CellError> {
  if (link.nonce.length !== CONFLUX_NONCE_LEN) return err(cellError('BAD_LENGTH', `conflux nonce must be ${CONFLUX_NONCE_LEN} bytes`));
  if (!isSeqno(link.lastSeqnoSent) || !isSeqno(link.lastSeqnoRecv)) return err(cellError('BAD_VALUE', 'conflux sequence number out of range'));
  if (!isUx(link.desiredUx)) return err(cellError('BAD_VALUE', `conflux desired_ux ${link.desiredUx}`));
  const w = new Writer(1 + CONFLUX_NONCE_LEN + 8 + 8 + 1).u8(CONFLUX_LINK_VERSION).bytes(link.nonce);
  for (const v of [link.lastSeqnoSent, link.lastSeqnoRecv]) w.u32(Math.floor(v / U32)).u32(v % U32);
  return ok(w.u8(link.desiredUx).finish());
}

function readU64(r: Reader): number {
  const hi = r.u32();
  const lo = r.u32();
  const v = hi * U32 + lo;
  if (!Number.isSafeInteger(v)) throw new CellDecodeFailure('BAD_VALUE', 'sequence number above 2^53');
  return v;
}

export function decodeConfluxLinkBody(body: Uint8Array, what = 'CONFLUX_LINK'): Result<ConfluxLink, CellError> {
  return decodeWith(what, (): ConfluxLink => {
    const r = new Reader(body);
    const version = r.u8();
    if (version !== CONFLUX_LINK_VERSION) throw new CellDecodeFailure('BAD_VALUE', `unsupported version ${version}`);
    const nonce = r.bytes(CONFLUX_NONCE_LEN).slice();
    const lastSeqnoSent = readU64(r);
    const lastSeqnoRecv = readU64(r);
    const desiredUx = r.u8();
    if (!isUx(desiredUx)) throw new CellDecodeFailure('BAD_VALUE', `desired_ux ${desiredUx}`);
    return { nonce, lastSeqnoSent, lastSeqnoRecv, desiredUx };
  });
}

/** CONFLUX_LINKED has the LINK layout. */
export const encodeConfluxLinkedBody = encodeConfluxLinkBody;
export function decodeConfluxLinkedBody(body: Uint8Array): Result<ConfluxLink, CellError> {
  return decodeConfluxLinkBody(body, 'CONFLUX_LINKED');
}

export function encodeConfluxLinkedAckBody(): Uint8Array {
  return new Uint8Array(0);
}

/** CONFLUX_SWITCH: how far the sender's sequence number jumps on this leg. */
export function encodeConfluxSwitchBody(relativeSeq: number): Result<Uint8Array, CellError> {
  if (!Number.isInteger(relativeSeq) || relativeSeq < 0 || relativeSeq >= U32) return err(cellError('BAD_VALUE', `CONFLUX_SWITCH relative seq ${relativeSeq}`));
  return ok(new Writer(4).u32(relativeSeq).finish());
}

export function decodeConfluxSwitchBody(body: Uint8Array): Result<number, CellError> {
  return decodeWith('CONFLUX_SWITCH', () => new Reader(body).u32());
}
