#!/usr/bin/env node
// npm run mutate [-- GROUP...]: the mutation check, one Stryker run per group
// (scripts/mutation-groups.mjs), then the score of each module.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MUTATION_GROUPS } from './mutation-groups.mjs';

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !MUTATION_GROUPS.some((group) => group.name === name));
if (unknown.length > 0) {
  console.error(`no mutation group ${unknown.map((name) => `"${name}"`).join(', ')}; the groups: ${MUTATION_GROUPS.map((group) => group.name).join(', ')}`);
  process.exit(2);
}
const groups = asked.length === 0 ? MUTATION_GROUPS : MUTATION_GROUPS.filter((group) => asked.includes(group.name));

const rows = [];
let failed = false;
const started = Date.now();
for (const group of groups) {
  console.log(`\n== ${group.name}: ${group.what}`);
  const at = Date.now();
  // The specs' temporary homes and projects go to a folder of the group's, removed after it: a test
  // runner that Stryker ends at a timeout never runs its afterAll.
  const temp = mkdtempSync(join(tmpdir(), `pm-mutate-${group.name}-`));
  const run = spawnSync('npx', ['stryker', 'run'], { stdio: 'inherit', env: { ...process.env, MUTATE_GROUP: group.name, TMPDIR: temp } });
  rmSync(temp, { recursive: true, force: true });
  const minutes = (Date.now() - at) / 60_000;
  const report = `reports/mutation/${group.name}.json`;
  if (run.status !== 0 || !existsSync(report)) {
    failed = true;
    rows.push([group.name, '(failed)', '', '', '', '', minutes.toFixed(1)]);
    continue;
  }
  const { files } = JSON.parse(readFileSync(report, 'utf8'));
  for (const [file, { mutants }] of Object.entries(files)) {
    const count = (status) => mutants.filter((mutant) => mutant.status === status).length;
    const detected = count('Killed') + count('Timeout');
    const valid = detected + count('Survived') + count('NoCoverage');
    rows.push([group.name, file, String(valid), String(detected), String(count('Survived')), String(count('NoCoverage')), valid === 0 ? '-' : ((100 * detected) / valid).toFixed(1)]);
  }
  rows.push([group.name, `(${minutes.toFixed(1)} min)`, '', '', '', '', '']);
}

const header = ['group', 'module', 'mutants', 'killed', 'survived', 'no cover', 'score %'];
const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
const line = (cells) => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
console.log(`\n${line(header)}\n${rows.map(line).join('\n')}\n\nmutation check: ${((Date.now() - started) / 60_000).toFixed(1)} min; reports in reports/mutation/`);
process.exit(failed ? 1 : 0);
