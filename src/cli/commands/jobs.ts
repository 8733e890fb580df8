import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiSocketFor, callApi } from '../../api/client.js';
import { PaasmakerError } from '../../shared/errors.js';
import { ownerAlive } from '../../shared/owner.js';
import { homeLayout } from '../../shared/paths.js';
import { readState, type JobRecord, type State } from '../read-state.js';
import { colorEnabled, painter, table } from '../output.js';

const FINISHED = new Set(['success', 'failed', 'aborted']);
const COLORS = { success: 'green', failed: 'red', aborted: 'red', running: 'yellow', waiting: 'yellow', new: 'gray' } as const;

/** A job by its id or an unambiguous start of it. */
function findJob(state: State, id: string): JobRecord {
  const found = state.jobs.find(id);
  if (found.length === 0) throw new PaasmakerError('JOB_NOT_FOUND', `no job ${id}`);
  if (found.length > 1) throw new PaasmakerError('USAGE', `"${id}" starts ${found.length} job ids`, { hint: 'give more of the id' });
  return found[0]!;
}

const when = (at: number) => new Date(at).toISOString().replace('T', ' ').slice(11, 19);

/** `paasmaker jobs [--json]`: the latest actions, each a tree. */
export async function jobsList(options: { json?: boolean; app?: string }): Promise<number> {
  const rows =
    readState((state) =>
      state.jobs.roots({ app: options.app }).map((root) => {
        const tree = state.jobs.tree(root.id);
        return { ...root, steps: tree.length - 1, failedSteps: tree.filter((job) => job.state === 'failed').length };
      }),
    ) ?? [];
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

/** `paasmaker jobs show ID [-f]`: the tree with states, and each job's log; -f follows until it ends. */
export async function jobsShow(id: string, options: { follow?: boolean }): Promise<number> {
  const paint = painter(colorEnabled());
  const logs = join(homeLayout().logs, 'jobs');
  const printed = new Map<string, number>();
  const states = new Map<string, string>();
  for (;;) {
    const tree = readState((state) => state.jobs.tree(findJob(state, id).root)) ?? [];
    const depth = new Map<string, number>();
    for (const job of tree) {
      depth.set(job.id, job.parent ? (depth.get(job.parent) ?? 0) + 1 : 0);
      const indent = '  '.repeat(depth.get(job.id)!);
      if (states.get(job.id) !== job.state) {
        states.set(job.id, job.state);
        const color = COLORS[job.state as keyof typeof COLORS] ?? 'gray';
        process.stdout.write(`${indent}${paint('bold', job.title)} ${paint(color, job.state)} ${paint('gray', job.id)}${job.detail && FINISHED.has(job.state) && !job.detail.includes('\n') ? ` — ${job.detail}` : ''}\n`);
      }
      const file = join(logs, `${job.id}.log`);
      if (existsSync(file)) {
        const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
        for (const line of lines.slice(printed.get(job.id) ?? 0)) process.stdout.write(`${indent}  ${paint('gray', '|')} ${line.replace(/^\S+ \S+ /, '')}\n`);
        printed.set(job.id, lines.length);
      }
    }
    const root = tree[0];
    if (!options.follow || !root || FINISHED.has(root.state)) return root?.state === 'failed' || root?.state === 'aborted' ? 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `paasmaker jobs abort ID`: asks the platform that runs the job to stop it. */
export async function jobsAbort(id: string): Promise<number> {
  const job = readState((state) => findJob(state, id));
  if (!job) throw new PaasmakerError('JOB_NOT_FOUND', `no job ${id}`);
  if (FINISHED.has(job.state)) {
    process.stdout.write(`job ${job.id} already ended: ${job.state}\n`);
    return 0;
  }
  if (!ownerAlive(job.ownerPid, job.ownerStart)) throw new PaasmakerError('PLATFORM_UNREACHABLE', `the paasmaker that ran job ${job.id} is not running`, { hint: 'its next start marks the job aborted (paasmaker daemon start, or paasmaker up in the project)' });
  await callApi(apiSocketFor(homeLayout().root, job.ownerPid!), 'POST', `/api/v1/jobs/${encodeURIComponent(job.id)}/abort`, {});
  process.stdout.write(`aborted job ${job.id} (${job.title})\n`);
  return 0;
}
