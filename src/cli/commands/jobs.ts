import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiSocketFor, callApi } from '../../api/client.js';
import type { JobSchema } from '../../api/routes.js';
import type { z } from 'zod';
import { isPaasmakerError, PaasmakerError } from '../../shared/errors.js';
import { homeLayout } from '../../shared/paths.js';
import { readState, type JobRecord, type State } from '../read-state.js';
import { fromPlatform } from '../running-platform.js';
import { colorEnabled, painter, table } from '../output.js';

type Job = z.infer<typeof JobSchema>;

const FINISHED = new Set(['success', 'failed', 'aborted']);
const COLORS = { success: 'green', failed: 'red', aborted: 'red', running: 'yellow', waiting: 'yellow', new: 'gray' } as const;

function noJob(id: string): never {
  throw new PaasmakerError('JOB_NOT_FOUND', `no job ${id}`);
}

/** One job among those found by its id or a start of it: exactly one, else an error that says why. */
function theOne(id: string, found: Job[]): Job {
  if (found.length === 0) noJob(id);
  if (found.length > 1) throw new PaasmakerError('USAGE', `"${id}" starts ${found.length} job ids`, { hint: 'give more of the id' });
  return found[0]!;
}

/** A job by its id, or an unambiguous start of a root job's id, asked of a running platform. */
async function askJob(socket: string, id: string): Promise<Job> {
  try {
    const tree = await callApi<Job[]>(socket, 'GET', `/api/v1/jobs/${encodeURIComponent(id)}`, undefined, 5000);
    return tree.find((job) => job.id === id)!;
  } catch (error) {
    if (!isPaasmakerError(error) || error.code !== 'JOB_NOT_FOUND') throw error;
  }
  const roots = await callApi<Job[]>(socket, 'GET', '/api/v1/jobs', undefined, 5000);
  return theOne(id, roots.filter((job) => job.id.startsWith(id)));
}

/** A job by its id or an unambiguous start of it, from the read-only view. */
const findJob = (state: State, id: string): Job => theOne(id, recorded(state.jobs.find(id)));

/** Jobs as state records them: their states are the schema's. */
const recorded = (records: JobRecord[]) => records as Job[];

/** A job's whole tree: from the running platform, else from the read-only view. */
function jobTree(id: string): Promise<Job[]> {
  return fromPlatform(
    async (socket) => callApi<Job[]>(socket, 'GET', `/api/v1/jobs/${encodeURIComponent((await askJob(socket, id)).root)}`, undefined, 5000),
    () => readState((state) => recorded(state.jobs.tree(findJob(state, id).root))) ?? noJob(id),
  );
}

const when = (at: number) => new Date(at).toISOString().replace('T', ' ').slice(11, 19);

/** `paasmaker jobs [--json]`: the latest actions, each a tree. */
export async function jobsList(options: { json?: boolean; app?: string }): Promise<number> {
  const withSteps = (root: Job, tree: Job[]) => ({ ...root, steps: tree.length - 1, failedSteps: tree.filter((job) => job.state === 'failed').length });
  const query = options.app ? `?app=${encodeURIComponent(options.app)}` : '';
  const rows = await fromPlatform(
    async (socket) => {
      const roots = await callApi<Job[]>(socket, 'GET', `/api/v1/jobs${query}`, undefined, 5000);
      return Promise.all(roots.map(async (root) => withSteps(root, await callApi<Job[]>(socket, 'GET', `/api/v1/jobs/${encodeURIComponent(root.id)}`, undefined, 5000))));
    },
    () => readState((state) => recorded(state.jobs.roots({ app: options.app })).map((root) => withSteps(root, recorded(state.jobs.tree(root.id))))) ?? [],
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

/** `paasmaker jobs show ID [-f]`: the tree with states, and each job's log; -f follows until it ends. */
export async function jobsShow(id: string, options: { follow?: boolean }): Promise<number> {
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
  const ended = (job: Job) => {
    process.stdout.write(`job ${job.id} already ended: ${job.state}\n`);
    return 0;
  };
  return fromPlatform(
    async (socket) => {
      const job = await askJob(socket, id);
      if (FINISHED.has(job.state)) return ended(job);
      const owner = job.ownerPid === null ? socket : apiSocketFor(homeLayout().root, job.ownerPid);
      const { aborted } = await callApi<{ aborted: boolean }>(owner, 'POST', `/api/v1/jobs/${encodeURIComponent(job.id)}/abort`, {});
      process.stdout.write(aborted ? `aborted job ${job.id} (${job.title})\n` : `job ${job.id} (${job.title}) was not running there\n`);
      return 0;
    },
    () => {
      const job = readState((state) => findJob(state, id)) ?? noJob(id);
      if (FINISHED.has(job.state)) return ended(job);
      throw new PaasmakerError('PLATFORM_UNREACHABLE', `no paasmaker runs here, so job ${job.id} (${job.title}) is not running: the paasmaker that ran it is gone`, {
        hint: 'start one with: paasmaker daemon start (or paasmaker up in the project); its start marks the job aborted',
      });
    },
  );
}
