// Circuits as the backend knows them: the managed tor's control port (GETINFO circuit-status);
// external and direct backends do not know theirs.

import { parseCircuitStatus } from '../../src/tor-daemon/control-reply.js';
import type { BackendHandle } from './backends.js';

export interface CircuitRow {
  id: string;
  state: 'building' | 'open' | 'closed' | 'failed';
  /** Relay nicknames (or fingerprints), guard first. */
  path: string[];
  purpose: string;
  ageSeconds: number;
  /** Streams on it now, where the backend says. */
  streams?: number;
}

const STATE: Record<string, CircuitRow['state']> = {
  LAUNCHED: 'building',
  EXTENDED: 'building',
  BUILT: 'open',
  GUARD_WAIT: 'building',
  FAILED: 'failed',
  CLOSED: 'closed',
};

/** Undefined when the backend cannot say. */
export async function listCircuits(b: BackendHandle | undefined): Promise<CircuitRow[] | undefined> {
  if (b?.embedded) {
    const status = await b.embedded.status();
    if (!status) return undefined;
    return status.circuits.map((c) => ({
      id: String(c.id),
      state: c.state === 'open' ? 'open' : c.state === 'closed' ? 'closed' : 'building',
      path: c.path,
      // A conflux set is listed once for its streams and once per leg circuit (purpose conflux-leg).
      purpose: `${c.purpose}${c.legs ? ` set of ${c.legs.join('+')}` : ''}${c.isolation ? ` [${c.isolation.slice(0, 8)}]` : ''}${c.retired ? ' (retired)' : ''}`,
      ageSeconds: c.ageMs / 1000,
      streams: c.streams,
    }));
  }
  const control = b?.managed?.controlClient;
  if (!control) return undefined;
  const text = (await control.getinfo('circuit-status')).get('circuit-status') ?? '';
  const now = Date.now();
  const rows: CircuitRow[] = [];
  for (const line of text.split('\n')) {
    const c = parseCircuitStatus(line);
    if (!c) continue;
    const created = c.timeCreated ? Date.parse(`${c.timeCreated}Z`) : NaN;
    rows.push({
      id: c.id,
      state: STATE[c.status] ?? 'building',
      path: c.path.map((h) => h.nickname ?? h.fingerprint),
      purpose: c.purpose ?? '',
      ageSeconds: Number.isFinite(created) ? Math.max(0, (now - created) / 1000) : 0,
    });
  }
  return rows;
}
