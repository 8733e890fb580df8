import { apiSocketFor, callApi } from '../../api/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { homeLayout } from '../../shared/paths.js';
import { defineCommand } from '../command.js';
import { askJob, findJob, FINISHED, noJob, type Job } from '../jobs-view.js';
import { fromPlatform, readView } from '../running-platform.js';

export default defineCommand({
  name: 'jobs abort',
  description: 'stop a running job (and its running steps)',
  arguments: [{ name: '<id>', description: 'the job id (or the start of it)', completes: 'running-job' }],
  examples: ['paasmaker jobs abort 3f2a'],
  run: ({ args }) => jobsAbort(args[0] as string),
});

/** `paasmaker jobs abort ID`: asks the platform that runs the job to stop it. */
async function jobsAbort(id: string): Promise<number> {
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
    async () => {
      const job = (await readView((state) => findJob(state, id))) ?? noJob(id);
      if (FINISHED.has(job.state)) return ended(job);
      throw new PaasmakerError('PLATFORM_UNREACHABLE', `no paasmaker runs here, so job ${job.id} (${job.title}) is not running: the paasmaker that ran it is gone`, {
        hint: 'start one with: paasmaker daemon start (or paasmaker up in the project); its start marks the job aborted',
      });
    },
  );
}
