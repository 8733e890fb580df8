import { callApi, followEvents, type JobRun } from '../../api/index.js';
import { defineCommand } from '../command.js';
import { platformRunning } from '../running-platform.js';

export default defineCommand<{ dir: string }>({
  name: 'cron run',
  description: "run one of the project's crons now, and print its output",
  arguments: [{ name: '<name>', description: 'the cron, as cron list names it', completes: 'cron' }],
  options: [{ flags: '-C, --dir <dir>', description: 'project folder', default: '.', completes: 'dir' }],
  examples: ['paasmaker cron run sweep          in the project folder', 'paasmaker cron run sweep -C ../shop'],
  run: ({ args, options }) => cronRun(args[0] as string, options),
});

/** `paasmaker cron run NAME`: asks the platform running the project's app to run one of its crons now, and prints its output. */
async function cronRun(name: string, options: { dir: string }): Promise<number> {
  const app = (await import('../../manifest/index.js')).loadManifest(options.dir).application.name;
  const socket = await platformRunning(app, { dir: options.dir, why: 'its crons run where the app runs' });
  let job: string | undefined;
  // Jobs that ended, as the event stream tells: the answer may come after its job's last event.
  const over = new Map<string, { state: string; detail: string | undefined }>();
  let finish: () => void = () => {};
  const ended = new Promise<void>((resolve) => (finish = resolve));
  const events = followEvents(
    socket,
    { app },
    (event, payload) => {
      if (event === 'log.line' && payload.source === `cron:${name}`) process.stdout.write(`${payload.source} | ${payload.line}\n`);
      if (event === 'job.update' && ['success', 'failed', 'aborted'].includes(payload.state)) {
        over.set(payload.id, { state: payload.state, detail: payload.detail });
        if (payload.id === job) finish();
      }
    },
    () => finish(),
  );
  try {
    const answer = await callApi<JobRun>(socket, 'POST', `/api/v1/apps/${encodeURIComponent(app)}/crons/${encodeURIComponent(name)}/run`);
    job = answer.job;
    if (answer.state === 'running' && !over.has(job)) await ended;
    const outcome = answer.state === 'running' ? (over.get(job) ?? { state: 'failed', detail: `the platform went away before the cron ended (paasmaker jobs show ${job})` }) : { state: answer.state, detail: answer.detail ?? undefined };
    const ok = outcome.state === 'success';
    (ok ? process.stdout : process.stderr).write(`cron ${name}: ${ok ? 'ok' : outcome.state}${outcome.detail ? ` (${outcome.detail})` : ''} — job ${answer.job}\n`);
    return ok ? 0 : 1;
  } finally {
    events.destroy();
  }
}
