/** TCP engine configuration (one per TcpStack). Every field has a default; see DEFAULT_TCP_CONFIG. */
export type CcAlgo = 'newreno' | 'cubic';

export interface TcpConfig {
  /** Interface MTU; the advertised MSS is mtu - 40 (IPv4 + TCP headers without options). */
  mtu: number;
  /** Receive fifo bytes per connection (rounded up to a power of two); the advertised window is its free space. */
  rxFifoSize: number;
  /** Transmit fifo bytes per connection (rounded up to a power of two). */
  txFifoSize: number;
  /** Congestion control for new connections. */
  ccAlgo: CcAlgo;
  /** Initial congestion window in segments (RFC 6928). */
  initialCwndSegments: number;
  /** RFC 6298 timer bounds in milliseconds. */
  initialRtoMs: number;
  minRtoMs: number;
  maxRtoMs: number;
  /** Consecutive data retransmission timeouts before the connection is reset. */
  maxRetransmits: number;
  /** SYN / SYN-ACK retransmissions before giving up. */
  maxSynRetransmits: number;
  /** Delayed-ACK timeout (RFC 5681 §4.2 requires < 500 ms); 0 acknowledges every segment at once. */
  delayedAckMs: number;
  /**
   * When segments arrive as a vector (`input` with NO_FLUSH), ACK at once only after this many full-sized
   * segments are unacknowledged (a GSO super-frame counts 2); otherwise one ACK after the vector. 0: ACK as
   * the segment-at-a-time path does.
   */
  ackCoalesceSegments: number;
  /** Tail loss probes (RFC 8985 §7) before the RTO; the session layer turns them on. */
  tailLossProbe: boolean;
  /** TIME-WAIT duration (2·MSL in RFC 9293; short by default for a gateway). */
  timeWaitMs: number;
  /** How long FIN-WAIT-2 may last after the application closed (no more data can be delivered). */
  finWait2Ms: number;
  /** Half-open (SYN-RECEIVED) connections per listener before SYN cookies (or drops) take over. */
  synBacklog: number;
  /** Answer SYNs with stateless cookies when the backlog is full. */
  synCookies: boolean;
  /** Upper bound of connections in the table (all states). */
  maxConnections: number;
  windowScaling: boolean;
  timestamps: boolean;
  sack: boolean;
  /** Out-of-order ranges remembered per receive fifo. */
  maxOooSegments: number;
  /** Verify checksums of received segments (off when the NIC already did). */
  verifyChecksum: boolean;
  /** Compute checksums of sent segments (off when the NIC will). */
  fillChecksum: boolean;
  /**
   * TCP segmentation offload: when the sink can send GSO super-frames toward the peer (`tsoMaxSegment`),
   * send up to that many bytes of several MSS each as one segment; the device cuts it into MSS-sized ones.
   */
  tso: boolean;
  /** Ephemeral port range for active opens. */
  ephemeralPortMin: number;
  ephemeralPortMax: number;
}

export const DEFAULT_TCP_CONFIG: Readonly<TcpConfig> = Object.freeze({
  mtu: 1500,
  rxFifoSize: 256 * 1024,
  txFifoSize: 256 * 1024,
  ccAlgo: 'cubic',
  initialCwndSegments: 10,
  initialRtoMs: 1000,
  minRtoMs: 200,
  maxRtoMs: 60_000,
  maxRetransmits: 12,
  maxSynRetransmits: 5,
  delayedAckMs: 40,
  ackCoalesceSegments: 4,
  tailLossProbe: false,
  timeWaitMs: 2000,
  finWait2Ms: 30_000,
  synBacklog: 1024,
  synCookies: true,
  maxConnections: 65_536,
  windowScaling: true,
  timestamps: true,
  sack: true,
  maxOooSegments: 64,
  verifyChecksum: true,
  fillChecksum: true,
  tso: true,
  ephemeralPortMin: 49152,
  ephemeralPortMax: 65535,
});

/** Merge overrides onto the defaults and check ranges; throws RangeError on a bad value (config time, not data path). */
export function resolveTcpConfig(overrides: Partial<TcpConfig> = {}): TcpConfig {
  const c: TcpConfig = { ...DEFAULT_TCP_CONFIG, ...overrides };
  const check = (ok: boolean, what: string) => { if (!ok) throw new RangeError(`tcp config: ${what}`); };
  check(c.mtu >= 68 + 40 && c.mtu <= 65535, `mtu ${c.mtu} out of range`);
  check(c.rxFifoSize >= 1024 && c.rxFifoSize <= 2 ** 30, 'rxFifoSize out of range [1K, 1G]');
  check(c.txFifoSize >= 1024 && c.txFifoSize <= 2 ** 30, 'txFifoSize out of range [1K, 1G]');
  check(c.ccAlgo === 'cubic' || c.ccAlgo === 'newreno', `unknown cc-algo ${String(c.ccAlgo)}`);
  check(c.minRtoMs > 0 && c.minRtoMs <= c.initialRtoMs && c.initialRtoMs <= c.maxRtoMs, 'rto bounds must satisfy 0 < min ≤ initial ≤ max');
  check(c.delayedAckMs >= 0 && c.delayedAckMs < 500, 'delayedAckMs must be in [0, 500)');
  check(c.ackCoalesceSegments >= 0 && c.ackCoalesceSegments <= 64, 'ackCoalesceSegments must be in [0, 64]');
  check(c.synBacklog >= 1 && c.maxConnections >= 1, 'synBacklog and maxConnections must be ≥ 1');
  check(c.ephemeralPortMin >= 1 && c.ephemeralPortMin <= c.ephemeralPortMax && c.ephemeralPortMax <= 65535, 'bad ephemeral port range');
  check(c.initialCwndSegments >= 1 && c.maxOooSegments >= 1, 'initialCwndSegments and maxOooSegments must be ≥ 1');
  return c;
}
