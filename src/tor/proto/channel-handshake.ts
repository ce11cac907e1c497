import { err, ok, type Result } from '../bytes/result.js';
import type { ChannelCell } from '../cell/channel-cell.js';
import { ChanCmd, chanCmdName } from '../cell/commands.js';
import { decodeAuthChallengeBody } from '../cell/auth-challenge.js';
import { decodeCertsBody } from '../cell/certs-cell.js';
import { decodeNetinfoBody, encodeNetinfoBody, type NetAddress, type Netinfo } from '../cell/netinfo.js';
import { decodeVersionsBody, encodeVersionsBody, negotiateLinkVersion } from '../cell/versions.js';
import { validateRelayCerts, type ExpectedRelayIdentity, type VerifiedRelayIdentity } from '../cert/certs-validation.js';
import { protoError, type ProtoError } from './errors.js';

/** Link protocols this client speaks (4-byte circuit ids). */
export const SUPPORTED_LINK_VERSIONS: readonly number[] = [4, 5];

export interface ChannelHandshakeOptions {
  /** Identities the relay must prove (from the consensus, a DirAuthority line, or EXTEND target). */
  readonly expected: ExpectedRelayIdentity;
  /** SHA-256 of the TLS leaf certificate DER the transport saw. */
  readonly tlsCertSha256: Uint8Array;
  /** The relay's address, echoed as OTHERADDR in our NETINFO (null sends an empty address). */
  readonly peerAddr: NetAddress | null;
}

/** The result of a completed handshake. */
export interface ChannelInfo {
  readonly linkVersion: number;
  readonly peer: VerifiedRelayIdentity;
  readonly peerNetinfo: Netinfo;
  /** Relay clock minus ours in seconds (from NETINFO), for skew reporting by managers. */
  readonly clockSkewSeconds: number;
}

type Phase = 'await-versions' | 'await-certs' | 'await-netinfo' | 'done';

/** What one handled cell produced: cells to send, and the channel info when the handshake finished. */
export interface HandshakeStep {
  readonly send: { command: number; body: Uint8Array }[];
  readonly done: ChannelInfo | null;
}

/**
 * Client side of the link handshake (tor-spec §4), fed decoded cells: VERSIONS → CERTS →
 * (AUTH_CHALLENGE) → NETINFO, then our NETINFO. VPADDING/PADDING may appear anywhere.
 */
export class ChannelHandshake {
  private phase: Phase = 'await-versions';
  private linkVersion = 0;
  private peer: VerifiedRelayIdentity | null = null;

  constructor(private readonly opts: ChannelHandshakeOptions) {}

  /** Body of our opening VERSIONS cell (sent with a 2-byte circuit id). */
  versionsBody(): Uint8Array {
    return encodeVersionsBody(SUPPORTED_LINK_VERSIONS);
  }

  get negotiatedVersion(): number {
    return this.linkVersion;
  }

  handleCell(cell: ChannelCell, nowMs: number): Result<HandshakeStep, ProtoError> {
    const none: HandshakeStep = { send: [], done: null };
    if (cell.command === ChanCmd.VPADDING || cell.command === ChanCmd.PADDING) return ok(none);
    switch (this.phase) {
      case 'await-versions': {
        if (cell.command !== ChanCmd.VERSIONS) return err(unexpected(cell, 'VERSIONS'));
        const v = decodeVersionsBody(cell.body);
        if (!v.ok) return err(protoError('CELL_DECODE', 'bad VERSIONS cell', v.error));
        const chosen = negotiateLinkVersion(SUPPORTED_LINK_VERSIONS, v.value);
        if (chosen === null) return err(protoError('NO_COMMON_VERSION', `relay offers versions ${v.value.join(',')}`));
        this.linkVersion = chosen;
        this.phase = 'await-certs';
        return ok(none);
      }
      case 'await-certs': {
        if (cell.command !== ChanCmd.CERTS) return err(unexpected(cell, 'CERTS'));
        const certs = decodeCertsBody(cell.body);
        if (!certs.ok) return err(protoError('CELL_DECODE', 'bad CERTS cell', certs.error));
        const v = validateRelayCerts({
          certs: certs.value,
          tlsCertSha256: this.opts.tlsCertSha256,
          nowMs,
          expected: this.opts.expected,
        });
        if (!v.ok) return err(protoError('CERTS_INVALID', v.error.message, v.error));
        this.peer = v.value;
        this.phase = 'await-netinfo';
        return ok(none);
      }
      case 'await-netinfo': {
        if (cell.command === ChanCmd.AUTH_CHALLENGE) {
          const a = decodeAuthChallengeBody(cell.body);
          if (!a.ok) return err(protoError('CELL_DECODE', 'bad AUTH_CHALLENGE cell', a.error));
          return ok(none); // a client does not authenticate
        }
        if (cell.command !== ChanCmd.NETINFO) return err(unexpected(cell, 'NETINFO'));
        const n = decodeNetinfoBody(cell.body);
        if (!n.ok) return err(protoError('CELL_DECODE', 'bad NETINFO cell', n.error));
        this.phase = 'done';
        const ours = encodeNetinfoBody({ time: 0, otherAddr: this.opts.peerAddr, myAddrs: [] });
        const skew = n.value.time === 0 ? 0 : n.value.time - Math.floor(nowMs / 1000);
        return ok({
          send: [{ command: ChanCmd.NETINFO, body: ours }],
          done: { linkVersion: this.linkVersion, peer: this.peer!, peerNetinfo: n.value, clockSkewSeconds: skew },
        });
      }
      case 'done':
        return err(protoError('BAD_STATE', 'handshake already complete'));
    }
  }
}

function unexpected(cell: ChannelCell, want: string): ProtoError {
  return protoError('UNEXPECTED_CELL', `expected ${want}, got ${chanCmdName(cell.command)}`);
}
