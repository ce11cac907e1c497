/**
 * TCP engine counters: drop reasons (error/warn) and protocol statistics (info) in one table, in the VPP
 * style where one list generates both the index enum and the descriptor strings. The graph node for
 * tcp4-input registers `TCP_COUNTER_DESCS` as its error counters and reads `TcpStack.counters`.
 */
import type { ErrorCounterDesc } from '../../runtime/node.js';

const DEFS = [
  // drops / anomalies
  ['bad-header', 'Malformed TCP header', 'error'],
  ['bad-options', 'Malformed TCP options', 'error'],
  ['bad-checksum', 'Bad TCP checksum', 'error'],
  ['no-listener', 'Segment to a closed port (RST sent)', 'warn'],
  ['rst-to-closed', 'RST to a closed port dropped', 'info'],
  ['out-of-window', 'Segment outside the receive window', 'warn'],
  ['paws-reject', 'Old timestamp rejected by PAWS', 'warn'],
  ['no-ack', 'Segment without ACK in a synchronized state', 'warn'],
  ['ack-unsent', 'ACK for data not yet sent', 'warn'],
  ['ack-too-old', 'ACK below the acceptable range', 'warn'],
  ['syn-in-window', 'SYN in a synchronized state (challenge ACK)', 'warn'],
  ['rst-challenge', 'In-window RST with inexact sequence (challenge ACK)', 'warn'],
  ['syn-sent-bad-ack', 'Unacceptable ACK in SYN-SENT', 'warn'],
  ['syn-rcvd-bad-ack', 'Unacceptable ACK in SYN-RECEIVED', 'warn'],
  ['listener-bad-segment', 'Non-SYN segment to a listener', 'warn'],
  ['syn-backlog-full', 'SYN backlog full (SYN flood)', 'warn'],
  ['syn-dropped', 'SYN dropped: backlog full and cookies off', 'error'],
  ['syn-cookie-bad', 'ACK with an invalid SYN cookie', 'warn'],
  ['conn-table-full', 'Connection table full', 'error'],
  ['rx-fifo-full', 'Data beyond receive fifo space dropped', 'warn'],
  ['ooo-full', 'Out-of-order segment dropped: too many ranges', 'warn'],
  ['data-after-close', 'Data after application close (RST sent)', 'warn'],
  ['tx-no-buffer', 'No buffer to send a segment', 'error'],
  ['retransmit-limit', 'Connection reset after too many retransmissions', 'warn'],
  ['syn-retransmit-limit', 'Handshake abandoned after SYN retransmissions', 'warn'],
  ['fin-wait-2-timeout', 'FIN-WAIT-2 timed out', 'info'],
  // statistics
  ['segments-in', 'Segments received', 'info'],
  ['segments-out', 'Segments sent', 'info'],
  ['data-bytes-in', 'Payload bytes delivered in order', 'info'],
  ['data-bytes-out', 'Payload bytes sent (incl. retransmissions)', 'info'],
  ['ooo-segments-in', 'Out-of-order segments received', 'info'],
  ['dup-acks-in', 'Duplicate ACKs received', 'info'],
  ['retransmits', 'Segments retransmitted', 'info'],
  ['fast-retransmits', 'Fast retransmit / recovery episodes', 'info'],
  ['rto-timeouts', 'Retransmission timeouts', 'info'],
  ['persist-probes', 'Zero-window probes sent', 'info'],
  ['delayed-acks', 'ACKs sent by the delayed-ACK timer', 'info'],
  ['window-updates', 'Window updates after the application read', 'info'],
  ['active-opens', 'Active opens (SYN sent)', 'info'],
  ['passive-opens', 'Passive opens (SYN received)', 'info'],
  ['established', 'Connections established', 'info'],
  ['connect-failed', 'Active opens that failed', 'info'],
  ['resets-in', 'Connections reset by the peer', 'info'],
  ['resets-out', 'RST segments sent', 'info'],
  ['closed', 'Connections closed', 'info'],
  ['syn-cookies-sent', 'SYN cookies sent', 'info'],
  ['syn-cookies-ok', 'Connections established from SYN cookies', 'info'],
  ['time-wait-recycled', 'TIME-WAIT connections replaced by a new SYN', 'info'],
  ['challenge-acks', 'Challenge ACKs sent (RFC 5961)', 'info'],
  ['lost-retransmits', 'Retransmissions detected lost (resent without RTO)', 'info'],
  ['tail-loss-probes', 'Tail loss probes sent (RFC 8985)', 'info'],
  ['jumbo-stale', 'GSO frame overwritten before TCP read it', 'error'],
  ['tso-segments-out', 'Super-segments sent with TSO (each counted as its MSS-sized segments in segments-out)', 'info'],
  ['tx-source-short', 'Spliced tx source gave fewer bytes than queued (reset under a send)', 'warn'],
] as const satisfies ReadonlyArray<readonly [string, string, 'error' | 'warn' | 'info']>;

export const TCP_COUNTER_DESCS: readonly ErrorCounterDesc[] = DEFS.map(([name, description, severity]) => ({ name, description, severity }));

/** Counter indices: `TcpCounter.BadChecksum` etc. (kebab names turned into PascalCase). */
export const TcpCounter = {
  BadHeader: 0, BadOptions: 1, BadChecksum: 2, NoListener: 3, RstToClosed: 4, OutOfWindow: 5, PawsReject: 6,
  NoAck: 7, AckUnsent: 8, AckTooOld: 9, SynInWindow: 10, RstChallenge: 11, SynSentBadAck: 12, SynRcvdBadAck: 13,
  ListenerBadSegment: 14, SynBacklogFull: 15, SynDropped: 16, SynCookieBad: 17, ConnTableFull: 18, RxFifoFull: 19,
  OooFull: 20, DataAfterClose: 21, TxNoBuffer: 22, RetransmitLimit: 23, SynRetransmitLimit: 24, FinWait2Timeout: 25,
  SegmentsIn: 26, SegmentsOut: 27, DataBytesIn: 28, DataBytesOut: 29, OooSegmentsIn: 30, DupAcksIn: 31,
  Retransmits: 32, FastRetransmits: 33, RtoTimeouts: 34, PersistProbes: 35, DelayedAcks: 36, WindowUpdates: 37,
  ActiveOpens: 38, PassiveOpens: 39, Established: 40, ConnectFailed: 41, ResetsIn: 42, ResetsOut: 43, Closed: 44,
  SynCookiesSent: 45, SynCookiesOk: 46, TimeWaitRecycled: 47, ChallengeAcks: 48, LostRetransmits: 49, TailLossProbes: 50, JumboStale: 51,
  TsoSegmentsOut: 52, TxSourceShort: 53,
} as const;
export type TcpCounterId = (typeof TcpCounter)[keyof typeof TcpCounter];

export const TCP_COUNTER_COUNT = DEFS.length;

/** kebab-case name → PascalCase key (used by the consistency test). */
export function counterKey(name: string): string {
  return name.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}
