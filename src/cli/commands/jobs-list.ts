import { callApi } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { FINISHED, recorded, when, type Job } from '../jobs-view.js';
import { table } from '../output.js';
import { fromPlatform, readView } from '../running-platform.js';

type Options = { json?: boolean; app?: string };

export default defineCommand<Options>({
  name: 'jobs',
  description: 'every action as a job tree: up, services, prepare, start, reload, cron, destroy',
  options: [
    { flags: '--json', description: 'print JSON' },
    { flags: '--app <app>', description: 'only this app', completes: 'app' },
  ],
  examples: ['paasmaker jobs', 'paasmaker jobs --app shop --json'],
  run: ({ options }) => jobsList(options),
});

/** `paasmaker jobs [--json]`: the latest actions, each a tree. */
async function jobsList(options: Options): Promise<number> {
  const withSteps = (root: Job, tree: Job[]) => ({ ...root, steps: tree.length - 1, failedSteps: tree.filter((job) => job.state === 'failed').length });
  const query = options.app ? `?app=${encodeURIComponent(options.app)}` : '';
  const rows = await fromPlatform(
    async (socket) => {
      const roots = await callApi<Job[]>(socket, 'GET', `/api/v1/jobs${query}`, undefined, 5000);
      return Promise.all(roots.map(async (root) => withSteps(root, await callApi<Job[]>(socket, 'GET', `/api/v1/jobs/${encodeURIComponent(root.id)}`, undefined, 5000))));
    },
    async () => (await readView((state) => recorded(state.jobs.roots({ app: options.app })).map((root) => withSteps(root, recorded(state.jobs.tree(root.id)))))) ?? [],
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write('No jobs yet: every action (up, prepare, reload, cron, destroy) becomes one.\n');
    return 0;
  }
  process.stdout.write(table(['id', 'app', 'job', 'state', 'steps', 'started', 'took'], rows.map((row) => [row.id, row.app, row.title, row.state, String(row.steps), when(row.createdAt), FINISHED.has(row.state) ? `${((row.updatedAt - row.createdAt) / 1000).toFixed(1)} s` : '-'])));
  return 0;
}
