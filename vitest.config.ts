import { defineConfig } from 'vitest/config';

// CI asks for a JSON report (VITEST_JSON_REPORT=path) to print its plain
// "N passed, N failed" line; everyone else gets the default reporter only.
const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.spec.ts', 'test/**/*.spec.tsx'],
    // Tests start real processes and servers: give them room on a busy 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // This repository's examples/ are fixtures, and the suite often runs from a linked git worktree of it:
    // there they would run as APP@branch. Tests of worktrees turn it back on (PAASMAKER_WORKTREES=1).
    env: { PAASMAKER_WORKTREES: '0' },
    maxWorkers: 2,
    reporters: jsonReport ? ['default', 'json'] : ['default'],
    outputFile: jsonReport ? { json: jsonReport } : undefined,
  },
});
