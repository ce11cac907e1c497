// Messages between the dataplane thread and the embedded Tor worker: the backend contract
// (src/backend/interface.ts) plus Tor-specific status, NEWNYM and bootstrap progress.
import { isBackendEvent, isBackendRequest, type BackendEvent, type BackendRequest } from '../../backend/interface.js';
import type { BootstrapStatus } from '../client/bootstrap-status.js';
import type { TorStatus } from '../client/tor-client.js';

/** `config` in BackendWorkerData for the embedded backend. */
export interface EmbeddedTorConfig {
  /** C tor `DirAuthority` lines; the live network's authorities when empty. */
  readonly dirAuthorities?: readonly string[] | undefined;
  /** A private test network (relaxed path rules, 60 s build timeout). */
  readonly testNetwork?: boolean | undefined;
  /** Persistent state (guards.json). */
  readonly dataDir?: string | undefined;
  /** Directory document cache. */
  readonly cacheDir?: string | undefined;
  /** Scrub destinations from status listings and logs (default true). */
  readonly safeLogging?: boolean | undefined;
  /** Congestion control with exits that offer it ('auto', the default) or never ('off'). */
  readonly congestionControl?: 'auto' | 'off' | undefined;
  /** Conflux sets for exit streams ('auto', the default, needs congestion control) or never ('off'). */
  readonly conflux?: 'auto' | 'off' | undefined;
  /** Ports predicted from the start (default 80, 443); streams add theirs, unused ones expire after 30–60 min. */
  readonly preemptivePorts?: readonly number[] | undefined;
  /** Clean exit circuits kept ready (default 2); 0 with preemptivePorts [] builds none ahead of a stream. */
  readonly preemptiveCircuits?: number | undefined;
}

/** Dataplane -> worker: the backend contract plus Tor requests. */
export type EmbeddedRequest =
  | BackendRequest
  /** Ask for a status snapshot; answered by `{type:'status', id, status}`. */
  | { readonly type: 'status'; readonly id: number }
  /** New identity: existing circuits take no new streams. */
  | { readonly type: 'newnym' };

/** Worker -> dataplane: the backend contract plus Tor events. */
export type EmbeddedEvent =
  | BackendEvent
  | { readonly type: 'status'; readonly id: number; readonly status: TorStatus }
  /** Every bootstrap phase change ("Bootstrapped N% (tag): summary"). */
  | { readonly type: 'bootstrap'; readonly status: BootstrapStatus }
  /** A log line (notice level; destinations only when safeLogging is off). */
  | { readonly type: 'log'; readonly line: string };

export function isEmbeddedRequest(v: unknown): v is EmbeddedRequest {
  if (isBackendRequest(v)) return true;
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return (m['type'] === 'status' && Number.isInteger(m['id'])) || m['type'] === 'newnym';
}

export function isEmbeddedEvent(v: unknown): v is EmbeddedEvent {
  if (isBackendEvent(v)) return true;
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  switch (m['type']) {
    case 'status':
      return Number.isInteger(m['id']) && typeof m['status'] === 'object' && m['status'] !== null;
    case 'bootstrap':
      return typeof m['status'] === 'object' && m['status'] !== null;
    case 'log':
      return typeof m['line'] === 'string';
    default:
      return false;
  }
}

/** Bound on clean circuits kept ready (C tor's MAX_UNUSED_OPEN_CIRCUITS). */
const MAX_PREEMPTIVE_CIRCUITS = 14;

/** Why this config cannot run, or undefined. */
export function embeddedConfigProblem(config: unknown): string | undefined {
  if (typeof config !== 'object' || config === null) return 'embedded tor: missing configuration';
  const c = config as Record<string, unknown>;
  const da = c['dirAuthorities'];
  if (da !== undefined && (!Array.isArray(da) || !da.every((l) => typeof l === 'string'))) return 'embedded tor: dirAuthorities must be a list of DirAuthority lines';
  for (const k of ['dataDir', 'cacheDir']) if (c[k] !== undefined && typeof c[k] !== 'string') return `embedded tor: ${k} must be a path`;
  for (const k of ['testNetwork', 'safeLogging']) if (c[k] !== undefined && typeof c[k] !== 'boolean') return `embedded tor: ${k} must be a boolean`;
  const pc = c['preemptiveCircuits'];
  if (pc !== undefined && !(Number.isInteger(pc) && (pc as number) >= 0 && (pc as number) <= MAX_PREEMPTIVE_CIRCUITS)) return `embedded tor: preemptiveCircuits must be an integer 0..${MAX_PREEMPTIVE_CIRCUITS}`;
  const pp = c['preemptivePorts'];
  if (pp !== undefined && (!Array.isArray(pp) || pp.length > MAX_PREEMPTIVE_CIRCUITS || !pp.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535))) return `embedded tor: preemptivePorts must be at most ${MAX_PREEMPTIVE_CIRCUITS} ports 1..65535`;
  return undefined;
}
