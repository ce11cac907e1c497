/**
 * Keyed hashes for initial sequence numbers (RFC 6528), SYN cookies and per-connection timestamp offsets
 * (RFC 7323 §5.4). F() is SHA-256 over a secret and the connection identifiers, truncated to 32 bits.
 */
import { createHash, randomBytes } from 'node:crypto';

export class TcpSecrets {
  private readonly secret: Buffer;
  private readonly scratch = Buffer.alloc(32);

  constructor(secret?: Uint8Array) {
    this.secret = secret ? Buffer.from(secret) : randomBytes(32);
  }

  /** 32-bit keyed hash of the 4-tuple plus two extra words, domain-separated by `purpose`. */
  hash(purpose: number, localIp: number, localPort: number, remoteIp: number, remotePort: number, x = 0, y = 0): number {
    const s = this.scratch;
    s.writeUInt32BE(purpose >>> 0, 0);
    s.writeUInt32BE(localIp >>> 0, 4);
    s.writeUInt32BE(remoteIp >>> 0, 8);
    s.writeUInt32BE(((localPort << 16) | remotePort) >>> 0, 12);
    s.writeUInt32BE(x >>> 0, 16);
    s.writeUInt32BE(y >>> 0, 20);
    const d = createHash('sha256').update(this.secret).update(s.subarray(0, 24)).digest();
    return d.readUInt32BE(0);
  }

  /** RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a 4 µs clock. */
  isn(now: number, localIp: number, localPort: number, remoteIp: number, remotePort: number): number {
    const m = Math.floor(now * 250);
    return (m + this.hash(1, localIp, localPort, remoteIp, remotePort)) >>> 0;
  }

  /** Per-connection timestamp clock offset (RFC 7323 §5.4), stable for a 4-tuple so SYN cookies can recompute it. */
  tsOffset(localIp: number, localPort: number, remoteIp: number, remotePort: number): number {
    return this.hash(2, localIp, localPort, remoteIp, remotePort);
  }
}
