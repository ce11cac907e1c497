import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Integration tests start real daemons, tor networks and namespaces: two at a time on 2 cores.
    maxWorkers: 2,
  },
});
