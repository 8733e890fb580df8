import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { apiSocketFor, callApi, followEvents } from '../../api/client.js';
import type { CronRow, CronRun } from '../../api/routes.js';
import { loadManifest } from '../../manifest/index.js';
import { PaasmakerError } from '../../shared/errors.js';
import { ownerAlive } from '../../shared/owner.js';
import { homeLayout } from '../../shared/paths.js';
import { readState } from '../read-state.js';
import { fromPlatform } from '../running-platform.js';
import { table } from '../output.js';

const when = (at: number | null) => (at === null ? '-' : new Date(at).toISOString().replace('T', ' ').slice(0, 19));

/** Every cron row: from a running platform's API, else from the read-only view of state. */
function cronRows(app: string | undefined): Promise<CronRow[]> {
  return fromPlatform(
    (socket) => callApi<CronRow[]>(socket, 'GET', `/api/v1/crons${app ? `?app=${encodeURIComponent(app)}` : ''}`, undefined, 5000),
    () => readState((state) => state.crons.list(app)) ?? [],
  );
}

/** `paasmaker cron list [APP]`: every cron of the apps that ran, with its next run and last outcome. */
export async function cronList(app: string | undefined, options: { json?: boolean }): Promise<number> {
  const rows = await cronRows(app);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write('No crons. Declare one under instances.<type>.crons: [{schedule: "*/5 * * * *", uri: /tasks/cleanup}]\n');
    return 0;
  }
  process.stdout.write(
    table(
      ['app', 'cron', 'schedule', 'runs', 'next', 'last', 'result'],
      rows.map((row) => [row.app, row.name, row.schedule, row.target, when(row.nextRun), when(row.lastStarted), row.lastResult ? `${row.lastResult} (${row.lastDetail ?? ''})` : '-']),
    ),
  );
  return 0;
}

/** The socket of the platform running the app, or an error that says how to start one. */
function platformRunning(app: string, dir: string): string {
  const record = readState((state) => state.apps.get(app));
  if (record && record.state !== 'stopped' && ownerAlive(record.ownerPid, record.ownerStart)) {
    const socket = apiSocketFor(homeLayout().root, record.ownerPid!);
    if (existsSync(socket)) return socket;
  }
  const project = resolve(dir);
  throw new PaasmakerError('PLATFORM_UNREACHABLE', `no platform runs app "${app}": its crons run where the app runs`, {
    hint: `start it with the daemon: paasmaker up -d ${project} (or in the foreground: paasmaker up ${project}), then run the cron again`,
  });
}

/** `paasmaker cron run NAME`: asks the platform running the project's app to run one of its crons now, and prints its output. */
export async function cronRun(name: string, options: { dir: string }): Promise<number> {
  const app = loadManifest(options.dir).application.name;
  const socket = platformRunning(app, options.dir);
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
    const answer = await callApi<CronRun>(socket, 'POST', `/api/v1/apps/${encodeURIComponent(app)}/crons/${encodeURIComponent(name)}/run`);
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
