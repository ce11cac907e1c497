// Subprotocol versions a relay advertises in its consensus `pr` line ("Relay=1-4 FlowCtrl=1-2 …"),
// and the handshake each hop of a circuit gets from them.
import type { CcParams } from '../proto/congestion-control.js';
import type { HopHandshake } from '../proto/circuit.js';

/** Whether `protocols` lists version `version` of subprotocol `name`. Malformed entries count as absent. */
export function supportsProtocol(protocols: string | undefined, name: string, version: number): boolean {
  if (!protocols) return false;
  for (const entry of protocols.split(/\s+/)) {
    const eq = entry.indexOf('=');
    if (eq < 0 || entry.slice(0, eq) !== name) continue;
    for (const range of entry.slice(eq + 1).split(',')) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(range);
      if (!m) continue;
      const lo = Number(m[1]);
      const hi = m[2] === undefined ? lo : Number(m[2]);
      if (version >= lo && version <= hi) return true;
    }
  }
  return false;
}

/** Relay=4: the relay answers ntor v3 (CREATE2 handshake type 3). */
export function supportsNtorV3(protocols: string | undefined): boolean {
  return supportsProtocol(protocols, 'Relay', 4);
}

/** FlowCtrl=2: the relay speaks congestion control and XON/XOFF (proposal 324/344). */
export function supportsCongestionControl(protocols: string | undefined): boolean {
  return supportsNtorV3(protocols) && supportsProtocol(protocols, 'FlowCtrl', 2);
}

/**
 * The handshake for one hop: with congestion control on (`cc` given), ntor v3 wherever the relay
 * speaks it, and the CC request to the exit only (as C tor does); otherwise classic ntor.
 */
export function hopHandshake(relay: { readonly status: { readonly protocols: string | undefined }; readonly ed25519Id: Uint8Array | undefined }, isExit: boolean, cc: CcParams | undefined): HopHandshake {
  if (!cc || !relay.ed25519Id || !supportsNtorV3(relay.status.protocols)) return {};
  if (isExit && supportsCongestionControl(relay.status.protocols)) return { ntorV3: true, congestionControl: cc };
  return { ntorV3: true };
}

/** Conflux=1: the relay links circuits into conflux sets as an exit (proposal 329). */
export function supportsConflux(protocols: string | undefined): boolean {
  return supportsProtocol(protocols, 'Conflux', 1);
}
