import { ENDED, type Supervisor } from '../supervisor/index.js';
import type { CronRuns } from './cron-runs.js';
import type { Launcher } from './launcher.js';
import type { RunningApp } from './running-app.js';

/** What stopping an app's processes for a while needs: its runs and the supervisor that holds their processes. */
export interface AppPauseParts {
  running: Map<string, RunningApp>;
  standby: Map<string, RunningApp>;
  supervisor: Supervisor;
  launcher: Launcher;
  /** The apps' crons: an app's are paused while its processes are stopped. */
  crons: CronRuns;
}

/**
 * Runs fn with the app's processes stopped — its front run's and those of
 * its versions running beside it — then starts again those that were
 * running (or restarting), whether fn succeeded or not: a restore swaps the
 * data under an app that holds no connection to it. One-shots that had
 * exited are left as they were.
 */
export async function withAppStopped<T>(parts: AppPauseParts, app: string, say: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const { running, standby, supervisor, launcher } = parts;
  // Its crons first: none runs against the data being swapped, nor while the processes are down.
  const front = running.get(app);
  const crons = front?.crons;
  if (front && crons) {
    say(`pausing ${app}'s crons`);
    crons.stop();
    front.crons = undefined;
  }
  try {
    return await stopped(parts, app, say, fn);
  } finally {
    // Started again only where nothing else (a deploy, a stop) changed the app's run or its crons meanwhile.
    if (front && crons && running.get(app) === front && front.crons === undefined) {
      parts.crons.start(front);
      say(`${app}'s crons are on their schedules again`);
    }
  }
}

async function stopped<T>(parts: AppPauseParts, app: string, say: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const { running, standby, supervisor, launcher } = parts;
  const runs = [running.get(app), ...[...standby.values()].filter((run) => run.manifest.application.name === app)].filter((run): run is RunningApp => run !== undefined);
  const paused = runs.flatMap((run) =>
    [...run.slots].flatMap(([slot, key]) => {
      const info = supervisor.info(key);
      if (!info || ENDED.has(info.state)) return [];
      const dot = slot.lastIndexOf('.');
      return [{ run, slot: { instance: slot.slice(0, dot), index: Number(slot.slice(dot + 1)) }, name: slot }];
    }),
  );
  if (paused.length === 0) return fn();
  say(`stopping ${app}'s processes: ${paused.map((each) => each.name).join(', ')}`);
  await Promise.all(paused.map((each) => launcher.control(app, each.run, each.slot, 'stop')));
  try {
    return await fn();
  } finally {
    say(`starting ${app}'s processes again`);
    const states = await Promise.all(paused.map((each) => launcher.control(app, each.run, each.slot, 'start').catch((error: unknown) => `not started (${(error as Error).message})`)));
    say(paused.map((each, i) => `${each.name}: ${states[i]}`).join(', '));
  }
}
