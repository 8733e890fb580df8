import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseLogLine, tailLog } from '../shared/tail.js';
import { z } from 'zod';
import { appEnvironment, listTraffic, maskEnvironment, projectEnvironment, usageOf } from '../engine/index.js';
import { loadChosenManifest, loadManifestAsync } from '../manifest/index.js';
import { PaasmakerError } from '../shared/errors.js';
import {
  AbortResultSchema,
  AppSchema,
  CronSchema,
  EnvironmentSchema,
  InstanceSchema,
  JobLogLineSchema,
  JobRunSchema,
  JobSchema,
  LogLineSchema,
  ProcessSchema,
  ProjectEnvironmentSchema,
  RestartResultSchema,
  ScaleResultSchema,
  StartedAppSchema,
  StatusSchema,
  StopResultSchema,
  TrafficSchema,
} from '../shared/views.js';
import { MACHINE_ROUTES } from './machine-routes.js';
import { PLUGIN_ROUTES } from './plugin-routes.js';
import { PROCESS_ROUTES } from './process-routes.js';
import { REQUEST_LOG_ROUTES } from './request-log-routes.js';
import { MAIL_ROUTES } from './mail-routes.js';
import { DownRequestSchema, AppQuerySchema, EnvQuerySchema, LogsQuerySchema, ProcessesQuerySchema, ProjectEnvironmentRequestSchema, RestartRequestSchema, ScaleRequestSchema, StatsQuerySchema, UpRequestSchema, WaitQuerySchema } from './requests.js';
import { answerAsJob, appRecord, type ApiContext, type Route } from './route.js';
import { SERVICE_ROUTES } from './service-routes.js';
import { SESSION_ROUTES } from './session-routes.js';
import { ROLE_ROUTES } from './role-routes.js';
import { USER_ROUTES } from './user-routes.js';
import { WORKSPACE_ROUTES } from './workspace-routes.js';
import type { AppRow } from '../shared/views.js';
import { WARNING_ROUTES } from './warning-routes.js';
import { requireMayRun } from './may-run.js';
import { VERSION_ROUTES } from './version-routes.js';
import { DATA_ROUTES } from './data-routes.js';
import { MANIFEST_ROUTES } from './manifest-routes.js';


/** The API, one table: the server dispatches it and the OpenAPI document is generated from it. */
export const ROUTES: Route[] = [
  { method: 'GET', path: '/api/v1/status', permission: 'SYSTEM_OVERVIEW', scope: 'somewhere', summary: 'The daemon: pid, socket, ports, uptime, apps', response: StatusSchema, handle: (context) => { const status = context.status(); return { ...status, apps: status.apps.filter(context.mayView), degraded: context.platform.degraded ?? null }; } },
  {
    method: 'GET',
    path: '/api/v1/apps',
    permission: 'WORKSPACE_VIEW',
    scope: 'listed',
    listedApp: (app: AppRow) => app.name,
    summary: 'Every app the platform has run, with its state',
    response: z.array(AppSchema),
    handle: (context) => context.platform.state.apps.list().map((record) => appRecord(context, record.name)),
  },
  {
    method: 'POST',
    path: '/api/v1/apps',
    permission: 'APPLICATION_CREATE',
    scope: 'somewhere',
    summary: 'Run the project in a folder (paasmaker up -d): provision, prepare, start; answers once each process has settled, with the routed ones that are not running',
    request: UpRequestSchema,
    response: StartedAppSchema,
    handle: async (context, _params, body) => {
      const { directory, attached, prepare, watch, offline, file, instances = [] } = body as z.infer<typeof UpRequestSchema>;
      // The foreground's choice, made the same way: the folder is the first word, the instance types the rest.
      const { manifest } = await loadChosenManifest([resolve(directory), ...instances], file === undefined ? undefined : { path: file, from: `file ${file}` });
      requireMayRun(context, manifest.application.name, manifest.application.workspace);
      await context.platform.apply(manifest, { forcePrepare: prepare, restore: !attached, offline });
      const unready = context.platform.unready(manifest.application.name);
      if (watch !== false) await context.platform.watch(manifest.application.name);
      return { ...appRecord(context, manifest.application.name), unready };
    },
  },
  { method: 'GET', path: '/api/v1/apps/:app', permission: 'WORKSPACE_VIEW', scope: 'app', summary: 'One app', response: AppSchema, handle: (context, params) => appRecord(context, params.app!) },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/down',
    permission: 'APPLICATION_DEPLOY',
    scope: 'app',
    summary: 'Stop an app: every process of it, its deployed versions included (the daemon does not bring it back); with {dev: true}, only a development up of it',
    request: DownRequestSchema,
    response: AppSchema,
    handle: async (context, params, body) => {
      const { dev } = body as z.infer<typeof DownRequestSchema>;
      context.platform.data.refuseWhileRestoring(params.app!);
      if (dev) await context.platform.stopDev(params.app!);
      else await context.platform.down(params.app!);
      return appRecord(context, params.app!);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/restart',
    permission: 'APPLICATION_DEPLOY',
    scope: 'app',
    summary: 'Rolling restart of an app (or one instance type)',
    request: RestartRequestSchema,
    response: RestartResultSchema,
    handle: async (context, params, body) => {
      const { instance } = body as z.infer<typeof RestartRequestSchema>;
      appRecord(context, params.app!);
      context.platform.data.refuseWhileRestoring(params.app!);
      return { ok: await context.platform.restart(params.app!, instance) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/scale',
    permission: 'APPLICATION_DEPLOY',
    scope: 'app',
    summary: 'Change how many processes an instance type runs',
    request: ScaleRequestSchema,
    response: ScaleResultSchema,
    handle: (context, params, body) => {
      const { instance, quantity } = body as z.infer<typeof ScaleRequestSchema>;
      context.platform.data.refuseWhileRestoring(params.app!);
      return context.platform.scale(params.app!, instance, quantity);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/apps/:app/instances',
    permission: 'WORKSPACE_VIEW',
    scope: 'app',
    summary: "An app's instance types: runtime, command, quantity",
    response: z.array(InstanceSchema),
    handle: (context, params) => {
      appRecord(context, params.app!);
      const processes = context.platform.processes(params.app);
      return context.platform.state.instances.list(params.app!).map((record) => ({ ...record, standalone: Boolean(record.standalone), ...usageOf(processes.filter((row) => row.instance === record.name)) }));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/apps/:app/env',
    permission: 'APPLICATION_VIEW_MANIFEST',
    scope: 'app',
    summary: "The environment the app's instances get (the routed instance type's, or ?instance=), secrets masked; ?show_secrets=true reveals them to a caller holding SERVICE_CREDENTIAL_VIEW in the app's workspace (anyone else gets them masked)",
    query: EnvQuerySchema,
    response: EnvironmentSchema,
    handle: async (context, params, _body, query: z.infer<typeof EnvQuerySchema>) => {
      const record = appRecord(context, params.app!);
      // Only a caller who may see credentials in the app's workspace gets them; anyone else, the masked environment.
      const reveal = query.show_secrets === 'true' && context.access.can('SERVICE_CREDENTIAL_VIEW', record.workspace);
      // A running app's as its instances got it; an app that is not running has its services provisioned now.
      const running = context.platform.runningEnvironment(record.name);
      const manifest = running?.manifest ?? (await context.platform.manifestOf(record.name));
      const env = appEnvironment(manifest, running?.services ?? (await context.platform.provisionServices(manifest)), query.instance);
      return reveal ? env : maskEnvironment(env);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/apps/:app/logs',
    permission: 'WORKSPACE_VIEW',
    scope: 'app',
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
    permission: 'WORKSPACE_VIEW',
    scope: 'listed',
    summary: 'Every process slot (as paasmaker ps -a: a stopped app until a week after it stopped); ?app= filters, ?running=true keeps the apps that run',
    query: ProcessesQuerySchema,
    response: z.array(ProcessSchema),
    handle: (context, _params, _body, query: z.infer<typeof ProcessesQuerySchema>) => context.platform.processes(query.app, { running: query.running === 'true' }),
  },
  ...MANIFEST_ROUTES,
  ...PROCESS_ROUTES,
  ...REQUEST_LOG_ROUTES,
  ...MAIL_ROUTES,
  ...SERVICE_ROUTES,
  ...MACHINE_ROUTES,
  ...PLUGIN_ROUTES,
  ...SESSION_ROUTES,
  ...USER_ROUTES,
  ...ROLE_ROUTES,
  ...WORKSPACE_ROUTES,
  ...WARNING_ROUTES,
  ...VERSION_ROUTES,
  ...DATA_ROUTES,
  {
    method: 'GET',
    path: '/api/v1/stats',
    permission: 'WORKSPACE_VIEW',
    scope: 'listed',
    summary: 'Router traffic per app instance type; ?app= and ?window= (seconds)',
    query: StatsQuerySchema,
    response: z.array(TrafficSchema),
    handle: (context, _params, _body, query: z.infer<typeof StatsQuerySchema>) => listTraffic(context.platform.state, { app: query.app, windowSeconds: query.window ?? 60 }),
  },
  {
    method: 'GET',
    path: '/api/v1/crons',
    permission: 'WORKSPACE_VIEW',
    scope: 'listed',
    summary: "Every cron of the apps that ran (as paasmaker cron list): schedule, what it runs, next run, last outcome; ?app= filters",
    query: AppQuerySchema,
    response: z.array(CronSchema),
    handle: (context, _params, _body, query: z.infer<typeof AppQuerySchema>) => context.platform.state.crons.list(query.app),
  },
  {
    method: 'POST',
    path: '/api/v1/apps/:app/crons/:name/run',
    permission: 'APPLICATION_DEPLOY',
    scope: 'app',
    summary: "Run one of the app's crons now, as a job: answers with the outcome when it ends within ?wait= seconds (default 10), else with the job still running",
    query: WaitQuerySchema,
    response: JobRunSchema,
    handle: async (context, params, _body, query: z.infer<typeof WaitQuerySchema>) => {
      const record = appRecord(context, params.app!);
      const manifest = await context.platform.manifestOf(record.name);
      return answerAsJob((started) => context.platform.runCron(manifest, params.name!, started), query.wait);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/jobs',
    permission: 'WORKSPACE_VIEW',
    scope: 'listed',
    summary: 'The latest root jobs, newest first; ?app= filters',
    query: AppQuerySchema,
    response: z.array(JobSchema),
    handle: (context, _params, _body, query: z.infer<typeof AppQuerySchema>) => context.platform.state.jobs.roots({ app: query.app }),
  },
  {
    method: 'GET',
    path: '/api/v1/jobs/:id',
    permission: 'WORKSPACE_VIEW',
    scope: 'job',
    summary: 'A job and its whole tree, in order',
    response: z.array(JobSchema),
    handle: (context, params) => {
      const job = context.platform.state.jobs.get(params.id!);
      if (!job) throw new PaasmakerError('JOB_NOT_FOUND', `no job ${params.id}`, { hint: 'GET /api/v1/jobs lists them' });
      return context.platform.state.jobs.tree(job.root);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/jobs/:id/log',
    permission: 'WORKSPACE_VIEW',
    scope: 'job',
    summary: "A job's own log (not its steps': each has its own), oldest line first",
    response: z.array(JobLogLineSchema),
    handle: (context, params) => {
      if (!context.platform.state.jobs.get(params.id!)) throw new PaasmakerError('JOB_NOT_FOUND', `no job ${params.id}`, { hint: 'GET /api/v1/jobs lists them' });
      return context.platform.jobs.logLines(params.id!);
    },
  },
  {
    method: 'POST',
    path: '/api/v1/jobs/:id/abort',
    permission: 'JOB_ABORT',
    scope: 'job',
    summary: 'Abort a running job and its running steps',
    response: AbortResultSchema,
    handle: (context, params) => ({ aborted: context.platform.jobs.abort(params.id!, 'aborted by request') }),
  },
  {
    method: 'POST',
    path: '/api/v1/daemon/stop',
    permission: 'SYSTEM_ADMINISTRATION',
    summary: 'Stop the daemon and everything it runs',
    response: StopResultSchema,
    handle: (context) => {
      setImmediate(() => context.shutdown());
      return { stopping: true };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/environment',
    permission: 'SERVICE_CREDENTIAL_VIEW',
    summary: "A project's environment, its services provisioned first (paasmaker env, run and db shell of a project this platform does not run); over the Unix socket only: the answer holds secrets",
    request: ProjectEnvironmentRequestSchema,
    response: ProjectEnvironmentSchema,
    handle: async (context, _params, body) => {
      if (context.caller.kind !== 'owner') throw new PaasmakerError('FORBIDDEN', 'a project\'s environment holds secrets: it is answered over the Unix socket only, to its owner', { hint: 'GET /api/v1/apps/{app}/env answers the masked environment of an app' });
      const { directory, instance, command, service } = body as z.infer<typeof ProjectEnvironmentRequestSchema>;
      return projectEnvironment(context.platform, await loadManifestAsync(resolve(directory)), { instance, command, service });
    },
  },
];
