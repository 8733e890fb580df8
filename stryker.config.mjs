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
  // A machine shared with other work: one test runner.
  concurrency: 1,
  timeoutMS: 15_000,
  timeoutFactor: 2,
  ignorePatterns: ['bench', 'docs', 'reports', 'test-artifacts', '.paasmaker-test'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${group.name}.html` },
  jsonReporter: { fileName: `reports/mutation/${group.name}.json` },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
