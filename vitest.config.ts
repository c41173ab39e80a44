import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Two cores: the integration tests' server and worker run beside the test workers.
    maxWorkers: 2,
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.{ts,tsx}'] },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: ['test/integration/bench.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        // `npm run bench -- --quick` loads both cores for most of a minute: run it after
        // everything else (a later group), so it skews no other test's timing.
        test: {
          name: 'bench',
          include: ['test/integration/bench.test.ts'],
          sequence: { groupOrder: 1 },
          testTimeout: 180_000,
        },
      },
    ],
  },
});
