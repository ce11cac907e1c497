// Socket error codes -> Tor stream END reasons, so every backend reports failures in one vocabulary
// (the same grouping C tor's exit side uses for errno values).
import { constants } from 'node:os';
import { StreamEndReason } from '../socks/codes.js';

const errnoNames: string[] = [];
for (const [name, n] of Object.entries(constants.errno)) errnoNames[n] ??= name;

/** The same mapping for a numeric errno (the shim's -errno results). */
export function errnoNumberToEndReason(errno: number): number {
  return errnoToEndReason(errnoNames[errno]);
}

export function errnoToEndReason(code: string | undefined): number {
  switch (code) {
    case 'EPIPE':
      return StreamEndReason.DONE;
    case 'ECONNREFUSED':
      return StreamEndReason.CONNECTREFUSED;
    case 'ECONNRESET':
      return StreamEndReason.CONNRESET;
    case 'ETIMEDOUT':
      return StreamEndReason.TIMEOUT;
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'ENETDOWN':
    case 'EHOSTDOWN':
    case 'EACCES':
    case 'EPERM':
      return StreamEndReason.NOROUTE;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
      return StreamEndReason.RESOLVEFAILED;
    case 'ENOBUFS':
    case 'ENOMEM':
    case 'ENFILE':
    case 'EMFILE':
    case 'EADDRINUSE':
    case 'EADDRNOTAVAIL':
      return StreamEndReason.RESOURCELIMIT;
    case 'EBADF':
    case 'EFAULT':
    case 'EINVAL':
    case 'EISCONN':
    case 'ENOTSOCK':
    case 'ENOTCONN':
    case 'EAFNOSUPPORT':
    case 'EPROTONOSUPPORT':
      return StreamEndReason.INTERNAL;
    default:
      return StreamEndReason.MISC;
  }
}
