// The contract between the dataplane and a stream backend (tor, direct, external).
//
// Control messages travel by an ordered channel (WorkerBackend: the control rings of control-ring.ts;
// the embedded backend: postMessage); stream BYTES never do: they move
// only through the slot's StreamRingPair in the shared RingTable, and so do half-close (EOF) and abort
// (reset). A stream's life:
//   dataplane: table.alloc() -> slot; send {open, id, slot, generation, target, isolationKey}
//              (it may already write optimistic data into the slot's toBackend ring)
//   backend:   {connected, id, bound?} | {failed, id, reason, onionCode?}
//   both:      move bytes; shutdownWrite() for FIN, reset() for abort
//   backend:   {closed, id, reason} after it released its hold on the slot; the dataplane releases
//              its own hold when it is done, and the slot is free when both have.
// A backend that fails an open releases its hold before sending {failed}.

/** Where a stream goes: a hostname (resolved by the backend, never locally) or an address. */
export type StreamTarget =
  | { readonly kind: 'host'; readonly host: string; readonly port: number }
  | { readonly kind: 'ipv4'; readonly addr: string; readonly port: number }
  | { readonly kind: 'ipv6'; readonly addr: string; readonly port: number };

export type ResolveAnswer =
  | { readonly kind: 'ipv4'; readonly addr: string }
  | { readonly kind: 'ipv6'; readonly addr: string }
  | { readonly kind: 'host'; readonly host: string }
  | { readonly kind: 'error' };

/** Dataplane -> backend. */
export type BackendRequest =
  | {
      readonly type: 'open';
      readonly id: number;
      readonly slot: number;
      readonly generation: number;
      readonly target: StreamTarget;
      /** Streams with different keys never share a circuit. */
      readonly isolationKey: string;
    }
  | {
      readonly type: 'resolve';
      readonly id: number;
      /** 'forward': name -> address (Tor RESOLVE); 'reverse': address -> name (RESOLVE_PTR). */
      readonly mode: 'forward' | 'reverse';
      readonly name: string;
      readonly isolationKey: string;
    }
  /** Cancel a pending open or resolve (the client gave up); an open stream is ended by ring reset. */
  | { readonly type: 'abort'; readonly id: number }
  /** Stop: reset every stream, release every slot, then exit. */
  | { readonly type: 'shutdown' };

/** Backend -> dataplane. `reason` values are Tor stream END reasons (src/socks/codes.ts StreamEndReason). */
export type BackendEvent =
  | { readonly type: 'ready' }
  | {
      readonly type: 'connected';
      readonly id: number;
      readonly bound?: StreamTarget | undefined;
      /** Local port of the backend's connection to a Tor SOCKS port, to find the stream in tor's control-port events. */
      readonly sourcePort?: number | undefined;
      /** The circuit the stream rides on, where the backend builds circuits itself (embedded). */
      readonly circuit?: string | undefined;
    }
  | { readonly type: 'failed'; readonly id: number; readonly reason: number; readonly onionCode?: number | undefined }
  | { readonly type: 'closed'; readonly id: number; readonly reason: number }
  | { readonly type: 'resolved'; readonly id: number; readonly answer: ResolveAnswer }
  /** The backend cannot run (bad config, refused to start); no further events follow. */
  | { readonly type: 'fatal'; readonly message: string };

/** What the dataplane holds for a running backend. */
export interface StreamBackend {
  readonly name: string;
  send(request: BackendRequest): void;
  onEvent(listener: (event: BackendEvent) => void): void;
  /** Ask the backend to shut down and wait until it has. */
  close(): Promise<void>;
}

/** Data a backend worker receives once, at start. */
export interface BackendWorkerData<Config = unknown> {
  readonly table: SharedArrayBuffer;
  readonly config: Config;
  /** eventfd the worker writes to wake the dataplane thread, if the dataplane sleeps on one. */
  readonly dataplaneEventFd?: number | undefined;
  /** The control rings (control-ring.ts), for workers started by WorkerBackend. */
  readonly control?: SharedArrayBuffer | undefined;
}

const TARGET_KINDS = new Set(['host', 'ipv4', 'ipv6']);

export function isStreamTarget(v: unknown): v is StreamTarget {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Record<string, unknown>;
  if (!TARGET_KINDS.has(t['kind'] as string)) return false;
  if (typeof t['port'] !== 'number' || !Number.isInteger(t['port']) || t['port'] < 0 || t['port'] > 65535) return false;
  return t['kind'] === 'host' ? typeof t['host'] === 'string' : typeof t['addr'] === 'string';
}

/** Structural check for messages arriving from another thread. */
export function isBackendRequest(v: unknown): v is BackendRequest {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  const id = Number.isInteger(m['id']);
  switch (m['type']) {
    case 'open':
      return id && Number.isInteger(m['slot']) && Number.isInteger(m['generation']) && isStreamTarget(m['target']) && typeof m['isolationKey'] === 'string';
    case 'resolve':
      return id && (m['mode'] === 'forward' || m['mode'] === 'reverse') && typeof m['name'] === 'string' && typeof m['isolationKey'] === 'string';
    case 'abort':
      return id;
    case 'shutdown':
      return true;
    default:
      return false;
  }
}

/** Structural check for events arriving from a backend thread. */
export function isBackendEvent(v: unknown): v is BackendEvent {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  const id = Number.isInteger(m['id']);
  switch (m['type']) {
    case 'ready':
      return true;
    case 'connected':
      return id && (m['bound'] === undefined || isStreamTarget(m['bound']));
    case 'failed':
    case 'closed':
      return id && Number.isInteger(m['reason']);
    case 'resolved':
      return id && typeof m['answer'] === 'object' && m['answer'] !== null;
    case 'fatal':
      return typeof m['message'] === 'string';
    default:
      return false;
  }
}
