// Descriptor tables for every circuit, stream and handshake failure the circuit manager counts.
import { DestroyReason } from '../cell/destroy.js';
import { EndReason } from '../cell/relay/end.js';
import type { ProtoErrorCode } from '../proto/errors.js';
import type { TorCounterDescriptor } from '../chanmgr/counter-set.js';
import { CONFLUX_FAILURES, type ConfluxFailure } from '../proto/conflux-set.js';

const CONFLUX_FAILURE_DESCRIPTIONS: Record<ConfluxFailure, string> = {
  'leg-closed-linking': 'a leg closed before every leg had linked',
  'linked-malformed': 'the exit sent an undecodable CONFLUX_LINKED',
  'linked-bad-nonce': 'CONFLUX_LINKED carried another set\'s nonce',
  'linked-unexpected': 'a second CONFLUX_LINKED on one leg',
  'switch-violation': 'malformed or premature CONFLUX_SWITCH',
  'seq-violation': 'a cell numbered at or below what was already delivered',
  'ooo-overflow': 'the out-of-order queue reached its bound',
  'unexpected-cell': 'stream cells before linking, or CONFLUX_LINK/LINKED_ACK sent to a client',
  'leg-lost': 'a leg carrying the set\'s traffic closed (its streams ended)',
};

const kebab = (s: string): string => s.toLowerCase().replace(/_/g, '-');

export const PROTO_ERROR_CODES: readonly ProtoErrorCode[] = [
  'BAD_STATE', 'CELL_DECODE', 'NO_COMMON_VERSION', 'UNEXPECTED_CELL', 'CERTS_INVALID', 'CHANNEL_CLOSED', 'CIRCUIT_CLOSED',
  'CIRCUIT_HANDSHAKE_FAILED', 'UNRECOGNIZED_RELAY_CELL', 'WINDOW_VIOLATION', 'SENDME_UNAUTHENTICATED', 'RELAY_EARLY_EXHAUSTED',
  'TOO_MANY_CIRCUITS', 'TOO_MANY_STREAMS', 'STREAM_CLOSED', 'BAD_ARGUMENT', 'PROTOCOL_VIOLATION',
];

const PROTO_DESCRIPTIONS: Record<ProtoErrorCode, string> = {
  BAD_STATE: 'operation in the wrong circuit/stream state',
  CELL_DECODE: 'undecodable cell from a relay',
  NO_COMMON_VERSION: 'no common link protocol version',
  UNEXPECTED_CELL: 'cell not allowed in this state',
  CERTS_INVALID: 'relay identity certificates invalid',
  CHANNEL_CLOSED: 'circuit lost with its channel',
  CIRCUIT_CLOSED: 'circuit closed',
  CIRCUIT_HANDSHAKE_FAILED: 'ntor/CREATE_FAST handshake failed (bad key material or auth)',
  UNRECOGNIZED_RELAY_CELL: 'relay cell failed decryption/digest check',
  WINDOW_VIOLATION: 'relay overran a flow-control window',
  SENDME_UNAUTHENTICATED: 'circuit SENDME did not carry the expected v1 digest',
  RELAY_EARLY_EXHAUSTED: 'no RELAY_EARLY cells left to extend',
  TOO_MANY_CIRCUITS: 'channel circuit limit reached',
  TOO_MANY_STREAMS: 'circuit stream limit reached',
  STREAM_CLOSED: 'stream closed',
  BAD_ARGUMENT: 'invalid request (target, key)',
  PROTOCOL_VIOLATION: 'relay violated the protocol',
};

const DESTROY_SEVERITY: Record<string, TorCounterDescriptor['severity']> = { FINISHED: 'info', REQUESTED: 'info', NONE: 'info' };

/** END reasons before CONNECTED after which the exit is avoided and the stream tried elsewhere. */
const AVOID_EXIT = new Set<number>([EndReason.EXITPOLICY, EndReason.RESOURCELIMIT, EndReason.HIBERNATING]);
/** END reasons retried on another circuit a limited number of times (C tor: MAX_RESOLVE_FAILURES, 3). */
const RETRY_LIMITED = new Set<number>([EndReason.RESOLVEFAILED, EndReason.MISC, EndReason.TIMEOUT, EndReason.NOROUTE]);
const STREAM_END_RETRIED = new Set<number>([...AVOID_EXIT, ...RETRY_LIMITED]);

export const CIRC_COUNTERS: readonly TorCounterDescriptor[] = [
  { name: 'circuits-built', description: '3-hop exit circuits built', severity: 'info' },
  { name: 'preemptive-launched', description: 'circuits built ahead of demand for predicted ports', severity: 'info' },
  { name: 'preemptive-topup', description: 'of those, launched right after a clean circuit was claimed or lost (not by the periodic upkeep)', severity: 'info' },
  { name: 'predicted-port-unserved', description: 'predicted ports dropped because no exit in the consensus allows them', severity: 'info' },
  { name: 'preemptive-topup-deferred', description: 'top-ups left to the periodic upkeep because recent circuit builds all failed', severity: 'warn' },
  { name: 'cc-negotiated', description: 'exit circuits with congestion control negotiated at the exit (ntor v3)', severity: 'info' },
  { name: 'cc-declined', description: 'exit circuits where we asked for congestion control and the exit did not enable it', severity: 'info' },
  { name: 'onehop-built', description: 'one-hop CREATE_FAST directory circuits built', severity: 'info' },
  { name: 'conflux-launched', description: 'conflux sets (linked circuits to one exit, proposal 329) built ahead of demand', severity: 'info' },
  { name: 'conflux-linked', description: 'conflux sets whose legs all answered CONFLUX_LINKED', severity: 'info' },
  { name: 'conflux-streams', description: 'exit streams carried by a linked conflux set', severity: 'info' },
  { name: 'conflux-leg-lost-survived', description: 'idle conflux legs that closed while their set went on over the others', severity: 'info' },
  { name: 'conflux-unavailable', description: 'conflux set not built: congestion control off or cfx_enabled 0', severity: 'info' },
  { name: 'conflux-no-exit', description: 'conflux set not built: no exit speaks Conflux=1 (streams use single circuits)', severity: 'warn' },
  { name: 'conflux-path-failed', description: 'conflux set not built: no distinct guard or middle for another leg', severity: 'warn' },
  { name: 'conflux-leg-build-failed', description: 'a leg of a new conflux set failed to build (set dropped)', severity: 'warn' },
  { name: 'conflux-no-cc', description: 'a conflux leg\'s exit did not negotiate congestion control (set dropped)', severity: 'warn' },
  { name: 'conflux-link-failed', description: 'a built leg could not join its conflux set', severity: 'warn' },
  { name: 'conflux-link-timeout', description: 'a conflux set did not link within the build timeout', severity: 'warn' },
  { name: 'conflux-backoff', description: 'conflux set building paused for a minute after repeated failures', severity: 'warn' },
  ...CONFLUX_FAILURES.map((f) => ({ name: `conflux-${f}`, description: `conflux set closed: ${CONFLUX_FAILURE_DESCRIPTIONS[f]}`, severity: f === 'leg-lost' ? ('warn' as const) : ('error' as const) })),
  { name: 'build-timeout', description: 'circuit build did not finish within the build timeout', severity: 'warn' },
  { name: 'build-channel-failed', description: 'could not open a channel to the first hop', severity: 'warn' },
  { name: 'build-create-failed', description: 'first hop refused or failed CREATE2/CREATE_FAST', severity: 'warn' },
  { name: 'build-extend-failed', description: 'EXTEND2 to a later hop failed', severity: 'warn' },
  { name: 'no-netdir', description: 'no usable consensus to build paths from', severity: 'error' },
  { name: 'no-guard', description: 'no guard usable for a new circuit', severity: 'error' },
  { name: 'path-no-exit', description: 'no exit allows the requested port', severity: 'warn' },
  { name: 'path-no-guard', description: 'no guard fits the chosen exit', severity: 'warn' },
  { name: 'path-no-middle', description: 'no middle relay fits the path', severity: 'warn' },
  { name: 'dirty-expired', description: 'circuits retired after the dirtiness limit', severity: 'info' },
  { name: 'newnym-retired', description: 'circuits retired by NEWNYM', severity: 'info' },
  { name: 'unused-closed', description: 'clean circuits closed unused after their idle timeout (predictions had lapsed)', severity: 'info' },
  { name: 'idle-closed', description: 'retired circuits closed once their streams ended', severity: 'info' },
  ...Object.keys(DestroyReason).map((n) => ({
    name: `destroy-${kebab(n)}`,
    description: `circuit destroyed by a relay or its channel, reason ${n}`,
    severity: DESTROY_SEVERITY[n] ?? ('warn' as const),
  })),
  ...Object.keys(DestroyReason).map((n) => ({ name: `truncated-${kebab(n)}`, description: `circuit truncated by a relay, reason ${n}`, severity: 'warn' as const })),
  ...PROTO_ERROR_CODES.map((c) => ({ name: `proto-${kebab(c)}`, description: `circuit closed by us: ${PROTO_DESCRIPTIONS[c]}`, severity: 'error' as const })),
];

export const STREAM_COUNTERS: readonly TorCounterDescriptor[] = [
  { name: 'streams-opened', description: 'streams connected through an exit', severity: 'info' },
  { name: 'dir-streams-opened', description: 'BEGIN_DIR streams opened', severity: 'info' },
  { name: 'begin-timeout', description: 'no CONNECTED in time; retried on another circuit', severity: 'warn' },
  { name: 'begin-refused-local', description: 'circuit could not take another stream', severity: 'warn' },
  { name: 'retried', description: 'stream attempts retried on another circuit', severity: 'info' },
  { name: 'gave-up', description: 'streams failed after every attempt', severity: 'warn' },
  { name: 'resolve-ok', description: 'RESOLVE answered', severity: 'info' },
  { name: 'resolve-error', description: 'RESOLVE answered with an error', severity: 'warn' },
  { name: 'resolve-timeout', description: 'RESOLVE not answered in time', severity: 'warn' },
  ...Object.keys(EndReason).map((n) => ({
    name: `refused-${kebab(n)}`,
    description: `exit ended the stream before CONNECTED, reason ${n}${STREAM_END_RETRIED.has(EndReason[n as keyof typeof EndReason]) ? ' (retried elsewhere)' : ''}`,
    severity: 'warn' as const,
  })),
  ...Object.keys(EndReason).map((n) => ({
    name: `ended-${kebab(n)}`,
    description: `open stream ended, reason ${n}`,
    severity: n === 'DONE' ? ('info' as const) : ('warn' as const),
  })),
];

export function destroyCounter(reason: number, truncated = false): string {
  const name = Object.entries(DestroyReason).find(([, v]) => v === reason)?.[0] ?? 'NONE';
  return `${truncated ? 'truncated' : 'destroy'}-${kebab(name)}`;
}

export function protoCounter(code: ProtoErrorCode): string {
  return `proto-${kebab(code)}`;
}

export function endCounter(prefix: 'refused' | 'ended', reason: number): string {
  const name = Object.entries(EndReason).find(([, v]) => v === reason)?.[0] ?? 'MISC';
  return `${prefix}-${kebab(name)}`;
}

/** END reasons before CONNECTED after which C tor tries another exit (relay.c connection_ap_process_end_not_open). */
export function retryableEndReason(reason: number): boolean {
  return STREAM_END_RETRIED.has(reason);
}

/**
 * What C tor does with an END before CONNECTED (relay.c connection_ap_process_end_not_open):
 * EXITPOLICY / RESOURCELIMIT / HIBERNATING — stop using that exit, retry; RESOLVEFAILED / MISC /
 * TIMEOUT / NOROUTE — mark the circuit unusable for new streams and retry, up to 3 such failures;
 * anything else (CONNECTREFUSED, DONE, …) — report it.
 */
export function refusalAction(reason: number): 'avoid-exit' | 'retry-limited' | 'fail' {
  if (AVOID_EXIT.has(reason)) return 'avoid-exit';
  if (RETRY_LIMITED.has(reason)) return 'retry-limited';
  return 'fail';
}

/** C tor's MAX_RESOLVE_FAILURES. */
export const MAX_LIMITED_REFUSALS = 3;
