// Readiness of a file descriptor through Node's own event loop (a libuv poll handle in the shim).
import { loadNative, type NativeFdWatch } from './binding.js';

/** Readiness kinds (libuv's UV_READABLE / UV_WRITABLE), combined as a mask. */
export const FdEvent = {
  READABLE: 1,
  WRITABLE: 2,
} as const;

export interface FdWatcher {
  /** False once stopped, with no events asked for, or after a poll error until restart(). */
  readonly active: boolean;
  /** Stops watching; safe to call twice. Must happen before the fd is closed. */
  stop(): void;
  /** Polls again after libuv stopped on an error (cb saw status < 0); clear the error's cause first. */
  restart(): void;
  /** Whether the watch keeps the process alive (default true). */
  setKeepAlive(keep: boolean): void;
  /** Polls for this FdEvent mask from now on (0: none until the next call); libuv status, 0 or negative. */
  setEvents(mask: number): number;
  /** Who is called from now on: one watch can serve a connect, then the stream that follows it. */
  setCallback(cb: (status: number, events: number) => void): void;
}

/**
 * Calls `cb` once per loop turn while `fd` is ready for `events` (level-triggered; default readable). `cb`
 * receives libuv's status — 0, or a negative libuv error (UV_EBADF when the fd reported POLLERR), after which
 * libuv has stopped polling until `restart()` — and the FdEvent mask that is ready.
 */
export function watchFd(fd: number, cb: (status: number, events: number) => void, events: number = FdEvent.READABLE): FdWatcher {
  const native = loadNative();
  let current = cb;
  const w: NativeFdWatch = new native.FdWatch(fd, (status: number, ev: number) => current(status, ev), events);
  return {
    get active() {
      return w.active;
    },
    stop: () => w.stop(),
    restart: () => w.restart(),
    setKeepAlive: (keep) => (keep ? w.ref() : w.unref()),
    setEvents: (mask) => w.setEvents(mask),
    setCallback: (next) => {
      current = next;
    },
  };
}
