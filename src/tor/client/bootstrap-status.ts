// Bootstrap phases reported like C tor's "Bootstrapped N% (tag): summary" (control-spec §5.5).

export const BOOTSTRAP_PHASES = {
  starting: { percent: 0, summary: 'Starting' },
  conn_dir: { percent: 5, summary: 'Connecting to directory server' },
  onehop_create: { percent: 14, summary: 'Establishing an encrypted directory connection' },
  requesting_status: { percent: 15, summary: 'Asking for networkstatus consensus' },
  loading_keys: { percent: 40, summary: 'Loading authority key certs' },
  requesting_descriptors: { percent: 45, summary: 'Asking for relay descriptors' },
  enough_dirinfo: { percent: 75, summary: 'Loaded enough directory info to build circuits' },
  ap_conn: { percent: 80, summary: 'Connecting to a relay to build circuits' },
  circuit_create: { percent: 90, summary: 'Establishing a Tor circuit' },
  done: { percent: 100, summary: 'Done' },
} as const;

export type BootstrapPhase = keyof typeof BOOTSTRAP_PHASES;

export interface BootstrapStatus {
  readonly percent: number;
  readonly tag: BootstrapPhase;
  readonly summary: string;
  /** Last problem seen while bootstrapping, if any. */
  readonly warning?: string | undefined;
}

export function bootstrapStatus(tag: BootstrapPhase, warning?: string): BootstrapStatus {
  return { percent: BOOTSTRAP_PHASES[tag].percent, tag, summary: BOOTSTRAP_PHASES[tag].summary, warning };
}

export function formatBootstrap(s: BootstrapStatus): string {
  return `Bootstrapped ${s.percent}% (${s.tag}): ${s.summary}`;
}
