import { createInterface } from 'node:readline/promises';
import { callApi, type JobRun, type ServiceRow } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { readFromPlatform, runningPlatform } from '../running-platform.js';
import { defineCommand } from '../command.js';
import { serviceTarget, staleServices } from '../stale-checkouts.js';

export default defineCommand<{ yes?: boolean }>({
  name: 'services prune',
  description: 'drop the databases per branch of git checkouts that no longer exist (lists them, asks first)',
  options: [{ flags: '--yes', description: 'do not ask' }],
  examples: ['git worktree remove ../feature-x && paasmaker services prune --yes'],
  run: ({ options }) => servicesPrune(options),
});

/** How long each drop's answer waits for its job. */
const WAIT_SECONDS = 60;

async function confirmed(count: number): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(`Drop ${count === 1 ? 'this database' : `these ${count} databases`} and all their data? [y/N] `);
  prompt.close();
  return /^y(es)?$/i.test(answer.trim());
}

/**
 * `paasmaker services prune [--yes]`: the databases per branch (per_branch)
 * made for a checkout whose folder is gone (git worktree remove) are
 * listed, then dropped once confirmed, through the running platform as
 * `services destroy` drops one. Shared services and databases of checkouts
 * that still exist are never touched.
 */
async function servicesPrune(options: { yes?: boolean }): Promise<number> {
  const rows = await readFromPlatform<ServiceRow[]>('/api/v1/services?kind=service', async () => (await import('../read-state.js')).readServiceRows());
  const stale = staleServices(rows);
  if (stale.length === 0) {
    process.stdout.write('Nothing to prune: every database per branch belongs to a checkout that exists.\n');
    return 0;
  }
  process.stdout.write(`Databases of checkouts that no longer exist:\n${stale.map((row) => `  ${serviceTarget(row)}  (${row.plugin} ${row.resource}; was ${row.checkout})`).join('\n')}\n`);
  if (!options.yes) {
    if (!process.stdin.isTTY) {
      process.stdout.write('Nothing was dropped: run paasmaker services prune --yes to drop them.\n');
      return 0;
    }
    if (!(await confirmed(stale.length))) {
      process.stderr.write('Nothing was dropped.\n');
      return 1;
    }
  }
  const socket = runningPlatform();
  if (!socket) {
    throw new PaasmakerError('PLATFORM_UNREACHABLE', 'no platform runs: dropping databases needs one (it drops them through their server)', {
      hint: 'start one with: paasmaker daemon start, then run: paasmaker services prune --yes',
    });
  }
  let failed = 0;
  for (const row of stale) {
    const target = serviceTarget(row);
    const query = new URLSearchParams({ wait: String(WAIT_SECONDS), branch: row.branch! });
    const answer = await callApi<JobRun>(socket, 'DELETE', `/api/v1/services/${encodeURIComponent(row.app!)}/${encodeURIComponent(row.service!)}?${query}`, { confirm: row.service });
    if (answer.state === 'running') process.stdout.write(`dropping ${target} takes longer than ${WAIT_SECONDS} s; follow it with: paasmaker jobs show ${answer.job} -f\n`);
    else if (answer.state === 'failed') {
      failed += 1;
      process.stderr.write(`could not drop ${target}: ${answer.detail ?? 'failed'} — job ${answer.job}\n`);
    } else process.stdout.write(`${answer.detail ?? `destroyed ${target}`}\n`);
  }
  return failed > 0 ? 1 : 0;
}
