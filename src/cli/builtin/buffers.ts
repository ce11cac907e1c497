// `show buffers`: the buffer pools in VPP's columns (one pool of 2 KiB buffers, one of 64 KiB buffers for
// TSO segments), with an extra column for allocation failures.

import type { Main } from '../../core/main.js';
import {
  BUFFER_DATA_SIZE,
  BUFFER_SLOT_SIZE,
  LARGE_BUFFER_DATA_SIZE,
  LARGE_BUFFER_SLOT_SIZE,
  type BufferPool,
} from '../../runtime/buffer-pool.js';
import { padLeft, padRight } from '../format.js';

export function formatBuffers(pool: BufferPool): string {
  const rows: [string, number, number, number, number, number][] = [
    ['default-numa-0', 0, BUFFER_SLOT_SIZE, BUFFER_DATA_SIZE, pool.capacity, pool.available],
    ['large-numa-0', 1, LARGE_BUFFER_SLOT_SIZE, LARGE_BUFFER_DATA_SIZE, pool.largeCapacity, pool.largeAvailable],
  ];
  const head =
    padRight('Pool Name', 20) + padLeft('Index', 6) + padLeft('NUMA', 5) + padLeft('Size', 7) + padLeft('Data Size', 11) +
    padLeft('Total', 8) + padLeft('Avail', 8) + padLeft('Cached', 8) + padLeft('Used', 8) + padLeft('Alloc fail', 11);
  const fails = [pool.allocFailures, pool.largeAllocFailures];
  const lines = rows.map(
    ([name, index, size, dataSize, total, avail], i) =>
      padRight(name, 20) + padLeft(String(index), 6) + padLeft('0', 5) + padLeft(String(size), 7) + padLeft(String(dataSize), 11) +
      padLeft(String(total), 8) + padLeft(String(avail), 8) + padLeft('0', 8) + padLeft(String(total - avail), 8) + padLeft(String(fails[i]), 11),
  );
  return [head, ...lines].join('\n');
}

export function registerBufferCommands(main: Main): void {
  main.registerCliCommand({
    path: 'show buffers',
    shortHelp: 'show buffers',
    run: (input) => {
      input.expectEnd();
      return formatBuffers(main.graph.buffers);
    },
  });
}
