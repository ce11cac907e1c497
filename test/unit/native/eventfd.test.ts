import { describe, expect, it } from 'vitest';
import { EventFd } from '../../../src/native/eventfd.js';
import { watchFd } from '../../../src/native/fd-watch.js';
import { isNativeErrnoError, loadNative, nativeAddonPath } from '../../../src/native/binding.js';
import { Worker } from 'node:worker_threads';

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

describe('EventFd (native shim)', () => {
  it('counts signals and clears', () => {
    const e = new EventFd();
    try {
      expect(e.clear()).toBe(0);
      e.signal();
      e.signal();
      e.signal();
      expect(e.clear()).toBe(3);
      expect(e.clear()).toBe(0);
    } finally {
      e.close();
    }
  });

  it('wakes onSignal once per readiness, not while idle', async () => {
    const e = new EventFd();
    const got: number[] = [];
    try {
      e.onSignal((n) => got.push(n));
      await nextTurn();
      expect(got).toEqual([]);
      e.signal();
      e.signal();
      await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual([2]);
      e.signal();
      await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual([2, 1]);
    } finally {
      e.close();
    }
  });

  it('watchFd is level-triggered: an undrained fd is reported again', async () => {
    const e = new EventFd();
    let calls = 0;
    const w = watchFd(e.fd, () => {
      calls++;
      if (calls === 3) e.clear();
    });
    try {
      e.signal();
      await new Promise((r) => setTimeout(r, 30));
      expect(calls).toBe(3);
      expect(w.active).toBe(true);
    } finally {
      w.stop();
      w.stop();
      expect(w.active).toBe(false);
      e.close();
    }
  });

  it('is signalled by fd number from a worker thread', async () => {
    const e = new EventFd();
    try {
      const got = new Promise<number>((resolve) => e.onSignal(resolve));
      const w = new Worker(
        `const { workerData } = require('node:worker_threads');
         const n = require(workerData.path);
         for (let i = 0; i < 5; i++) n.eventfdSignal(workerData.fd);`,
        { eval: true, workerData: { path: nativeAddonPath(), fd: e.fd } },
      );
      await new Promise((r) => w.on('exit', r));
      // Signals may be coalesced into fewer wake-ups; the first wake-up sees at least one.
      expect(await got).toBeGreaterThanOrEqual(1);
    } finally {
      e.close();
    }
  });

  it('reports failures with op and errno name', () => {
    const native = loadNative();
    let err: unknown;
    try {
      native.closeFd(1_000_000);
    } catch (e) {
      err = e;
    }
    expect(isNativeErrnoError(err)).toBe(true);
    expect(err).toMatchObject({ op: 'close', code: 'EBADF' });
    expect(() => native.ifQuery('no-such-if0')).toThrow(/SIOCGIFINDEX: ENODEV/);
  });
});
