// Binary encoding of the control messages (interface.ts) for the shared-memory control rings: a
// structured clone per message costs microseconds, these a few hundred nanoseconds.
//
// Frame: u16 payload length, then the payload: u8 type, then fields. Numbers are big-endian; ids are
// f64 (any safe integer); strings are u16 byte length + UTF-8 (cut to fit, only ever a fatal message).

import type { BackendEvent, BackendRequest, ResolveAnswer, StreamTarget } from './interface.js';

/** Longest payload a frame carries. */
export const MAX_CONTROL_PAYLOAD = 8192;
export const FRAME_HEADER = 2;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Appends fields to a private (unshared) buffer. */
export class ControlWriter {
  readonly bytes = new Uint8Array(FRAME_HEADER + MAX_CONTROL_PAYLOAD);
  private readonly view = new DataView(this.bytes.buffer);
  at = FRAME_HEADER;

  reset(): void {
    this.at = FRAME_HEADER;
  }
  u8(v: number): void {
    this.view.setUint8(this.at, v);
    this.at += 1;
  }
  u16(v: number): void {
    this.view.setUint16(this.at, v);
    this.at += 2;
  }
  u32(v: number): void {
    this.view.setUint32(this.at, v >>> 0);
    this.at += 4;
  }
  f64(v: number): void {
    this.view.setFloat64(this.at, v);
    this.at += 8;
  }
  str(s: string): void {
    const room = Math.min(0xffff, this.bytes.length - this.at - 2 - 64);
    const { written } = utf8.encodeInto(s, this.bytes.subarray(this.at + 2, this.at + 2 + Math.max(0, room)));
    this.u16(written);
    this.at += written;
  }
  /** The finished frame (a view of the scratch buffer, valid until the next message). */
  frame(): Uint8Array {
    this.view.setUint16(0, this.at - FRAME_HEADER);
    return this.bytes.subarray(0, this.at);
  }
}

/** Reads fields of one payload copied into a private buffer. */
export class ControlReader {
  readonly bytes = new Uint8Array(MAX_CONTROL_PAYLOAD);
  private readonly view = new DataView(this.bytes.buffer);
  at = 0;
  end = 0;

  load(len: number): void {
    this.at = 0;
    this.end = len;
  }
  private need(n: number): void {
    if (this.at + n > this.end) throw new RangeError('control frame too short');
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.at++);
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.at);
    this.at += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at);
    this.at += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.at);
    this.at += 8;
    return v;
  }
  str(): string {
    const n = this.u16();
    this.need(n);
    const s = fromUtf8.decode(this.bytes.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }
}

const REQ_OPEN = 1;
const REQ_RESOLVE = 2;
const REQ_ABORT = 3;
const REQ_SHUTDOWN = 4;

const EV_READY = 1;
const EV_CONNECTED = 2;
const EV_FAILED = 3;
const EV_CLOSED = 4;
const EV_RESOLVED = 5;
const EV_FATAL = 6;

const KIND_CODE = { host: 1, ipv4: 2, ipv6: 3 } as const;
const KINDS = [undefined, 'host', 'ipv4', 'ipv6'] as const;

function writeTarget(w: ControlWriter, t: StreamTarget): void {
  w.u8(KIND_CODE[t.kind]);
  w.u16(t.port);
  w.str(t.kind === 'host' ? t.host : t.addr);
}

function readTarget(r: ControlReader): StreamTarget {
  const kind = KINDS[r.u8()];
  const port = r.u16();
  const name = r.str();
  if (kind === 'host') return { kind, host: name, port };
  if (kind === undefined) throw new RangeError('bad target kind');
  return { kind, addr: name, port };
}

export function encodeRequest(w: ControlWriter, m: BackendRequest): Uint8Array {
  w.reset();
  switch (m.type) {
    case 'open':
      w.u8(REQ_OPEN);
      w.f64(m.id);
      w.u32(m.slot);
      w.u32(m.generation);
      writeTarget(w, m.target);
      w.str(m.isolationKey);
      break;
    case 'resolve':
      w.u8(REQ_RESOLVE);
      w.f64(m.id);
      w.u8(m.mode === 'forward' ? 0 : 1);
      w.str(m.name);
      w.str(m.isolationKey);
      break;
    case 'abort':
      w.u8(REQ_ABORT);
      w.f64(m.id);
      break;
    case 'shutdown':
      w.u8(REQ_SHUTDOWN);
      break;
  }
  return w.frame();
}

export function decodeRequest(r: ControlReader): BackendRequest {
  switch (r.u8()) {
    case REQ_OPEN: {
      const id = r.f64();
      const slot = r.u32();
      const generation = r.u32();
      const target = readTarget(r);
      return { type: 'open', id, slot, generation, target, isolationKey: r.str() };
    }
    case REQ_RESOLVE: {
      const id = r.f64();
      const mode = r.u8() === 0 ? 'forward' : 'reverse';
      const name = r.str();
      return { type: 'resolve', id, mode, name, isolationKey: r.str() };
    }
    case REQ_ABORT:
      return { type: 'abort', id: r.f64() };
    case REQ_SHUTDOWN:
      return { type: 'shutdown' };
    default:
      throw new RangeError('unknown control request');
  }
}

const C_BOUND = 1;
const C_SOURCE_PORT = 2;
const C_CIRCUIT = 4;

function writeAnswer(w: ControlWriter, a: ResolveAnswer): void {
  switch (a.kind) {
    case 'ipv4':
      w.u8(1);
      w.str(a.addr);
      break;
    case 'ipv6':
      w.u8(2);
      w.str(a.addr);
      break;
    case 'host':
      w.u8(3);
      w.str(a.host);
      break;
    default:
      w.u8(0);
  }
}

function readAnswer(r: ControlReader): ResolveAnswer {
  switch (r.u8()) {
    case 1:
      return { kind: 'ipv4', addr: r.str() };
    case 2:
      return { kind: 'ipv6', addr: r.str() };
    case 3:
      return { kind: 'host', host: r.str() };
    default:
      return { kind: 'error' };
  }
}

export function encodeEvent(w: ControlWriter, e: BackendEvent): Uint8Array {
  w.reset();
  switch (e.type) {
    case 'ready':
      w.u8(EV_READY);
      break;
    case 'connected': {
      w.u8(EV_CONNECTED);
      w.f64(e.id);
      const flags = (e.bound ? C_BOUND : 0) | (e.sourcePort !== undefined ? C_SOURCE_PORT : 0) | (e.circuit !== undefined ? C_CIRCUIT : 0);
      w.u8(flags);
      if (e.bound) writeTarget(w, e.bound);
      if (e.sourcePort !== undefined) w.u16(e.sourcePort);
      if (e.circuit !== undefined) w.str(e.circuit);
      break;
    }
    case 'failed':
      w.u8(EV_FAILED);
      w.f64(e.id);
      w.u16(e.reason);
      w.u16(e.onionCode === undefined ? 0xffff : e.onionCode);
      break;
    case 'closed':
      w.u8(EV_CLOSED);
      w.f64(e.id);
      w.u16(e.reason);
      break;
    case 'resolved':
      w.u8(EV_RESOLVED);
      w.f64(e.id);
      writeAnswer(w, e.answer);
      break;
    case 'fatal':
      w.u8(EV_FATAL);
      w.str(e.message);
      break;
  }
  return w.frame();
}

export function decodeEvent(r: ControlReader): BackendEvent {
  switch (r.u8()) {
    case EV_READY:
      return { type: 'ready' };
    case EV_CONNECTED: {
      const id = r.f64();
      const flags = r.u8();
      const bound = flags & C_BOUND ? readTarget(r) : undefined;
      const sourcePort = flags & C_SOURCE_PORT ? r.u16() : undefined;
      const circuit = flags & C_CIRCUIT ? r.str() : undefined;
      return { type: 'connected', id, bound, sourcePort, circuit };
    }
    case EV_FAILED: {
      const id = r.f64();
      const reason = r.u16();
      const onion = r.u16();
      return { type: 'failed', id, reason, onionCode: onion === 0xffff ? undefined : onion };
    }
    case EV_CLOSED: {
      const id = r.f64();
      return { type: 'closed', id, reason: r.u16() };
    }
    case EV_RESOLVED: {
      const id = r.f64();
      return { type: 'resolved', id, answer: readAnswer(r) };
    }
    case EV_FATAL:
      return { type: 'fatal', message: r.str() };
    default:
      throw new RangeError('unknown control event');
  }
}
