import { availableParallelism } from 'node:os';
import { mutationGroup } from './scripts/mutation-groups.mjs';

// One group of the mutation check (MUTATE_GROUP; scripts/mutate.mjs runs them all).
// Scores and the survivors, each explained: bench/README.md, "Mutation check".
const group = mutationGroup();

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // The group's specs, chosen in vitest.mutate.config.ts; related-file lookup would add end-to-end ones.
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  coverageAnalysis: 'perTest',
  mutate: group.mutate,
  // One test runner per core; MUTATE_CONCURRENCY=1 on a machine busy with other work.
  concurrency: mutateConcurrency(),
  // A mutant's run may take twice its tests' time in the dry run plus 5 s; a held
  // request that is never released is then caught in seconds. The specs' own
  // deadline (vitest.mutate.config.ts) usually fails such a test first.
  timeoutMS: 5_000,
  timeoutFactor: 2,
  ignorePatterns: ['bench', 'docs', 'reports', 'test-artifacts', '.paasmaker-test'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${group.name}.html` },
  jsonReporter: { fileName: `reports/mutation/${group.name}.json` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};

function mutateConcurrency() {
  const asked = process.env.MUTATE_CONCURRENCY;
  if (asked === undefined || asked === '') return availableParallelism();
  const count = Number(asked);
  if (!Number.isInteger(count) || count < 1) throw new Error(`MUTATE_CONCURRENCY must be a whole number of test runners, 1 or more (got "${asked}")`);
  return count;
}
