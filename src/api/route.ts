import type { z } from 'zod';
import type { Access, Caller, Permission, Session, SignInCodes, SignInLimiter, Sessions } from '../auth/index.js';
import { appTimes, type Platform } from '../engine/index.js';
import { errorText, PaasmakerError } from '../shared/errors.js';
import type { AppRow, JobRun, Status } from '../shared/views.js';

export type { Caller } from '../auth/index.js';

/** What the server is given once: the platform and the daemon's hooks. */
export interface ApiBase {
  platform: Platform;
  /** The daemon's status, when the server is the daemon's. */
  status: () => Omit<Status, 'degraded'>;
  /** Stops the server's process (daemon stop). */
  shutdown: () => void;
  /** A foreground client that held an app went away: stop the app. */
  detached?: (app: string) => Promise<void>;
}

/** The browser sign-ins the server keeps in memory (see src/auth/sessions.ts). */
export interface SignInDesk {
  sessions: Sessions;
  codes: SignInCodes;
  limiter: SignInLimiter;
}

/** Everything a handler may use: the base, and who is asking. */
export interface ApiContext extends ApiBase {
  caller: Caller;
  /** What the caller may do. */
  access: Access;
  /** Whether the caller may see this app (WORKSPACE_VIEW in its workspace). */
  mayView: (app: string) => boolean;
  /** The session cookie's, when the caller came by session. */
  session?: { id: string; session: Session };
  signIn: SignInDesk;
  /** The client's address (sign-in rate limits count per user and client). */
  client: string;
  /** Headers a handler adds to its answer (Set-Cookie). */
  headers: Record<string, string>;
}

/**
 * Where a route's permission is checked: `global` (the default) held
 * everywhere; `app` in the workspace of the :app parameter's app; `job` in
 * that of the :id job's app; `somewhere` held everywhere or in at least one
 * workspace (the handler checks further); `listed` as somewhere, and the
 * answer (an array) keeps only the items of apps the caller may view
 * (`listedApp` says an item's app; an item of no app stays only for a
 * caller holding the permission everywhere).
 */
export type RouteScope = 'global' | 'app' | 'job' | 'somewhere' | 'listed';

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** With :params. */
  path: string;
  summary: string;
  /**
   * What the caller needs: a permission, `signed-in` (any user or the
   * owner) or `anyone` (no credentials: signing in).
   */
  permission: Permission | 'signed-in' | 'anyone';
  scope?: RouteScope;
  /** For a `listed` route: an item's app (default: its `app` field). */
  listedApp?: (item: any) => string | null | undefined;
  request?: z.ZodType;
  /** The query parameters it takes (none when absent). */
  query?: z.ZodObject;
  response: z.ZodType;
  /**
   * A route that also takes a file as its raw body (an archive to deploy):
   * a request with one of these Content-Types is streamed to a temporary
   * file (removed once the handler ends) instead of read as JSON, its query
   * read with `query`; a body over `limit` bytes is refused with 413, a
   * Content-Type that is neither JSON nor one of these with 415.
   */
  upload?: UploadSpec;
  /**
   * A 200 answer that is not JSON: the handler returns a RawAnswer (a body in
   * memory: an e-mail's HTML) or a FileAnswer (a file streamed: a dump to
   * download), sent with this media type.
   */
  produces?: { type: string; description: string };
  handle: (context: ApiContext, params: Record<string, string>, body: unknown, query: any, upload?: Upload) => Promise<unknown> | unknown;
}

/**
 * An answer that is not JSON (a caught message's HTML, its source): the body
 * as it is, its Content-Type and the headers of its own (a Content-Security-Policy).
 */
export class RawAnswer {
  constructor(
    readonly body: Buffer | string,
    readonly type: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

export interface UploadSpec {
  /** The Content-Types taken (without parameters), lower case. */
  types: readonly string[];
  /** The largest body taken, in bytes. */
  limit: number;
  /** The query an upload takes (its own: a JSON request takes the route's). */
  query?: z.ZodObject;
  description: string;
  /** Refuses a request by what is known before its body (its path's parameters, its query), before the body is received: a PaasmakerError is the answer. */
  check?: (context: ApiContext, params: Record<string, string>, query: any) => Promise<void> | void;
}

/** A body a route took as a file: where it is, its Content-Type and its size. */
export interface Upload {
  file: string;
  type: string;
  size: number;
}

/** A file a route answers with (see Route.download): streamed from disk, never read whole; `done` learns whether it went out whole. */
export class FileAnswer {
  constructor(
    readonly file: string,
    /** The name to save it as (Content-Disposition). */
    readonly name: string,
    readonly done?: (whole: boolean) => void,
  ) {}
}

export function appRecord(context: Pick<ApiContext, 'platform'>, name: string): AppRow {
  const record = context.platform.state.apps.get(name);
  if (!record) throw new PaasmakerError('APP_NOT_FOUND', `no app named "${name}"`, { hint: 'GET /api/v1/apps lists them' });
  return { name: record.name, directory: record.directory, manifest: record.manifest, state: record.state, ...context.platform.appUrls(record.name), ownerPid: record.ownerPid, workspace: record.workspace ?? 'default', ...appTimes(record), ...context.platform.serving(record.name) };
}

/**
 * The answer of an action run as a job: its outcome when it ends within
 * waitSeconds, else the job still running (its end is a job.update event).
 * `run` calls `started` with the job's id once the job exists; an error
 * before that (nothing to run: refused, or failed before its job was made)
 * is the answer, thrown; one after it is the job's failure.
 */
export async function answerAsJob(run: (started: (job: string) => void) => Promise<{ ok: boolean; detail: string | null }>, waitSeconds = 10): Promise<JobRun> {
  let started: (job: string) => void = () => {};
  const job = new Promise<string>((resolve) => (started = resolve));
  let id: string | undefined;
  void job.then((value) => (id = value));
  // run may throw before its promise exists: that is an outcome too.
  const outcome = (async () => run(started))();
  // The outcome settling before the job started is the answer: its error, or a bug of run's (an outcome without a job).
  const early = outcome.then(
    async (ended) => {
      await Promise.resolve();
      // An action that reports its own failure as an outcome, before any job: the answer still says it, never waits forever.
      if (id === undefined) throw new Error(`the action ended before its job started: ${ended.detail ?? (ended.ok ? 'ok' : 'failed')}`);
      return id;
    },
    async (error: unknown) => {
      await Promise.resolve();
      if (id === undefined) throw error;
      return id;
    },
  );
  const known = await Promise.race([job, early]);
  const wait = new Promise<undefined>((resolve) => setTimeout(resolve, waitSeconds * 1000, undefined).unref());
  const ended = await Promise.race([outcome.catch((error: unknown) => ({ ok: false, detail: errorText(error) })), wait]);
  if (ended) return { job: known, state: ended.ok ? 'success' : 'failed', detail: ended.detail };
  outcome.catch(() => undefined); // it goes on; its end is a job.update event
  return { job: known, state: 'running', detail: null };
}
