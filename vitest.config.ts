import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Files run one after another: several start servers, Postgres and worker threads, and the
    // load and outage tests judge reply times, which a 2-core machine running other files would skew.
    fileParallelism: false,
    reporters: ['default'],
  },
})
