import { defineConfig } from 'vitest/config';
import { mutationGroup } from './scripts/mutation-groups.mjs';

// The specs a mutation group's mutants run against (MUTATE_GROUP; see scripts/mutation-groups.mjs).
export default defineConfig({
  test: {
    include: mutationGroup().specs,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // As in vitest.config.ts: examples/ are fixtures, not APP@branch, when this runs from a linked worktree.
    env: { PAASMAKER_WORKTREES: '0' },
  },
});
