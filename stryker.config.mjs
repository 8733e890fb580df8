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
  // A mutant's run may take twice its tests' time in the dry run plus 15 s. A test
  // left waiting (a held request never released) fails sooner on the specs' own
  // 10 s deadline (vitest.mutate.config.ts), in the same runner. Not lower: a
  // spec's setup counts in its first test only, and on a loaded machine 5 s
  // turned harmless mutants of the API guard into timeouts.
  timeoutMS: 15_000,
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
