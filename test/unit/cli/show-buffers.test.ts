import { describe, expect, it } from 'vitest';
import { formatBuffers } from '../../../src/cli/builtin/buffers.js';
import { BufferPool, NONE } from '../../../src/runtime/buffer-pool.js';

describe('show buffers', () => {
  it('shows both pools with totals, free and used counts and allocation failures', () => {
    const pool = new BufferPool(4, 2);
    const a = pool.alloc();
    const big = pool.allocLarge();
    expect(pool.allocLarge()).not.toBe(NONE);
    expect(pool.allocLarge()).toBe(NONE);
    const lines = formatBuffers(pool).split('\n');
    expect(lines[0]).toMatch(/^Pool Name\s+Index\s+NUMA\s+Size\s+Data Size\s+Total\s+Avail\s+Cached\s+Used\s+Alloc fail$/);
    expect(lines[1]!.trim().split(/\s+/)).toEqual(['default-numa-0', '0', '0', '2176', '2048', '4', '3', '0', '1', '0']);
    expect(lines[2]!.trim().split(/\s+/)).toEqual(['large-numa-0', '1', '0', '65664', '65536', '2', '0', '0', '2', '1']);
    pool.free(a);
    pool.free(big);
    expect(formatBuffers(pool).split('\n')[2]!.trim().split(/\s+/)[6]).toBe('1');
  });
});
