import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseLogLine, tailLog } from '../shared/tail.js';
import { z } from 'zod';
import { appEnvironment, listProcesses, listTraffic, maskEnvironment, projectEnvironment, type Platform } from '../engine/index.js';
import { loadManifestAsync } from '../manifest/index.js';
import { ERRORS, PaasmakerError, type ErrorCode } from '../shared/errors.js';

/** What the daemon reports of itself. */
export const StatusSchema = z
  .object({
    pid: z.number().int(),
    socket: z.string(),
    proxyPort: z.number().int().nullable(),
    apiPort: z.number().int().nullable(),
    uptime: z.number().describe('seconds'),
    apps: z.array(z.string()),
    degraded: z
      .object({ reason: z.string(), since: z.number().describe('epoch ms') })
      .nullable()
      .describe('set while the disk is full: apps and routing go on, state and logs wait for room'),
  })
  .meta({ id: 'Status' });

export const AppSchema = z
  .object({
    name: z.string(),
    directory: z.string(),
    manifest: z.string(),
    state: z.string(),
    url: z.string().nullable(),
    ownerPid: z.number().int().nullable(),
  })
  .meta({ id: 'App' });

export const UnreadySchema = z
  .object({ process: z.string().describe('instance.index'), state: z.string(), reason: z.string().describe('e.g. "exited with code 3; restarting in 1s"'), lines: z.array(z.string()).describe('its last output lines') })
  .meta({ id: 'Unready' });

/** An app just started: up only when `unready` is empty. */
export const StartedAppSchema = AppSchema.extend({ unready: z.array(UnreadySchema).describe('routed processes that are not running') }).meta({ id: 'StartedApp' });

export const ProcessSchema = z
  .object({
    app: z.string(),
    instance: z.string(),
    index: z.number().int(),
    state: z.string(),
    pid: z.number().int().nullable(),
    port: z.number().int().nullable(),
    restarts: z.number().int(),
    uptime: z.number().nullable(),
    rps: z.number(),
  })
  .meta({ id: 'Process' });

export const ServiceSchema = z
  .object({ app: z.string(), service: z.string(), branch: z.string(), plugin: z.string(), symbolic: z.string(), resource: z.string(), createdAt: z.number() })
  .meta({ id: 'Service' });

export const TrafficSchema = z
  .object({
    app: z.string(),
    instance: z.string(),
    requests: z.number(),
    s2xx: z.number().nullable(),
    s3xx: z.number().nullable(),
    s4xx: z.number().nullable(),
    s5xx: z.number().nullable(),
    bytesIn: z.number().nullable(),
    bytesOut: z.number().nullable(),
    p50: z.number().nullable(),
    p99: z.number().nullable(),
    window: z.number(),
    rps: z.number(),
  })
  .meta({ id: 'Traffic' });

export const JobSchema = z
  .object({
    id: z.string(),
    parent: z.string().nullable(),
    root: z.string(),
    app: z.string(),
    title: z.string(),
    state: z.enum(['new', 'waiting', 'running', 'success', 'failed', 'aborted']),
    detail: z.string().nullable(),
    ownerPid: z.number().int().nullable(),
    ownerStart: z.string().nullable(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .meta({ id: 'Job' });

export const CronSchema = z
  .object({
    app: z.string(),
    name: z.string(),
    instance: z.string(),
    schedule: z.string().describe('five cron fields, or six with seconds'),
    target: z.string().describe('"GET /tasks/cleanup" or the command'),
    nextRun: z.number().nullable().describe('epoch ms'),
    lastStarted: z.number().nullable().describe('epoch ms'),
    lastFinished: z.number().nullable().describe('epoch ms'),
    lastResult: z.string().nullable().describe('"ok" or "failed"; null before the first run'),
    lastDetail: z.string().nullable(),
  })
  .meta({ id: 'Cron' });
export type CronRow = z.infer<typeof CronSchema>;

export const CronRunSchema = z
  .object({
    job: z.string().describe('the job running the cron: GET /api/v1/jobs/{id}, its progress on the event stream'),
    state: z.enum(['running', 'success', 'failed']).describe('running: it takes longer than the answer waits; job.update events tell the end'),
    detail: z.string().nullable().describe('its outcome once finished, e.g. "HTTP 200 in 3 ms" or "exit code 0"'),
  })
  .meta({ id: 'CronRun' });
export type CronRun = z.infer<typeof CronRunSchema>;
export const CronRunQuerySchema = z.strictObject({
  wait: z.coerce.number().min(0).max(60).optional().describe('seconds to wait for the outcome before answering with the job still running (default 10; 0 answers at once)'),
});

export const InstanceSchema = z
  .object({ app: z.string(), name: z.string(), runtime: z.string(), command: z.string().nullable(), quantity: z.number().int(), standalone: z.boolean() })
  .meta({ id: 'Instance' });

export const LogLineSchema = z
  .object({ source: z.string().describe('instance.index'), time: z.string(), stream: z.enum(['out', 'err', 'sys']), line: z.string() })
  .meta({ id: 'LogLine' });

export const ErrorSchema = z.object({ error: z.string(), code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]).describe('the HTTP status and the CLI\'s exit code follow from it; a client meets codes it does not know from a newer server'), hint: z.string().optional(), detail: z.string().optional() }).meta({ id: 'Error' });

export const UpRequestSchema = z
  .strictObject({
    directory: z.string().regex(/^\//, 'must be an absolute path').describe('absolute path of the project folder'),
    attached: z.boolean().optional().describe('held by a foreground client (an attach=1 event stream): not brought back after a daemon restart'),
    prepare: z.boolean().optional().describe('run the prepare steps even if nothing changed'),
    watch: z.boolean().optional().describe('reload on save (default true)'),
  })
  .meta({ id: 'UpRequest' });
export const ScaleRequestSchema = z.strictObject({ instance: z.string().min(1), quantity: z.number().int().min(0).max(64) }).meta({ id: 'ScaleRequest' });
/** Query parameters: every route declares its own (strict: an unknown name is refused, not ignored). */
export const NO_QUERY = z.strictObject({});
const appFilter = z.string().min(1).optional().describe('only this app');
export const AppQuerySchema = z.strictObject({ app: appFilter });
export const LogsQuerySchema = z.strictObject({ lines: z.coerce.number().int().min(1).max(5000).optional().describe('how many recent lines (default 100)') });
export const StatsQuerySchema = z.strictObject({ app: appFilter, window: z.coerce.number().int().min(1).max(86_400).optional().describe('seconds to count back (default 60)') });
export const EventsQuerySchema = z.strictObject({ app: appFilter, attach: z.enum(['0', '1']).optional().describe('1: the app stops when this stream closes') });

/** The named parameters of a query schema. */
export function queryFields(schema: z.ZodType): Record<string, z.ZodType> {
  return schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
}

/** An app's environment, variable name → value (as `paasmaker env --json` prints it). */
export const EnvironmentSchema = z.record(z.string(), z.string()).meta({ id: 'Environment' });
export const EnvQuerySchema = z.strictObject({
  instance: z.string().min(1).optional().describe('this instance type (default: the routed one, web, else the first)'),
  show_secrets: z.enum(['true', 'false']).optional().describe('true: passwords in clear; only over the Unix socket'),
});

export const RestartRequestSchema = z.strictObject({ instance: z.string().min(1).optional() }).meta({ id: 'RestartRequest' });

export const ProjectEnvironmentRequestSchema = z
  .strictObject({
    directory: z.string().regex(/^\//, 'must be an absolute path').describe('absolute path of the project folder'),
    instance: z.string().min(1).optional().describe('this instance type (default: web, else the first)'),
    command: z.boolean().optional().describe("also answer what a one-off command gets (paasmaker run): the runtime's PATH and variables"),
    service: z.string().optional().describe('also answer this service\'s shell (paasmaker db shell); "" for the first'),
  })
  .meta({ id: 'ProjectEnvironmentRequest' });
export const ProjectEnvironmentSchema = z
  .object({
    app: z.string(),
    directory: z.string(),
    environment: EnvironmentSchema.describe('as paasmaker env shows it, secrets in clear'),
    command: EnvironmentSchema.nullable().describe("what a one-off command gets beyond the caller's own environment; null unless asked"),
    shell: z.object({ command: z.string(), args: z.array(z.string()), env: z.record(z.string(), z.string()) }).nullable().describe("the service's shell with its credentials; null unless asked"),
  })
  .meta({ id: 'ProjectEnvironment' });

/** Everything a handler may use. */
export interface ApiContext {
  platform: Platform;
  /** The daemon's status, when the server is the daemon's. */
  status: () => Omit<z.infer<typeof StatusSchema>, 'degraded'>;
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

function appRecord(context: ApiContext, name: string) {
  const record = context.platform.state.apps.get(name);
  if (!record) throw new PaasmakerError('APP_NOT_FOUND', `no app named "${name}"`, { hint: 'GET /api/v1/apps lists them' });
  return { name: record.name, directory: record.directory, manifest: record.manifest, state: record.state, url: context.platform.appUrl(record.name) ?? null, ownerPid: record.ownerPid };
}

/** The API, one table: the server dispatches it and the OpenAPI document is generated from it. */
export const ROUTES: Route[] = [
  { method: 'GET', path: '/api/v1/status', summary: 'The daemon: pid, socket, ports, uptime, apps', response: StatusSchema, handle: (context) => ({ ...context.status(), degraded: context.platform.degraded ?? null }) },
  {
    method: 'GET',
    path: '/api/v1/apps',
    summary: 'Every app the platform has run, with its state',
    response: z.array(AppSchema),
    handle: (context) => context.platform.state.apps.list().map((record) => appRecord(context, record.name)),
  },
  {
    method: 'POST',
    path: '/api/v1/apps',
    summary: 'Run the project in a folder (paasmaker up -d): provision, prepare, start; answers once each process has settled, with the routed ones that are not running',
    request: UpRequestSchema,
    response: StartedAppSchema,
    handle: async (context, _params, body) => {
      const { directory, attached, prepare, watch } = body as z.infer<typeof UpRequestSchema>;
      const manifest = await loadManifestAsync(resolve(directory));
      await context.platform.apply(manifest, { forcePrepare: prepare });
      context.platform.state.apps.setDaemon(manifest.application.name, !attached);
      const unready = context.platform.unready(manifest.application.name);
      if (watch !== false) await context.platform.watch(manifest.application.name);
      return { ...appRecord(context, manifest.application.name), unready };
    },
  },
  { method: 'GET', path: '/api/v1/apps/:app', summary: 'One app', response: AppSchema, handle: (context, params) => appRecord(context, params.app!) },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/down',
    summary: 'Stop an app',
    response: AppSchema,
    handle: async (context, params) => {
      context.platform.state.apps.setDaemon(params.app!, false);
      await context.platform.down(params.app!);
      return appRecord(context, params.app!);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/restart',
    summary: 'Rolling restart of an app (or one instance type)',
    request: RestartRequestSchema,
    response: z.object({ ok: z.boolean() }),
    handle: async (context, params, body) => {
      const { instance } = body as z.infer<typeof RestartRequestSchema>;
      appRecord(context, params.app!);
      return { ok: await context.platform.restart(params.app!, instance) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/scale',
    summary: 'Change how many processes an instance type runs',
    request: ScaleRequestSchema,
    response: z.object({ from: z.number().int(), to: z.number().int() }),
    handle: (context, params, body) => {
      const { instance, quantity } = body as z.infer<typeof ScaleRequestSchema>;
      return context.platform.scale(params.app!, instance, quantity);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/apps/:app/instances',
    summary: "An app's instance types: runtime, command, quantity",
    response: z.array(InstanceSchema),
    handle: (context, params) => {
      appRecord(context, params.app!);
      return context.platform.state.instances.list(params.app!).map((record) => ({ ...record, standalone: Boolean(record.standalone) }));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/apps/:app/env',
    summary: "The environment the app's instances get (the routed instance type's, or ?instance=), secrets masked; ?show_secrets=true reveals them, over the Unix socket only",
    query: EnvQuerySchema,
    response: EnvironmentSchema,
    handle: async (context, params, _body, query: z.infer<typeof EnvQuerySchema>) => {
      const record = appRecord(context, params.app!);
      const reveal = query.show_secrets === 'true';
      if (reveal && context.transport !== 'socket') {
        throw new PaasmakerError('FORBIDDEN', 'secrets are shown over the Unix socket only', { hint: 'ask without ?show_secrets=true for the masked environment, or run paasmaker env --show-secrets on this machine' });
      }
      // A running app's as its instances got it; an app that is not running has its services provisioned now.
      const running = context.platform.runningEnvironment(record.name);
      const manifest = running?.manifest ?? (await loadManifestAsync(record.directory));
      const env = appEnvironment(manifest, running?.services ?? (await context.platform.provisionServices(manifest)), query.instance);
      return reveal ? env : maskEnvironment(env);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/apps/:app/logs',
    summary: "The app's recent output, every process merged in time order; ?lines= (default 100)",
    query: LogsQuerySchema,
    response: z.array(LogLineSchema),
    handle: (context, params, _body, query: z.infer<typeof LogsQuerySchema>) => {
      const record = appRecord(context, params.app!);
      const lines = query.lines ?? 100;
      const dir = join(context.platform.layout.logs, record.name);
      const files = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.log')) : [];
      const merged = files.flatMap((name) =>
        tailLog(join(dir, name), lines).map((raw) => {
          const { time, stream, text } = parseLogLine(raw);
          return { source: name.replace(/\.log$/, ''), time, stream, line: text };
        }),
      );
      return merged.sort((a, b) => a.time.localeCompare(b.time)).slice(-lines);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/processes',
    summary: 'Every process slot (as paasmaker ps); ?app= filters',
    query: AppQuerySchema,
    response: z.array(ProcessSchema),
    handle: (context, _params, _body, query: z.infer<typeof AppQuerySchema>) => listProcesses(context.platform.state, { app: query.app, selfPid: process.pid }),
  },
  {
    method: 'GET',
    path: '/api/v1/services',
    summary: 'Provisioned services',
    query: AppQuerySchema,
    response: z.array(ServiceSchema),
    handle: (context, _params, _body, query: z.infer<typeof AppQuerySchema>) => context.platform.services.list(query.app),
  },
  {
    method: 'GET',
    path: '/api/v1/stats',
    summary: 'Router traffic per app instance type; ?app= and ?window= (seconds)',
    query: StatsQuerySchema,
    response: z.array(TrafficSchema),
    handle: (context, _params, _body, query: z.infer<typeof StatsQuerySchema>) => listTraffic(context.platform.state, { app: query.app, windowSeconds: query.window ?? 60 }),
  },
  {
    method: 'GET',
    path: '/api/v1/crons',
    summary: "Every cron of the apps that ran (as paasmaker cron list): schedule, what it runs, next run, last outcome; ?app= filters",
    query: AppQuerySchema,
    response: z.array(CronSchema),
    handle: (context, _params, _body, query: z.infer<typeof AppQuerySchema>) => context.platform.state.crons.list(query.app),
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/crons/:name/run',
    summary: "Run one of the app's crons now, as a job: answers with the outcome when it ends within ?wait= seconds (default 10), else with the job still running",
    query: CronRunQuerySchema,
    response: CronRunSchema,
    handle: async (context, params, _body, query: z.infer<typeof CronRunQuerySchema>) => {
      const record = appRecord(context, params.app!);
      const manifest = context.platform.runningApps().find((candidate) => candidate.application.name === record.name) ?? (await loadManifestAsync(record.directory));
      let started: (id: string) => void = () => {};
      const job = new Promise<string>((resolve) => (started = resolve));
      const outcome = context.platform.runCron(manifest, params.name!, started);
      const wait = new Promise<undefined>((resolve) => setTimeout(resolve, (query.wait ?? 10) * 1000, undefined).unref());
      const ended = await Promise.race([outcome, job.then(() => wait)]);
      if (ended) return { job: ended.job, state: ended.ok ? 'success' : 'failed', detail: ended.detail };
      outcome.catch(() => undefined); // it goes on; its end is a job.update event
      return { job: await job, state: 'running', detail: null };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/jobs',
    summary: 'The latest root jobs, newest first; ?app= filters',
    query: AppQuerySchema,
    response: z.array(JobSchema),
    handle: (context, _params, _body, query: z.infer<typeof AppQuerySchema>) => context.platform.state.jobs.roots({ app: query.app }),
  },
  {
    method: 'GET',
    path: '/api/v1/jobs/:id',
    summary: 'A job and its whole tree, in order',
    response: z.array(JobSchema),
    handle: (context, params) => {
      const job = context.platform.state.jobs.get(params.id!);
      if (!job) throw new PaasmakerError('JOB_NOT_FOUND', `no job ${params.id}`, { hint: 'GET /api/v1/jobs lists them' });
      return context.platform.state.jobs.tree(job.root);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/jobs/:id/abort',
    summary: 'Abort a running job and its running steps',
    response: z.object({ aborted: z.boolean() }),
    handle: (context, params) => ({ aborted: context.platform.jobs.abort(params.id!, 'aborted by request') }),
  },
  {
    method: 'POST',
    path: '/api/v1/daemon/stop',
    summary: 'Stop the daemon and everything it runs',
    response: z.object({ stopping: z.boolean() }),
    handle: (context) => {
      setImmediate(() => context.shutdown());
      return { stopping: true };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/environment',
    summary: "A project's environment, its services provisioned first (paasmaker env, run and db shell of a project this platform does not run); over the Unix socket only: the answer holds secrets",
    request: ProjectEnvironmentRequestSchema,
    response: ProjectEnvironmentSchema,
    handle: async (context, _params, body) => {
      if (context.transport !== 'socket') throw new PaasmakerError('FORBIDDEN', 'a project\'s environment holds secrets: it is answered over the Unix socket only', { hint: 'GET /api/v1/apps/{app}/env answers the masked environment of an app' });
      const { directory, instance, command, service } = body as z.infer<typeof ProjectEnvironmentRequestSchema>;
      return projectEnvironment(context.platform, await loadManifestAsync(resolve(directory)), { instance, command, service });
    },
  },
];
