/** Shared TCP engine types: states, the application interface, the output sink and listeners. */
import type { TcpConnection } from './connection.js';

export const enum TcpState {
  Closed = 0,
  Listen = 1,
  SynSent = 2,
  SynReceived = 3,
  Established = 4,
  FinWait1 = 5,
  FinWait2 = 6,
  CloseWait = 7,
  Closing = 8,
  LastAck = 9,
  TimeWait = 10,
}

export const TCP_STATE_NAMES = [
  'CLOSED', 'LISTEN', 'SYN-SENT', 'SYN-RECEIVED', 'ESTABLISHED', 'FIN-WAIT-1', 'FIN-WAIT-2', 'CLOSE-WAIT',
  'CLOSING', 'LAST-ACK', 'TIME-WAIT',
] as const;

/**
 * Application (session layer) callbacks. They may read/write the connection's fifos and call the stack's
 * `send/close/shutdownWrite/abort`; those requests take effect at the stack's next flush (input() and poll()
 * end with one), so a callback never re-enters segment processing.
 */
export interface TcpAppHandler {
  /** A passive open completed (the connection is ESTABLISHED). Return false to refuse it (RST). */
  onAccept?(conn: TcpConnection): boolean | void;
  /** An active open completed. */
  onConnected?(conn: TcpConnection): void;
  /** An active open failed: 'refused' (RST) or 'timeout' (SYN retransmissions exhausted). */
  onConnectFailed?(conn: TcpConnection, reason: 'refused' | 'timeout'): void;
  /** Data arrived in rxFifo; raised when rxFifo's event flag goes 0→1 (the app unsets it when it drains). */
  onRx?(conn: TcpConnection): void;
  /** txFifo space freed after the app armed a dequeue notification on it. */
  onTxSpace?(conn: TcpConnection): void;
  /** The peer sent FIN: no more data will arrive (half-close); the app may still send. */
  onPeerClosed?(conn: TcpConnection): void;
  /** The connection was reset (RST received, or retransmissions exhausted). `onClosed` follows. */
  onReset?(conn: TcpConnection): void;
  /** The connection is gone; the object must not be used afterwards. */
  onClosed?(conn: TcpConnection): void;
}

/**
 * Where segments go. For each segment the engine calls `reserve(maxLen)`; the sink points `txBuf`/`txOff`
 * at space for at least maxLen bytes (e.g. a pool buffer after IP/Ethernet headroom) or returns false when
 * none is available (the segment is counted as tx-no-buffer and recovered by retransmission). The engine
 * writes the TCP segment there and calls `commit` with its length.
 *
 * TSO (optional): a sink that can send GSO super-frames answers `tsoMaxSegment` with the largest TCP segment
 * (header + payload) it can take toward that peer now, 0 when it cannot (no GSO on the route, no large
 * buffer free). The engine then may reserve up to that length and commits with `gsoSize` = the payload
 * bytes per wire segment (its MSS); the segment's payload is longer than gsoSize, the TCP header (options
 * included) is the one every wire segment gets, FIN/PSH belong to the last one.
 */
export interface TcpSegmentSink {
  txBuf: Uint8Array;
  txOff: number;
  /**
   * `align` (0..7), when given: the engine would like txOff ≡ align (mod 8), so that its payload copy
   * has the alignment of its source (V8 copies out of a SharedArrayBuffer word by word only when source and
   * destination share their address mod 8, byte by byte otherwise). Only a hint.
   */
  reserve(maxLen: number, align?: number): boolean;
  commit(srcIp: number, dstIp: number, len: number, gsoSize?: number): void;
  tsoMaxSegment?(localIp: number, remoteIp: number): number;
}

export interface TcpListenOptions {
  /** Override the stack's SYN backlog for this listener. */
  backlog?: number;
  /** Per-listener fifo sizes. */
  rxFifoSize?: number;
  txFifoSize?: number;
  /** MTU of the interface this listener serves (MSS = mtu - 40); the stack's `mtu` otherwise. */
  mtu?: number;
}

export interface TcpListener {
  readonly localIp: number;
  readonly localPort: number;
  readonly handler: TcpAppHandler;
  readonly backlog: number;
  readonly rxFifoSize: number;
  readonly txFifoSize: number;
  readonly mtu: number;
  /** Connections in SYN-RECEIVED created by this listener. */
  halfOpen: number;
  /** Connections accepted through this listener. */
  accepted: number;
  synCookiesSent: number;
  synBacklogFull: number;
}

/**
 * More bytes to send after the tx fifo (a splice): the connection's send queue is the tx fifo followed by
 * this source. Bytes stay in the source until the peer acknowledges them (retransmissions peek again), so
 * the source is the only copy of its bytes. Offsets are relative to the source's first unacknowledged byte.
 */
export interface TcpTxSource {
  /** Bytes available to send (including those sent and not yet acknowledged); 0 once the source is void (reset). */
  readonly maxDequeue: number;
  /**
   * Copies `len` bytes starting `offset` bytes into the source to dst[dstOff..]; returns how many it copied
   * (less than `len` only when the source became void meanwhile).
   */
  peek(offset: number, dst: Uint8Array, dstOff: number, len: number): number;
  /** The peer acknowledged the first `n` bytes: they leave the source. */
  dequeueDrop(n: number): void;
  /**
   * The connection has sent every byte it knows of (`known` = maxDequeue when it looked) and too little is in
   * flight for ACKs to bring it back soon: ask the producer to signal new bytes (the app then calls the
   * stack's `send`). Returns true when more than `known` bytes are there already (the connection looks again).
   * Without it, the app must signal every addition.
   */
  wantData?(known: number): boolean;
  /** Address mod 8 of the byte at `offset` in the source's storage, if it has a preference (see reserve's `align`). */
  alignment?(offset: number): number;
}
