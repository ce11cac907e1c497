// An eventfd: the wakeup between worker threads (which signal it by fd number) and the main loop.
import { loadNative } from './binding.js';
import { watchFd, type FdWatcher } from './fd-watch.js';

export class EventFd {
  readonly fd: number;
  private watcher: FdWatcher | null = null;
  private closed = false;

  constructor() {
    this.fd = loadNative().eventfdCreate();
  }

  /** Adds 1 to the counter; wakes the watcher. Never blocks (a saturated counter is already signalled). */
  signal(): void {
    loadNative().eventfdSignal(this.fd);
  }

  /** Reads and resets the counter: how many signals arrived since the last clear (0 if none). */
  clear(): number {
    return loadNative().eventfdClear(this.fd);
  }

  /** Calls cb (after clearing the counter) once per wake-up; null stops. */
  onSignal(cb: ((count: number) => void) | null): void {
    this.watcher?.stop();
    this.watcher = null;
    if (cb) this.watcher = watchFd(this.fd, () => cb(this.clear()));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onSignal(null);
    loadNative().closeFd(this.fd);
  }
}
