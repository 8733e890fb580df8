import { callApi, type JobRow, type JobRun, type SnapshotRow } from '../api/index.js';
import type { Platform } from '../engine/index.js';
import type { ResolvedManifest } from '../manifest/index.js';
import { isPaasmakerError, PaasmakerError } from '../shared/errors.js';
import { followDeploy, jobTreePrinter } from './deploy-stream.js';
import { FINISHED } from './jobs-view.js';
import { paasmakerHome } from '../shared/paths.js';
import { platformFor, withPlatform } from './project-environment.js';
import { readFromPlatform } from './running-platform.js';

// What the db dump, restore and snapshot commands share: the project's
// app, the platform that works on its data (the one running it, else any
// running one, else one of the command's own, as db shell does), and a
// job followed live to its end.

/** The project in `dir`: its manifest, read here. */
export async function projectManifest(dir: string): Promise<ResolvedManifest> {
  return (await import('../manifest/index.js')).loadManifest(dir);
}

/** The socket of the platform that works on the app's data: the one running it, else any running one; undefined when none runs. */
export async function dataPlatform(app: string): Promise<string | undefined> {
  return (await platformFor(app))?.socket;
}

/** How long the API is asked to hold its answer, in seconds: a job that runs longer is followed to its end. */
const ANSWER_WAIT = 60;

/**
 * Asks a running platform for a data job (ask gets the seconds the answer
 * may wait), showing its steps and log lines live as they happen, and
 * waits for its end however long it runs. An app the platform has never
 * run is named with how to start it.
 */
export async function apiJob<T extends JobRun>(socket: string, app: string, ask: (wait: number) => Promise<T>): Promise<T> {
  // The job this command started, by the id its answer gives: never another's of the same title.
  const stream = await followDeploy(socket, { app, later: true });
  let answer: T;
  try {
    answer = await ask(ANSWER_WAIT);
  } catch (error) {
    await stream.close();
    if (isPaasmakerError(error) && error.code === 'APP_NOT_FOUND') throw new PaasmakerError('APP_NOT_FOUND', `the running platform has never run ${app}`, { hint: `start it once: paasmaker up -d (its services are made then), then try again` });
    throw error;
  }
  stream.adopt(answer.job);
  while (answer.state === 'running') {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const root = (await callApi<JobRow[]>(socket, 'GET', `/api/v1/jobs/${encodeURIComponent(answer.job)}`, undefined, 5000)).find((job) => job.id === answer.job);
    if (root && FINISHED.has(root.state)) answer = { ...answer, state: root.state === 'success' ? 'success' : 'failed', detail: root.detail };
  }
  // The answer and the stream travel apart: the job's last lines come before its end on the stream.
  for (const deadline = Date.now() + 2000; !stream.ended(answer.job) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 25));
  await stream.close(answer.job);
  return answer;
}

/** Runs fn on a platform of this command's own (none runs), its jobs of the app shown live as the API's would be. */
export function localJob<T>(app: string, isJob: (title: string) => boolean, fn: (platform: Platform) => Promise<T>): Promise<T> {
  return withPlatform(async (platform) => {
    const printer = jobTreePrinter(process.stdout, (event) => event.app === app && isJob(event.title));
    platform.on('job.update', (event) => printer.update(event));
    platform.on('job.log', (event) => printer.log(event));
    return fn(platform);
  });
}

/** A job that failed, as the command reports it: what could not be done, why, and the job to look at; exit 1. */
export function jobFailed(what: string, answer: JobRun): number {
  process.stderr.write(`error: could not ${what}: ${answer.detail ?? 'failed'}\nhint: paasmaker jobs show ${answer.job} has its log\n`);
  return 1;
}

/** A refusal of --yes's absence: what would be replaced, and the command line that confirms it. */
export function confirmationNeeded(what: string, command: string): PaasmakerError {
  return new PaasmakerError('CONFIRMATION_NEEDED', what, { hint: `add --yes to confirm: ${command} --yes` });
}

/** The app's snapshots: from the running platform, else (none runs, or it never ran the app) read from PAASMAKER_HOME/snapshots. */
export async function appSnapshots(app: string): Promise<SnapshotRow[]> {
  const onDisk = async () => (await import('../engine/index.js')).listSnapshots(paasmakerHome(), app);
  return readFromPlatform<SnapshotRow[]>(`/api/v1/apps/${encodeURIComponent(app)}/snapshots`, onDisk).catch((error: unknown) => {
    if (isPaasmakerError(error) && error.code === 'APP_NOT_FOUND') return onDisk();
    throw error;
  });
}

/** One of the app's snapshots, or SNAPSHOT_NOT_FOUND naming those there are (DUMP_INVALID for one whose record is damaged). */
export async function appSnapshot(app: string, name: string): Promise<SnapshotRow> {
  const rows = await appSnapshots(app);
  const row = rows.find((each) => each.name === name);
  if (row) return row;
  // Not listed, yet there: its record is damaged, which reading it says (DUMP_INVALID).
  const engine = await import('../engine/index.js');
  if (engine.hasSnapshot(paasmakerHome(), app, name)) engine.readSnapshot(paasmakerHome(), app, name);
  throw new PaasmakerError('SNAPSHOT_NOT_FOUND', `${app} has no snapshot "${name}"`, { hint: rows.length > 0 ? `its snapshots: ${rows.map((each) => each.name).join(', ')}` : 'paasmaker db snapshot [NAME] takes one' });
}
