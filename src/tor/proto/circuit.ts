import { err, ok, type Result } from '../bytes/result.js';
import { ChanCmd, RelayCmd } from '../cell/commands.js';
import { decodeCreated2Body, decodeCreatedFastBody, encodeCreate2Body, encodeCreateFastBody, HandshakeType } from '../cell/create.js';
import { DestroyReason, decodeDestroyBody, encodeDestroyBody } from '../cell/destroy.js';
import { decodeRelayBody, encodeRelayBody } from '../cell/relay-cell.js';
import { encodeBeginBody, encodeBeginDirBody } from '../cell/relay/begin.js';
import { decodeExtended2Body, encodeExtend2Body, type LinkSpecifier } from '../cell/relay/extend2.js';
import { encodeResolveBody } from '../cell/relay/resolve.js';
import { decodeSendmeBody, encodeSendmeBody } from '../cell/relay/sendme.js';
import { decodeTruncatedBody, encodeTruncateBody } from '../cell/relay/truncate.js';
import { createFastClientComplete, createFastClientStart, type CreateFastClientState } from '../crypto/create-fast.js';
import { ntorClientComplete, ntorClientStart, type NtorClientState, type NtorRelayKey } from '../crypto/ntor.js';
import { ntorV3ClientComplete, ntorV3ClientStart, type NtorV3ClientState } from '../crypto/ntor-v3.js';
import { splitRelayKeys, TOR1_KEY_MATERIAL_LEN, type RelayKeys } from '../crypto/relay-keys.js';
import { ccResponseSendmeInc, decodeNtorV3Extensions, encodeNtorV3Extensions, NtorV3ExtType } from '../cell/ntor-v3-extensions.js';
import { Tor1CircuitCrypto } from '../crypto/tor1.js';
import type { ChannelCell } from '../cell/channel-cell.js';
import { ipToBytes } from './addr.js';
import { protoError, type ProtoError } from './errors.js';
import { CircuitHopWindows, type HopFlow } from './flow-control.js';
import { sendmeIncAcceptable, VegasHop, type CcParams } from './congestion-control.js';
import { Stream, type StreamHost, type StreamKind, type StreamOptions } from './stream.js';

/** Most RELAY_EARLY cells a circuit may send (tor-spec §5.6). */
export const MAX_RELAY_EARLY = 8;
const DEFAULT_MAX_STREAMS = 512;

/** How a hop is created: ntor (default) or ntor v3, optionally asking for congestion control. */
export interface HopHandshake {
  /** Use ntor v3 (CREATE2 type 3); needs the relay's Ed25519 identity. */
  readonly ntorV3?: boolean;
  /**
   * Ask the hop for congestion control (ntor v3 only) with these consensus parameters. Whether the
   * hop agreed shows in `ccOf(hop)`; without its CC response the hop keeps fixed windows.
   */
  readonly congestionControl?: CcParams;
}

/** A relay to create the first hop with. */
export interface CreateTarget extends NtorRelayKey, HopHandshake {
  readonly ed25519Id?: Uint8Array;
}

/** The next relay to extend to (EXTEND2 link specifiers + ntor key). */
export interface ExtendTarget extends HopHandshake {
  readonly rsaId: Uint8Array; // 20
  readonly ed25519Id?: Uint8Array; // 32
  readonly ntorKey: Uint8Array; // 32
  /** IPv4 or IPv6 literal of the relay's ORPort. */
  readonly addr: string;
  readonly port: number;
  /** Optional extra IPv6 ORPort. */
  readonly ipv6?: { readonly addr: string; readonly port: number };
}

export type CircuitState = 'creating' | 'open' | 'extending' | 'closed';

export type CircuitEvent =
  | { readonly type: 'open' }
  | { readonly type: 'extended'; readonly hops: number }
  | { readonly type: 'truncated'; readonly hops: number; readonly reason: number }
  /** remote = the relay sent DESTROY; reason is a DestroyReason code. */
  | { readonly type: 'closed'; readonly reason: number; readonly remote: boolean; readonly error: ProtoError | null };

/** What the circuit needs from its channel. */
export interface CircuitLink {
  sendCell(circId: number, command: number, body: Uint8Array): void;
  releaseCircuit(circId: number): void;
  /** The circuit has streams holding data: call its `flushStreams()` after the current batch of cells. */
  holdsData(circuit: Circuit): void;
}

/**
 * What a conflux set (proto/conflux-set.ts) gets from a circuit that is one of its legs: every
 * relay message from the exit hop that is not circuit-level (stream commands and CONFLUX_*), window
 * openings, and the end of the circuit. Circuit-level SENDMEs and congestion control stay per leg.
 */
export interface ConfluxLegHost {
  legMessage(leg: Circuit, command: number, streamId: number, data: Uint8Array, nowMs: number): void;
  /** A circuit SENDME from the exit hop opened the leg's window. */
  legWritable(leg: Circuit): void;
  legClosed(leg: Circuit, error: ProtoError | null): void;
}

const CONFLUX_COMMANDS = new Set<number>([RelayCmd.CONFLUX_LINK, RelayCmd.CONFLUX_LINKED, RelayCmd.CONFLUX_LINKED_ACK, RelayCmd.CONFLUX_SWITCH]);

type PendingHandshake =
  | { readonly kind: 'fast'; readonly state: CreateFastClientState }
  | { readonly kind: 'ntor'; readonly state: NtorClientState; readonly viaExtend: boolean }
  | { readonly kind: 'ntor3'; readonly state: NtorV3ClientState; readonly viaExtend: boolean; readonly cc: CcParams | undefined };

export interface CircuitCounters {
  relayCellsIn: number;
  relayCellsOut: number;
  dataCellsIn: number;
  dataCellsOut: number;
  sendmesIn: number;
  sendmesOut: number;
  droppedForUnknownStream: number;
  protocolErrors: number;
}

/**
 * A client circuit (tor-spec §5): creation (CREATE_FAST or ntor CREATE2), EXTEND2 in RELAY_EARLY,
 * tor1 layered crypto, DESTROY/TRUNCATED, circuit windows with SENDME v1, and its streams.
 * Created by Channel; fed cells by it.
 */
export class Circuit implements StreamHost {
  onEvent: (e: CircuitEvent) => void = () => {};
  readonly counters: CircuitCounters = {
    relayCellsIn: 0, relayCellsOut: 0, dataCellsIn: 0, dataCellsOut: 0, sendmesIn: 0, sendmesOut: 0, droppedForUnknownStream: 0, protocolErrors: 0,
  };
  private st: CircuitState = 'creating';
  private readonly crypto = new Tor1CircuitCrypto();
  private readonly windows: HopFlow[] = [];
  private readonly streams = new Map<number, Stream>();
  /** Streams holding data from the channel read in progress. */
  private holding: Stream[] = [];
  private pending: PendingHandshake | null = null;
  private relayEarlyLeft = MAX_RELAY_EARLY;
  /** The conflux set this circuit is a leg of: it owns the streams then. */
  private conflux: ConfluxLegHost | null = null;
  private nextStreamId: number;
  private readonly maxStreams: number;

  /** @internal use Channel.createCircuit / createCircuitFast */
  constructor(
    private readonly link: CircuitLink,
    readonly circId: number,
    opts: { firstStreamId?: number; maxStreams?: number } = {},
  ) {
    this.nextStreamId = Math.max(1, Math.min(0xffff, opts.firstStreamId ?? 1));
    this.maxStreams = opts.maxStreams ?? DEFAULT_MAX_STREAMS;
  }

  get state(): CircuitState {
    return this.st;
  }
  get hops(): number {
    return this.crypto.hopCount;
  }
  get streamCount(): number {
    return this.streams.size;
  }
  get relayEarlyRemaining(): number {
    return this.relayEarlyLeft;
  }
  /** Circuit-level windows toward hop `hop` (for inspection). */
  windowsOf(hop: number): { packageWindow: number; deliverWindow: number } | null {
    const w = this.windows[hop];
    return w instanceof CircuitHopWindows ? { packageWindow: w.packageWindow, deliverWindow: w.deliverWindow } : null;
  }
  /** The congestion control state of hop `hop`, or null when it uses fixed windows. */
  ccOf(hop: number): VegasHop | null {
    const w = this.windows[hop];
    return w instanceof VegasHop ? w : null;
  }

  /** The conflux set this circuit is a leg of, if any. */
  get confluxHost(): ConfluxLegHost | null {
    return this.conflux;
  }

  /**
   * Make this circuit a leg of a conflux set: from now on the exit hop's stream and CONFLUX_*
   * messages go to `host`, and the circuit opens no streams of its own. Needs an open circuit with
   * congestion control at its exit hop and no streams.
   */
  joinConflux(host: ConfluxLegHost): Result<void, ProtoError> {
    if (this.st !== 'open') return err(protoError('BAD_STATE', `cannot link a circuit that is ${this.st}`));
    if (this.conflux) return err(protoError('BAD_STATE', 'circuit is already a conflux leg'));
    if (this.streams.size > 0) return err(protoError('BAD_STATE', 'a conflux leg must have no streams'));
    if (!this.ccOf(this.hops - 1)) return err(protoError('BAD_STATE', 'conflux needs congestion control at the exit hop'));
    this.conflux = host;
    return ok(undefined);
  }

  /** Conflux: send one relay message to the exit hop (false if the circuit is closed). */
  sendExitMessage(command: number, streamId: number, data: Uint8Array): boolean {
    if (this.st === 'closed') return false;
    return this.sendRelay(this.hops - 1, command, streamId, data, false) !== null;
  }

  /** Conflux: send one DATA cell to the exit hop if its congestion window allows. */
  packageExitData(streamId: number, data: Uint8Array, nowMs: number): boolean {
    const hop = this.hops - 1;
    const w = this.windows[hop];
    if (this.st === 'closed' || !w || !w.canPackage) return false;
    const tag = this.sendRelay(hop, RelayCmd.DATA, streamId, data, false);
    if (!tag) return false;
    w.notePackaged(tag, nowMs);
    this.counters.dataCellsOut++;
    return true;
  }

  /** @internal */
  startFast(x?: Uint8Array): void {
    const { state, message } = createFastClientStart(x);
    this.pending = { kind: 'fast', state };
    this.link.sendCell(this.circId, ChanCmd.CREATE_FAST, encodeCreateFastBody(message));
  }

  /** @internal */
  startNtor(relay: CreateTarget): Result<void, ProtoError> {
    const hs = this.startHandshake(relay, relay.ed25519Id, relay, false);
    if (!hs.ok) return hs;
    this.link.sendCell(this.circId, ChanCmd.CREATE2, encodeCreate2Body(hs.value));
    return ok(undefined);
  }

  /** Begin an ntor or ntor v3 handshake with `relay`; sets `pending`. */
  private startHandshake(relay: NtorRelayKey, ed25519Id: Uint8Array | undefined, hs: HopHandshake, viaExtend: boolean): Result<{ handshakeType: number; handshakeData: Uint8Array }, ProtoError> {
    if (!hs.ntorV3) {
      if (hs.congestionControl) return err(protoError('BAD_ARGUMENT', 'congestion control needs the ntor v3 handshake'));
      const s = ntorClientStart(relay);
      if (!s.ok) return err(protoError('BAD_ARGUMENT', s.error.message, s.error));
      this.pending = { kind: 'ntor', state: s.value.state, viaExtend };
      return ok({ handshakeType: HandshakeType.NTOR, handshakeData: s.value.message });
    }
    if (!ed25519Id) return err(protoError('BAD_ARGUMENT', 'ntor v3 needs the relay Ed25519 identity'));
    const msg = encodeNtorV3Extensions(hs.congestionControl ? [{ type: NtorV3ExtType.CC_REQUEST, body: new Uint8Array(0) }] : []);
    if (!msg.ok) return err(protoError('BAD_ARGUMENT', msg.error.message, msg.error));
    const s = ntorV3ClientStart({ ed25519Id, ntorKey: relay.ntorKey }, msg.value);
    if (!s.ok) return err(protoError('BAD_ARGUMENT', s.error.message, s.error));
    this.pending = { kind: 'ntor3', state: s.value.state, viaExtend, cc: hs.congestionControl };
    return ok({ handshakeType: HandshakeType.NTOR_V3, handshakeData: s.value.onionSkin });
  }

  /** Finish the pending ntor/ntor v3 handshake with the relay's reply: keys and the hop's flow control. */
  private finishHandshake(reply: Uint8Array): Result<{ keys: RelayKeys; flow: HopFlow }, ProtoError> {
    const p = this.pending;
    if (p?.kind === 'ntor') {
      const k = ntorClientComplete(p.state, reply);
      if (!k.ok) return err(protoError('CIRCUIT_HANDSHAKE_FAILED', 'circuit handshake failed', k.error));
      return ok({ keys: k.value, flow: new CircuitHopWindows() });
    }
    if (p?.kind !== 'ntor3') return err(protoError('PROTOCOL_VIOLATION', 'no handshake in progress'));
    const done = ntorV3ClientComplete(p.state, reply, TOR1_KEY_MATERIAL_LEN);
    if (!done.ok) return err(protoError('CIRCUIT_HANDSHAKE_FAILED', 'ntor v3 handshake failed', done.error));
    const exts = decodeNtorV3Extensions(done.value.serverMessage);
    if (!exts.ok) return err(protoError('CELL_DECODE', 'malformed ntor v3 server extensions', exts.error));
    const inc = ccResponseSendmeInc(exts.value);
    if (inc === 'malformed') return err(protoError('PROTOCOL_VIOLATION', 'malformed congestion control response'));
    let flow: HopFlow = new CircuitHopWindows();
    if (inc !== null) {
      // A CC response we did not ask for, or an increment far from the consensus, is refused.
      if (!p.cc) return err(protoError('PROTOCOL_VIOLATION', 'unrequested congestion control response'));
      if (!sendmeIncAcceptable(inc, p.cc)) return err(protoError('PROTOCOL_VIOLATION', `unacceptable sendme_inc ${inc}`));
      flow = new VegasHop(p.cc, inc);
    }
    return ok({ keys: splitRelayKeys(done.value.keys), flow });
  }

  /** Extend by one hop with ntor (EXTEND2 in RELAY_EARLY to the current last hop). */
  extend(target: ExtendTarget, _nowMs: number): Result<void, ProtoError> {
    if (this.st !== 'open') return err(protoError('BAD_STATE', `cannot extend a circuit that is ${this.st}`));
    if (this.relayEarlyLeft <= 0) return err(protoError('RELAY_EARLY_EXHAUSTED', 'no RELAY_EARLY cells left for EXTEND2'));
    const specs: LinkSpecifier[] = [];
    const ip = ipToBytes(target.addr);
    if (!ip || target.port < 1 || target.port > 65535) return err(protoError('BAD_ARGUMENT', 'extend target needs an IP literal and port'));
    specs.push(ip.type === 4 ? { type: 0, addr: ip.bytes, port: target.port } : { type: 1, addr: ip.bytes, port: target.port });
    specs.push({ type: 2, rsaId: target.rsaId });
    if (target.ed25519Id) specs.push({ type: 3, ed25519Id: target.ed25519Id });
    if (target.ipv6) {
      const v6 = ipToBytes(target.ipv6.addr);
      if (!v6 || v6.type !== 6) return err(protoError('BAD_ARGUMENT', 'extend ipv6 must be an IPv6 literal'));
      specs.push({ type: 1, addr: v6.bytes, port: target.ipv6.port });
    }
    const hs = this.startHandshake({ rsaId: target.rsaId, ntorKey: target.ntorKey }, target.ed25519Id, target, true);
    if (!hs.ok) return hs;
    const body = encodeExtend2Body({ linkSpecifiers: specs, ...hs.value });
    if (!body.ok) {
      this.pending = null;
      return err(protoError('BAD_ARGUMENT', body.error.message, body.error));
    }
    this.st = 'extending';
    this.sendRelay(this.hops - 1, RelayCmd.EXTEND2, 0, body.value, true);
    return ok(undefined);
  }

  /** Open an exit stream to host:port (BEGIN) at the last hop. */
  beginStream(host: string, port: number, opts: StreamOptions & { flags?: number } = {}, nowMs = 0): Result<Stream, ProtoError> {
    const body = encodeBeginBody({ host, port, flags: opts.flags ?? 0 });
    if (!body.ok) return err(protoError('BAD_ARGUMENT', body.error.message, body.error));
    return this.openStream('data', RelayCmd.BEGIN, body.value, opts, nowMs);
  }

  /** Open a directory stream to the last hop (BEGIN_DIR). */
  beginDir(opts: StreamOptions = {}, nowMs = 0): Result<Stream, ProtoError> {
    return this.openStream('dir', RelayCmd.BEGIN_DIR, encodeBeginDirBody(), opts, nowMs);
  }

  /** Ask the last hop to resolve a name (RESOLVE); answers arrive as a 'resolved' stream event. */
  resolve(hostname: string, nowMs = 0): Result<Stream, ProtoError> {
    const body = encodeResolveBody(hostname);
    if (!body.ok) return err(protoError('BAD_ARGUMENT', body.error.message, body.error));
    return this.openStream('resolve', RelayCmd.RESOLVE, body.value, {}, nowMs);
  }

  /**
   * Ask hop `keepHops - 1` to drop everything after it (RELAY TRUNCATE). The hops go away when its
   * TRUNCATED arrives (a 'truncated' event).
   */
  truncate(keepHops: number, _nowMs = 0): Result<void, ProtoError> {
    if (this.st !== 'open') return err(protoError('BAD_STATE', `cannot truncate a circuit that is ${this.st}`));
    if (!Number.isInteger(keepHops) || keepHops < 1 || keepHops >= this.hops) {
      return err(protoError('BAD_ARGUMENT', `cannot keep ${keepHops} of ${this.hops} hops`));
    }
    this.sendRelay(keepHops - 1, RelayCmd.TRUNCATE, 0, encodeTruncateBody(), false);
    return ok(undefined);
  }

  /** Tear the circuit down (sends DESTROY). */
  destroy(reason: number = DestroyReason.FINISHED): void {
    this.close(reason, false, null);
  }

  // ---- StreamHost ----

  sendStreamMessage(stream: Stream, command: number, data: Uint8Array): void {
    if (this.st === 'closed') return;
    this.sendRelay(stream.hop, command, stream.id, data, false);
  }

  packageStreamData(stream: Stream, data: Uint8Array, nowMs: number): boolean {
    const w = this.windows[stream.hop];
    if (this.st === 'closed' || !w || !w.canPackage) return false;
    const tag = this.sendRelay(stream.hop, RelayCmd.DATA, stream.id, data, false);
    if (!tag) return false;
    w.notePackaged(tag, nowMs);
    this.counters.dataCellsOut++;
    return true;
  }

  circuitPackageWindow(hop: number): number {
    return this.st === 'closed' ? 0 : (this.windows[hop]?.packageWindow ?? 0);
  }

  detachStream(stream: Stream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
  }

  holdsData(stream: Stream): void {
    if (this.holding.length === 0) this.link.holdsData(this);
    this.holding.push(stream);
  }

  /** @internal Hand every stream's held data to its consumer (end of a channel read). */
  flushStreams(): void {
    const list = this.holding;
    if (list.length === 0) return;
    this.holding = [];
    for (const s of list) s.flush();
  }

  // ---- called by the channel ----

  /** @internal */
  handleCell(cell: ChannelCell, nowMs: number): void {
    if (this.st === 'closed') return;
    switch (cell.command) {
      case ChanCmd.CREATED_FAST: {
        if (this.st !== 'creating' || this.pending?.kind !== 'fast') return this.fail('unexpected CREATED_FAST');
        const m = decodeCreatedFastBody(cell.body);
        if (!m.ok) return this.fail('malformed CREATED_FAST');
        const keys = createFastClientComplete(this.pending.state, m.value.y, m.value.kh);
        if (!keys.ok) return this.fail('circuit handshake failed', 'CIRCUIT_HANDSHAKE_FAILED', keys.error);
        return this.addHop(keys.value, new CircuitHopWindows(), { type: 'open' });
      }
      case ChanCmd.CREATED2: {
        const p = this.pending;
        if (this.st !== 'creating' || (p?.kind !== 'ntor' && p?.kind !== 'ntor3') || p.viaExtend) return this.fail('unexpected CREATED2');
        const m = decodeCreated2Body(cell.body);
        if (!m.ok) return this.fail('malformed CREATED2');
        const done = this.finishHandshake(m.value);
        if (!done.ok) return this.fail(done.error.message, done.error.code, done.error.cause);
        return this.addHop(done.value.keys, done.value.flow, { type: 'open' });
      }
      case ChanCmd.DESTROY: {
        const r = decodeDestroyBody(cell.body);
        return this.close(r.ok ? r.value : DestroyReason.NONE, true, null);
      }
      case ChanCmd.RELAY:
        return this.handleRelay(cell.body, nowMs);
      default:
        // RELAY_EARLY toward a client, CREATE*, … are protocol violations.
        return this.fail(`unexpected cell command ${cell.command} on a client circuit`);
    }
  }

  /** @internal */
  channelClosed(error: ProtoError | null): void {
    if (this.st === 'closed') return;
    this.close(DestroyReason.CHANNEL_CLOSED, true, error);
  }

  // ---- internals ----

  private openStream(kind: StreamKind, command: number, body: Uint8Array, opts: StreamOptions, _nowMs: number): Result<Stream, ProtoError> {
    if (this.st !== 'open') return err(protoError('BAD_STATE', `cannot open a stream on a circuit that is ${this.st}`));
    if (this.conflux) return err(protoError('BAD_STATE', 'streams of a conflux leg belong to its set'));
    if (this.streams.size >= this.maxStreams) return err(protoError('TOO_MANY_STREAMS', 'stream limit reached'));
    let id = this.nextStreamId;
    while (this.streams.has(id)) id = id >= 0xffff ? 1 : id + 1;
    this.nextStreamId = id >= 0xffff ? 1 : id + 1;
    const stream = new Stream(this, id, kind, this.hops - 1, opts, this.windows[this.hops - 1] instanceof VegasHop);
    this.streams.set(id, stream);
    this.sendRelay(stream.hop, command, id, body, false);
    return ok(stream);
  }

  private addHop(keys: RelayKeys, flow: HopFlow, event: CircuitEvent): void {
    this.pending = null;
    this.crypto.addHop(keys);
    this.windows.push(flow);
    this.st = 'open';
    this.onEvent(event);
  }

  /** Encrypt and send one relay cell toward `hop`; returns the forward digest (SENDME tag). */
  private sendRelay(hop: number, command: number, streamId: number, data: Uint8Array, early: boolean): Uint8Array | null {
    const body = encodeRelayBody({ command, streamId, data });
    if (!body.ok) return null;
    const tag = this.crypto.encryptOutbound(body.value, hop);
    if (early) this.relayEarlyLeft--;
    this.counters.relayCellsOut++;
    this.link.sendCell(this.circId, early ? ChanCmd.RELAY_EARLY : ChanCmd.RELAY, body.value);
    return tag;
  }

  private handleRelay(body: Uint8Array, nowMs: number): void {
    if (this.hops === 0) return this.fail('RELAY cell before the circuit was created');
    const hop = this.crypto.peelInbound(body);
    if (hop < 0) return this.fail('unrecognized relay cell', 'UNRECOGNIZED_RELAY_CELL');
    this.counters.relayCellsIn++;
    const msg = decodeRelayBody(body);
    if (!msg.ok) return this.fail('malformed relay cell', 'CELL_DECODE', msg.error);
    const { command, streamId, data } = msg.value;
    switch (command) {
      case RelayCmd.DATA: {
        this.counters.dataCellsIn++;
        const verdict = this.windows[hop]!.noteDelivered();
        if (verdict === 'violation') return this.fail('circuit deliver window exceeded', 'WINDOW_VIOLATION');
        if (verdict === 'sendme') {
          this.counters.sendmesOut++;
          // lastTag is the digest after this DATA cell (the v1 SENDME echoes it).
          this.sendRelay(hop, RelayCmd.SENDME, 0, encodeSendmeBody({ version: 1, tag: this.crypto.lastTag }), false);
        }
        if (streamId === 0) return this.fail('DATA on stream 0');
        if (this.conflux) return this.toConflux(hop, command, streamId, data, nowMs);
        return this.toStream(streamId, hop, command, data, nowMs);
      }
      case RelayCmd.SENDME: {
        if (streamId !== 0) return this.toStream(streamId, hop, command, data, nowMs);
        this.counters.sendmesIn++;
        const s = decodeSendmeBody(data);
        const tag = s.ok && s.value.version === 1 ? s.value.tag : null;
        const verdict = this.windows[hop]!.noteSendme(tag, nowMs);
        if (verdict === 'overflow') return this.fail('circuit SENDME overflows the package window', 'WINDOW_VIOLATION');
        if (verdict === 'unauthenticated') return this.fail('circuit SENDME is not an authenticated v1 SENDME', 'SENDME_UNAUTHENTICATED');
        for (const st of this.streams.values()) if (st.hop === hop) st.circuitWritable();
        if (this.conflux && hop === this.hops - 1) this.conflux.legWritable(this);
        return;
      }
      case RelayCmd.EXTENDED2: {
        const p = this.pending;
        if (this.st !== 'extending' || (p?.kind !== 'ntor' && p?.kind !== 'ntor3') || !p.viaExtend || hop !== this.hops - 1) return this.fail('unexpected EXTENDED2');
        const hs = decodeExtended2Body(data);
        if (!hs.ok) return this.fail('malformed EXTENDED2', 'CELL_DECODE', hs.error);
        const done = this.finishHandshake(hs.value);
        if (!done.ok) return this.fail(`EXTENDED2: ${done.error.message}`, done.error.code, done.error.cause);
        return this.addHop(done.value.keys, done.value.flow, { type: 'extended', hops: this.hops + 1 });
      }
      case RelayCmd.TRUNCATED: {
        const r = decodeTruncatedBody(data);
        const keep = hop + 1;
        this.crypto.truncate(keep);
        this.windows.length = keep;
        for (const st of [...this.streams.values()]) {
          if (st.hop >= keep) {
            this.streams.delete(st.id);
            st.circuitClosed(null);
          }
        }
        this.pending = null;
        this.st = 'open';
        this.onEvent({ type: 'truncated', hops: keep, reason: r.ok ? r.value : DestroyReason.NONE });
        return;
      }
      case RelayCmd.DROP:
        return;
      default:
        if (this.conflux && (streamId !== 0 || CONFLUX_COMMANDS.has(command))) return this.toConflux(hop, command, streamId, data, nowMs);
        if (streamId !== 0) return this.toStream(streamId, hop, command, data, nowMs);
        return; // unknown circuit-level command (CONFLUX_* on a circuit that is no leg): ignored
    }
  }

  /** Conflux cells must come from the exit hop: a middle could otherwise corrupt the set's order. */
  private toConflux(hop: number, command: number, streamId: number, data: Uint8Array, nowMs: number): void {
    if (hop !== this.hops - 1) return this.fail('conflux leg cell from a hop other than the exit');
    this.conflux!.legMessage(this, command, streamId, data, nowMs);
  }

  private toStream(streamId: number, hop: number, command: number, data: Uint8Array, nowMs: number): void {
    const s = this.streams.get(streamId);
    if (!s || s.hop !== hop) {
      // A stream we already closed (the exit may still be sending): count and drop.
      this.counters.droppedForUnknownStream++;
      return;
    }
    s.handleMessage(command, data, nowMs);
  }

  private fail(message: string, code: ProtoError['code'] = 'PROTOCOL_VIOLATION', cause?: ProtoError['cause']): void {
    this.counters.protocolErrors++;
    this.close(DestroyReason.PROTOCOL, false, protoError(code, message, cause));
  }

  private close(reason: number, remote: boolean, error: ProtoError | null): void {
    if (this.st === 'closed') return;
    this.st = 'closed';
    this.pending = null;
    if (!remote) this.link.sendCell(this.circId, ChanCmd.DESTROY, encodeDestroyBody(reason));
    this.link.releaseCircuit(this.circId);
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const s of streams) s.circuitClosed(error);
    const set = this.conflux;
    this.conflux = null;
    set?.legClosed(this, error);
    this.onEvent({ type: 'closed', reason, remote, error });
  }
}
