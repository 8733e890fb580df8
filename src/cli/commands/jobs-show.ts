import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { callApi, type JobLogLine } from '../../api/index.js';
import { homeLayout } from '../../shared/paths.js';
import { defineCommand } from '../command.js';
import { COLORS, FINISHED, jobTree } from '../jobs-view.js';
import { colorEnabled, painter } from '../output.js';
import { fromPlatform } from '../running-platform.js';

export default defineCommand<{ follow?: boolean }>({
  name: 'jobs show',
  description: "a job's tree with states, and each step's log",
  arguments: [{ name: '<id>', description: 'the job id (or the start of it)', completes: 'job' }],
  options: [{ flags: '-f, --follow', description: 'follow until it ends' }],
  examples: ['paasmaker jobs show 3f2a      the tree and its logs', 'paasmaker jobs show 3f2a -f   follow it to its end'],
  run: ({ args, options }) => jobsShow(args[0] as string, options),
});

/** A job's own log lines: from the running platform's API, else from its file. */
function jobLog(id: string, folder: string): Promise<string[]> {
  return fromPlatform(
    async (socket) => (await callApi<JobLogLine[]>(socket, 'GET', `/api/v1/jobs/${encodeURIComponent(id)}/log`, undefined, 5000)).map((entry) => entry.line),
    () => {
      const file = join(folder, `${id}.log`);
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => line.replace(/^\S+ \S+ /, '')) : [];
    },
  );
}

/** `paasmaker jobs show ID [-f]`: the tree with states, and each job's log; -f follows until it ends. */
async function jobsShow(id: string, options: { follow?: boolean }): Promise<number> {
  const paint = painter(colorEnabled());
  const logs = join(homeLayout().logs, 'jobs');
  const printed = new Map<string, number>();
  const states = new Map<string, string>();
  for (;;) {
    const tree = await jobTree(id);
    const depth = new Map<string, number>();
    for (const job of tree) {
      depth.set(job.id, job.parent ? (depth.get(job.parent) ?? 0) + 1 : 0);
      const indent = '  '.repeat(depth.get(job.id)!);
      if (states.get(job.id) !== job.state) {
        states.set(job.id, job.state);
        const color = COLORS[job.state as keyof typeof COLORS] ?? 'gray';
        process.stdout.write(`${indent}${paint('bold', job.title)} ${paint(color, job.state)} ${paint('gray', job.id)}${job.detail && FINISHED.has(job.state) && !job.detail.includes('\n') ? ` — ${job.detail}` : ''}\n`);
      }
      const lines = await jobLog(job.id, logs);
      for (const line of lines.slice(printed.get(job.id) ?? 0)) process.stdout.write(`${indent}  ${paint('gray', '|')} ${line}\n`);
      printed.set(job.id, lines.length);
    }
    const root = tree[0];
    if (!options.follow || !root || FINISHED.has(root.state)) return root?.state === 'failed' || root?.state === 'aborted' ? 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
