import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { err, ok, type Result } from '../bytes/result.js';
import { encodeChannelCell, type ChannelCell } from '../cell/channel-cell.js';
import { ChannelCellDecoder } from '../cell/channel-decoder.js';
import { ChanCmd } from '../cell/commands.js';
import { ChannelHandshake, type ChannelHandshakeOptions, type ChannelInfo } from './channel-handshake.js';
import { Circuit, type CreateTarget } from './circuit.js';
import { protoError, type ProtoError } from './errors.js';

export type ChannelState = 'new' | 'handshaking' | 'open' | 'closed';

export type ChannelEvent =
  | { readonly type: 'open'; readonly info: ChannelInfo }
  | { readonly type: 'closed'; readonly error: ProtoError | null };

export interface ChannelOptions extends ChannelHandshakeOptions {
  /** Where encoded cells go (the transport writes them to TLS). */
  readonly send: (bytes: Uint8Array) => void;
  /** Most circuits open at once (default 1024). */
  readonly maxCircuits?: number;
  /** Randomness for circuit ids (tests may make it deterministic). */
  readonly randomBytes?: (n: number) => Uint8Array;
  /** For the transport: called once when the channel closes, whoever owns `onEvent`. */
  readonly onClose?: (error: ProtoError | null) => void;
}

export interface ChannelCounters {
  bytesIn: number;
  bytesOut: number;
  cellsIn: number;
  cellsOut: number;
  paddingIn: number;
  cellsForUnknownCircuits: number;
  protocolErrors: number;
}

/**
 * A client channel to one relay (tor-spec §2–4): the link handshake, then circuit multiplexing.
 * Fed bytes and `now`; emits bytes through `opts.send`. Errors close the channel and every circuit.
 */
export class Channel {
  onEvent: (e: ChannelEvent) => void = () => {};
  readonly counters: ChannelCounters = { bytesIn: 0, bytesOut: 0, cellsIn: 0, cellsOut: 0, paddingIn: 0, cellsForUnknownCircuits: 0, protocolErrors: 0 };
  private st: ChannelState = 'new';
  private readonly decoder = new ChannelCellDecoder({ firstCellShortCircId: true });
  private readonly handshake: ChannelHandshake;
  private readonly circuits = new Map<number, Circuit>();
  /** Circuits whose streams hold data from the read in progress. */
  private holding: Circuit[] = [];
  private info: ChannelInfo | null = null;
  private closeError: ProtoError | null = null;
  private readonly maxCircuits: number;
  private readonly rand: (n: number) => Uint8Array;

  constructor(private readonly opts: ChannelOptions) {
    this.handshake = new ChannelHandshake(opts);
    this.maxCircuits = opts.maxCircuits ?? 1024;
    this.rand = opts.randomBytes ?? ((n) => new Uint8Array(nodeRandomBytes(n)));
  }

  get state(): ChannelState {
    return this.st;
  }
  /** Link version, peer identities and NETINFO once open. */
  get channelInfo(): ChannelInfo | null {
    return this.info;
  }
  get error(): ProtoError | null {
    return this.closeError;
  }
  get circuitCount(): number {
    return this.circuits.size;
  }

  /** Send our VERSIONS cell (2-byte circuit id). */
  start(_nowMs: number): void {
    if (this.st !== 'new') return;
    this.st = 'handshaking';
    const cell = encodeChannelCell({ circId: 0, command: ChanCmd.VERSIONS, body: this.handshake.versionsBody() }, 2);
    if (cell.ok) this.emit(cell.value);
  }

  /** Feed bytes read from TLS. */
  receive(bytes: Uint8Array, nowMs: number): void {
    if (this.st === 'closed') return;
    this.counters.bytesIn += bytes.length;
    const cells = this.decoder.push(bytes);
    if (!cells.ok) return this.close(protoError('CELL_DECODE', 'undecodable channel data', cells.error));
    for (const cell of cells.value) {
      if ((this.st as ChannelState) === 'closed') break; // a previous cell may have closed us
      this.counters.cellsIn++;
      if (this.st === 'handshaking') this.handshakeCell(cell, nowMs);
      else if (this.st === 'open') this.openCell(cell, nowMs);
      else {
        this.close(protoError('UNEXPECTED_CELL', 'cell before start()'));
        break;
      }
    }
    // Streams deliver what this read brought in one piece each.
    const holding = this.holding;
    if (holding.length > 0) {
      this.holding = [];
      for (const c of holding) c.flushStreams();
    }
  }

  /** A one-hop circuit with CREATE_FAST (use only for directory fetches). */
  createCircuitFast(_nowMs: number): Result<Circuit, ProtoError> {
    const c = this.newCircuit();
    if (!c.ok) return c;
    c.value.startFast(this.rand(20));
    return c;
  }

  /**
   * A circuit whose first hop is created with CREATE2 (ntor, or ntor v3 when `relay.ntorV3`, asking
   * for congestion control when `relay.congestionControl`); `relay` is this channel's relay.
   */
  createCircuit(relay: CreateTarget, _nowMs: number): Result<Circuit, ProtoError> {
    const c = this.newCircuit();
    if (!c.ok) return c;
    const s = c.value.startNtor(relay);
    if (!s.ok) {
      this.circuits.delete(c.value.circId);
      return s;
    }
    return c;
  }

  /** Close the channel (the transport should then close TLS). Circuits close with CHANNEL_CLOSED. */
  close(error: ProtoError | null = null): void {
    if (this.st === 'closed') return;
    this.st = 'closed';
    if (error) this.counters.protocolErrors++;
    this.closeError = error;
    const circs = [...this.circuits.values()];
    this.circuits.clear();
    for (const c of circs) c.channelClosed(error ?? protoError('CHANNEL_CLOSED', 'channel closed'));
    this.opts.onClose?.(error);
    this.onEvent({ type: 'closed', error });
  }

  // ---- CircuitLink ----

  /** @internal */
  sendCell(circId: number, command: number, body: Uint8Array): void {
    if (this.st !== 'open') return;
    const bytes = encodeChannelCell({ circId, command, body }, 4);
    if (bytes.ok) this.emit(bytes.value);
  }

  /** @internal */
  releaseCircuit(circId: number): void {
    this.circuits.delete(circId);
  }

  /** @internal */
  holdsData(circuit: Circuit): void {
    this.holding.push(circuit);
  }

  // ---- internals ----

  private newCircuit(): Result<Circuit, ProtoError> {
    if (this.st !== 'open') return err(protoError('BAD_STATE', `channel is ${this.st}`));
    if (this.circuits.size >= this.maxCircuits) return err(protoError('TOO_MANY_CIRCUITS', 'circuit limit reached'));
    let id = 0;
    do {
      const b = this.rand(4);
      // Initiator ids have the most significant bit set on link protocol 4+ (tor-spec §5.1.1).
      id = ((((b[0]! | 0x80) << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!) >>> 0;
    } while (this.circuits.has(id));
    const sid = this.rand(2);
    const circ = new Circuit(this, id, { firstStreamId: ((sid[0]! << 8) | sid[1]!) || 1 });
    this.circuits.set(id, circ);
    return ok(circ);
  }

  private handshakeCell(cell: ChannelCell, nowMs: number): void {
    const step = this.handshake.handleCell(cell, nowMs);
    if (!step.ok) return this.close(step.error);
    if (step.value.done) {
      this.st = 'open';
      this.info = step.value.done;
      for (const c of step.value.send) this.sendCell(0, c.command, c.body);
      this.onEvent({ type: 'open', info: step.value.done });
    }
  }

  private openCell(cell: ChannelCell, nowMs: number): void {
    switch (cell.command) {
      case ChanCmd.PADDING:
      case ChanCmd.VPADDING:
      case ChanCmd.PADDING_NEGOTIATE:
        this.counters.paddingIn++;
        return;
      case ChanCmd.VERSIONS:
      case ChanCmd.CERTS:
      case ChanCmd.AUTH_CHALLENGE:
      case ChanCmd.NETINFO:
        return this.close(protoError('UNEXPECTED_CELL', `handshake cell ${cell.command} on an open channel`));
    }
    if (cell.circId === 0) return; // unknown circuit-less command: ignore
    const circ = this.circuits.get(cell.circId);
    if (!circ) {
      this.counters.cellsForUnknownCircuits++;
      return;
    }
    circ.handleCell(cell, nowMs);
  }

  private emit(bytes: Uint8Array): void {
    this.counters.cellsOut++;
    this.counters.bytesOut += bytes.length;
    this.opts.send(bytes);
  }
}
