import { defineConfig } from 'vitest/config';
import { mutationGroup } from './scripts/mutation-groups.mjs';

// The specs a mutation group's mutants run against (MUTATE_GROUP; see scripts/mutation-groups.mjs).
export default defineConfig({
  test: {
    include: mutationGroup().specs,
    // The slowest of these specs takes about 3 s on a loaded machine; a mutant that leaves a
    // test waiting (a held request never released) fails it here, without a new test runner.
    testTimeout: 10_000,
    hookTimeout: 10_000,
    // As in vitest.config.ts: examples/ are fixtures, not APP@branch, when this runs from a linked worktree.
    env: { PAASMAKER_WORKTREES: '0' },
  },
});
