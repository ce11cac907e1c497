// Consensus parameters of conflux (proposal 329) as C tor's conflux_params.c reads them, with its
// defaults and bounds, and its rule for how many linked sets a client keeps ready.
import type { NetDir } from '../netdir/netdir.js';
import { exitCandidates } from '../netdir/path.js';
import { supportsConflux } from './protocols.js';

export interface ConfluxParams {
  /** cfx_enabled: clients build and use sets at all. */
  readonly enabled: boolean;
  /** cfx_low_exit_threshold / 10000: below this share of conflux exits only one set is prebuilt. */
  readonly lowExitThreshold: number;
  /** cfx_max_linked_set: no new set while this many are linked. */
  readonly maxLinkedSets: number;
  /** cfx_max_prebuilt_set: clean sets kept ready. */
  readonly maxPrebuiltSets: number;
  /** cfx_num_legs_set: legs per new set. */
  readonly legsPerSet: number;
  /** cfx_max_oooq_bytes: the out-of-order queue bound (C tor counts each queued cell as ~530 bytes). */
  readonly maxOooBytes: number;
}

const INT32_MAX = 2 ** 31 - 1;

export function confluxParamsFrom(dir: Pick<NetDir, 'param'>): ConfluxParams {
  return {
    enabled: dir.param('cfx_enabled', 1, 0, 1) === 1,
    lowExitThreshold: dir.param('cfx_low_exit_threshold', 6000, 0, 10_000) / 10_000,
    maxLinkedSets: dir.param('cfx_max_linked_set', 10, 0, 255),
    maxPrebuiltSets: dir.param('cfx_max_prebuilt_set', 3, 0, 255),
    legsPerSet: dir.param('cfx_num_legs_set', 2, 0, 255),
    maxOooBytes: dir.param('cfx_max_oooq_bytes', INT32_MAX, 0, INT32_MAX),
  };
}

/** Bytes C tor charges per queued cell (sizeof(conflux_cell_t) on 64-bit builds). */
export const OOO_CELL_COST = 528;

/**
 * How many clean sets to keep ready (conflux_params_get_max_prebuilt): none when no exit speaks
 * Conflux=1, one when fewer than the low-exit threshold do, else cfx_max_prebuilt_set.
 */
export function maxPrebuiltSets(dir: NetDir, p: ConfluxParams): number {
  const exits = exitCandidates(dir, undefined).filter((r) => r.flags.has('Exit'));
  const withConflux = exits.filter((r) => supportsConflux(r.status.protocols)).length;
  if (exits.length === 0 || withConflux === 0) return 0;
  if (withConflux / exits.length < p.lowExitThreshold) return 1;
  return p.maxPrebuiltSets;
}
