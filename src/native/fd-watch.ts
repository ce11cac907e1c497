// Readiness of a file descriptor through Node's own event loop (a libuv poll handle in the shim).
import { loadNative, type NativeFdWatch } from './binding.js';

export interface FdWatcher {
  readonly active: boolean;
  /** Stops watching; safe to call twice. Must happen before the fd is closed. */
  stop(): void;
  /** Whether the watch keeps the process alive (default true). */
  setKeepAlive(keep: boolean): void;
}

/**
 * Calls `cb` once per loop turn while `fd` is readable (level-triggered). `cb` receives libuv's status:
 * 0, or a negative errno when polling failed.
 */
export function watchFd(fd: number, cb: (status: number) => void): FdWatcher {
  const native = loadNative();
  const w: NativeFdWatch = new native.FdWatch(fd, cb);
  return {
    get active() {
      return w.active;
    },
    stop: () => w.stop(),
    setKeepAlive: (keep) => (keep ? w.ref() : w.unref()),
  };
}
