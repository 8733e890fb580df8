import { callApi, type JobRow } from '../api/index.js';
import { isPaasmakerError, PaasmakerError } from '../shared/errors.js';
import type { JobRecord, State } from './read-state.js';
import { fromPlatform, readView } from './running-platform.js';

// What the jobs commands share: finding a job by its id (or the start of
// it) through the running platform, else in the read-only view.

export type Job = JobRow;

export const FINISHED = new Set(['success', 'failed', 'aborted']);
export const COLORS = { success: 'green', failed: 'red', aborted: 'red', running: 'yellow', waiting: 'yellow', new: 'gray' } as const;

export function noJob(id: string): never {
  throw new PaasmakerError('JOB_NOT_FOUND', `no job ${id}`);
}

/** One job among those found by its id or a start of it: exactly one, else an error that says why. */
function theOne(id: string, found: Job[]): Job {
  if (found.length === 0) noJob(id);
  if (found.length > 1) throw new PaasmakerError('USAGE', `"${id}" starts ${found.length} job ids`, { hint: 'give more of the id' });
  return found[0]!;
}

/** A job by its id, or an unambiguous start of a root job's id, asked of a running platform. */
export async function askJob(socket: string, id: string): Promise<Job> {
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
export const findJob = (state: State, id: string): Job => theOne(id, recorded(state.jobs.find(id)));

/** Jobs as state records them: their states are the schema's. */
export const recorded = (records: JobRecord[]) => records as Job[];

/** A job's whole tree: from the running platform, else from the read-only view. */
export function jobTree(id: string): Promise<Job[]> {
  return fromPlatform(
    async (socket) => callApi<Job[]>(socket, 'GET', `/api/v1/jobs/${encodeURIComponent((await askJob(socket, id)).root)}`, undefined, 5000),
    async () => (await readView((state) => recorded(state.jobs.tree(findJob(state, id).root)))) ?? noJob(id),
  );
}

export const when = (at: number) => new Date(at).toISOString().replace('T', ' ').slice(11, 19);
