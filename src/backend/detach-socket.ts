// Takes a connected node:net socket's connection away from libuv so the stream's bytes can move between
// the kernel socket and the shared rings in place (fd-pump.ts). Synchronous from start to end: no loop turn
// can read from the socket in between, so no byte is lost or reordered.
import type { Socket } from 'node:net';
import { loadNative } from '../native/binding.js';

/** What a handle exposes on Unix: its descriptor and libuv's read switch. */
interface StreamHandle {
  fd?: number;
  readStop?: () => number;
}

export interface DetachedSocket {
  /** A non-blocking descriptor of the same connection, owned by the caller from now on. */
  readonly fd: number;
  /** Bytes node:net had already read and not delivered: they come before anything read from `fd`. */
  readonly buffered: Uint8Array | undefined;
}

/**
 * Stops libuv reading `socket`, collects what it had buffered, duplicates the descriptor and destroys the
 * node:net socket (closing its descriptor only; the connection lives on in the duplicate). Undefined when the
 * socket has no descriptor to hand over (the caller then keeps using the socket as it is).
 */
export function detachSocket(socket: Socket): DetachedSocket | undefined {
  const handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
  if (!handle || typeof handle.fd !== 'number' || handle.fd < 0 || typeof handle.readStop !== 'function') return undefined;
  if (socket.writableLength > 0) return undefined; // bytes still queued in node:net would be lost
  socket.pause();
  const chunks: Buffer[] = [];
  for (let c: Buffer | null; (c = socket.read() as Buffer | null) !== null; ) chunks.push(c);
  handle.readStop();
  const fd = loadNative().dupFd(handle.fd);
  socket.destroy();
  const buffered = chunks.length === 0 ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  return { fd, buffered };
}
