import { describe, expect, it } from 'vitest';
import {
  BUFFER_DATA_SIZE, BUFFER_PRE_DATA_SIZE, BufferPool, LARGE_BUFFER_DATA_SIZE, NONE, defaultLargeBufferCount,
} from '../../../src/runtime/buffer-pool.js';

describe('BufferPool large buffers', () => {
  it('keeps large buffers in their own index range and arena slots, with their own free stack', () => {
    const pool = new BufferPool(16, 3);
    expect(pool.largeCapacity).toBe(3);
    const small = pool.alloc();
    const large = [pool.allocLarge(), pool.allocLarge(), pool.allocLarge()];
    expect(pool.allocLarge()).toBe(NONE);
    expect(pool.largeAllocFailures).toBe(1);
    expect(pool.available).toBe(15);
    for (const bi of large) {
      expect(pool.isLarge(bi)).toBe(true);
      expect(bi).toBeGreaterThanOrEqual(16);
      expect(pool.dataSize(bi)).toBe(LARGE_BUFFER_DATA_SIZE);
      expect(pool.slotEnd(bi) - pool.dataStart(bi)).toBe(LARGE_BUFFER_DATA_SIZE);
      expect(pool.current[bi]).toBe(pool.dataStart(bi));
      expect(pool.dataStart(bi) - BUFFER_PRE_DATA_SIZE).toBeGreaterThanOrEqual(pool.slotEnd(15));
      expect(pool.slotEnd(bi)).toBeLessThanOrEqual(pool.arena.length);
    }
    // Slots do not overlap.
    const spans = large.map((bi) => [pool.dataStart(bi) - BUFFER_PRE_DATA_SIZE, pool.slotEnd(bi)] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    expect(pool.isLarge(small)).toBe(false);
    expect(pool.dataSize(small)).toBe(BUFFER_DATA_SIZE);
    // allocLike follows the kind; free returns each kind to its own stack.
    pool.free(large[1]!);
    pool.gsoSize[large[1]!] = 1448;
    const again = pool.allocLike(large[0]!);
    expect(again).toBe(large[1]);
    expect(pool.gsoSize[again]).toBe(0);
    expect(pool.isLarge(pool.allocLike(small))).toBe(false);
    for (const bi of large) pool.free(bi);
    expect(pool.largeAvailable).toBe(3);
    expect(() => pool.free(large[0]!)).toThrow(/double free/);
  });

  it('sizes the large set from the small one by default, and allows none', () => {
    expect(new BufferPool(16384).largeCapacity).toBe(128);
    expect(defaultLargeBufferCount(1024)).toBe(8);
    const none = new BufferPool(8, 0);
    expect(none.allocLarge()).toBe(NONE);
    expect(none.arena.length).toBe(8 * (BUFFER_PRE_DATA_SIZE + BUFFER_DATA_SIZE));
  });
});
