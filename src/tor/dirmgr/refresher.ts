import type { NetDir } from '../netdir/netdir.js';
import { cryptoRandom, type RandomSource } from '../netdir/random.js';
import type { DirMgr } from './dirmgr.js';
import { retryDelayMs } from './schedule.js';

export interface DirRefreshOptions {
  /** Called with each newly installed NetDir. */
  readonly onNetDir?: (dir: NetDir) => void;
  readonly clock?: () => number;
  readonly rng?: RandomSource;
  /** Upper bound on the retry back-off (ms). */
  readonly maxRetryMs?: number;
}

export interface DirRefresher {
  stop(): void;
  /** Failed or fruitless refresh attempts since the last new consensus. */
  readonly attempts: number;
}

/**
 * Runtime glue: refresh the consensus at `mgr.nextRefreshAt()`; when that yields nothing new (or the
 * fetch fails), retry with jittered exponential back-off, never sooner than the schedule allows.
 */
export function startDirRefresh(mgr: DirMgr, opts: DirRefreshOptions = {}): DirRefresher {
  const clock = opts.clock ?? Date.now;
  const rng = opts.rng ?? cryptoRandom;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let attempts = 0;

  const schedule = (): void => {
    if (stopped) return;
    const at = mgr.nextRefreshAt() ?? clock();
    const backoff = attempts === 0 ? 0 : retryDelayMs(attempts - 1, rng, opts.maxRetryMs);
    timer = setTimeout(run, Math.max(at - clock(), backoff, 0));
  };

  const run = (): void => {
    timer = undefined;
    mgr.refresh().then(
      (fresh) => {
        if (stopped) return;
        if (fresh) {
          attempts = 0;
          opts.onNetDir?.(mgr.netdir!);
        } else {
          attempts++;
        }
        schedule();
      },
      () => {
        // refresh() only rejects on local I/O (cache writes); keep the schedule going.
        attempts++;
        schedule();
      },
    );
  };

  schedule();
  return {
    stop(): void {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
    get attempts(): number {
      return attempts;
    },
  };
}
