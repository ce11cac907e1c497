// Readiness of a file descriptor through Node's own event loop (a libuv poll handle in the shim).
import { loadNative, type NativeFdWatch } from './binding.js';

export interface FdWatcher {
  /** False once stopped, or after a poll error until restart(). */
  readonly active: boolean;
  /** Stops watching; safe to call twice. Must happen before the fd is closed. */
  stop(): void;
  /** Polls again after libuv stopped on an error (cb saw status < 0); clear the error's cause first. */
  restart(): void;
  /** Whether the watch keeps the process alive (default true). */
  setKeepAlive(keep: boolean): void;
}

/**
 * Calls `cb` once per loop turn while `fd` is readable (level-triggered). `cb` receives libuv's status: 0, or
 * a negative libuv error (UV_EBADF when the fd reported POLLERR), after which libuv has stopped polling until
 * `restart()`.
 */
export function watchFd(fd: number, cb: (status: number) => void): FdWatcher {
  const native = loadNative();
  const w: NativeFdWatch = new native.FdWatch(fd, cb);
  return {
    get active() {
      return w.active;
    },
    stop: () => w.stop(),
    restart: () => w.restart(),
    setKeepAlive: (keep) => (keep ? w.ref() : w.unref()),
  };
}
