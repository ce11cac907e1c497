import type { Microdesc } from '../netdoc/microdesc.js';
import type { RouterStatus } from '../netdoc/consensus.js';
import type { PortPolicy } from '../netdoc/portpolicy.js';

/** A relay as a client sees it: its consensus entry joined with its microdescriptor. */
export interface Relay {
  readonly nickname: string;
  readonly rsaIdentity: Buffer;
  /** Upper-case hex of the RSA identity (40 digits). */
  readonly rsaIdHex: string;
  readonly ip: string;
  /** First two octets of `ip`, for distinct-subnet checks. */
  readonly subnet16: string;
  readonly orPort: number;
  readonly dirPort: number;
  readonly orAddresses: readonly string[];
  readonly flags: ReadonlySet<string>;
  /** Consensus weight (`w Bandwidth=`). */
  readonly bandwidth: number;
  readonly microdescDigest: Buffer;
  readonly ntorOnionKey: Buffer;
  readonly ed25519Id: Buffer | undefined;
  readonly ipv4Policy: PortPolicy;
  readonly ipv6Policy: PortPolicy;
  /** RSA identities (upper-case hex) this relay declares as family members. */
  readonly declaredFamily: ReadonlySet<string>;
  readonly familyIds: ReadonlySet<string>;
  readonly status: RouterStatus;
  readonly microdesc: Microdesc;
}

export function relayFromParts(rs: RouterStatus, md: Microdesc): Relay {
  const declared = new Set<string>();
  for (const f of md.family) {
    // `$HEX`, `$HEX=nick`, `$HEX~nick`; bare nicknames are unauthenticated and ignored.
    const m = /^\$([0-9A-Fa-f]{40})(?:[=~].*)?$/.exec(f);
    if (m) declared.add(m[1]!.toUpperCase());
  }
  return {
    nickname: rs.nickname,
    rsaIdentity: rs.rsaIdentity,
    rsaIdHex: rs.rsaIdentity.toString('hex').toUpperCase(),
    ip: rs.ip,
    subnet16: rs.ip.slice(0, rs.ip.indexOf('.', rs.ip.indexOf('.') + 1)),
    orPort: rs.orPort,
    dirPort: rs.dirPort,
    orAddresses: rs.orAddresses,
    flags: rs.flags,
    bandwidth: rs.bandwidth,
    microdescDigest: rs.microdescDigest,
    ntorOnionKey: md.ntorOnionKey,
    ed25519Id: md.ed25519Id,
    ipv4Policy: md.ipv4Policy,
    ipv6Policy: md.ipv6Policy,
    declaredFamily: declared,
    familyIds: new Set(md.familyIds),
    status: rs,
    microdesc: md,
  };
}

/** Running and Valid: the baseline for any position in a path. */
export function isUsable(r: { readonly flags: ReadonlySet<string> }): boolean {
  return r.flags.has('Running') && r.flags.has('Valid');
}
