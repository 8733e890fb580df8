import type { z } from 'zod';
import { appTimes, type Platform } from '../engine/index.js';
import { PaasmakerError } from '../shared/errors.js';
import type { AppRow, JobRun, Status } from '../shared/views.js';

/** Everything a handler may use. */
export interface ApiContext {
  platform: Platform;
  /** The daemon's status, when the server is the daemon's. */
  status: () => Omit<Status, 'degraded'>;
  /** Stops the server's process (daemon stop). */
  shutdown: () => void;
  /** A foreground client that held an app went away: stop the app. */
  detached?: (app: string) => Promise<void>;
  /** How this request came: the Unix socket (only its owner can open it) or the TCP listener. */
  transport?: 'socket' | 'tcp';
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** With :params. */
  path: string;
  summary: string;
  request?: z.ZodType;
  /** The query parameters it takes (none when absent). */
  query?: z.ZodObject;
  response: z.ZodType;
  handle: (context: ApiContext, params: Record<string, string>, body: unknown, query: any) => Promise<unknown> | unknown;
}

export function appRecord(context: ApiContext, name: string): AppRow {
  const record = context.platform.state.apps.get(name);
  if (!record) throw new PaasmakerError('APP_NOT_FOUND', `no app named "${name}"`, { hint: 'GET /api/v1/apps lists them' });
  return { name: record.name, directory: record.directory, manifest: record.manifest, state: record.state, url: context.platform.appUrl(record.name) ?? null, ownerPid: record.ownerPid, ...appTimes(record) };
}

/**
 * The answer of an action run as a job: its outcome when it ends within
 * waitSeconds, else the job still running (its end is a job.update event).
 * `run` calls `started` with the job's id once the job exists; an error
 * before that (nothing to run) is the answer.
 */
export async function answerAsJob(run: (started: (job: string) => void) => Promise<{ ok: boolean; detail: string | null }>, waitSeconds = 10): Promise<JobRun> {
  let started: (job: string) => void = () => {};
  const job = new Promise<string>((resolve) => (started = resolve));
  const outcome = run(started);
  const wait = new Promise<undefined>((resolve) => setTimeout(resolve, waitSeconds * 1000, undefined).unref());
  const ended = await Promise.race([outcome, job.then(() => wait)]);
  if (ended) return { job: await job, state: ended.ok ? 'success' : 'failed', detail: ended.detail };
  outcome.catch(() => undefined); // it goes on; its end is a job.update event
  return { job: await job, state: 'running', detail: null };
}
