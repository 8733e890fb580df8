import { z } from 'zod';
import { ERRORS, type ErrorCode } from './errors.js';

/**
 * What the platform shows of itself, declared once: the API answers these
 * (and its OpenAPI document is made from them), the CLI prints them with
 * --json and the UI reads them. Each row type is z.infer of its schema.
 * They live in src/shared because the engine builds some of these rows and
 * must not import the API.
 */

/** What the daemon reports of itself. */
export const StatusSchema = z
  .object({
    pid: z.number().int(),
    socket: z.string(),
    proxyPort: z.number().int().nullable(),
    tlsPort: z.number().int().nullable().describe("the router's https port on loopback; null when it listens without TLS"),
    apiPort: z.number().int().nullable(),
    dnsPort: z.number().int().nullable().describe("the DNS responder's UDP port on 127.0.0.1; null when it runs none"),
    uptime: z.number().describe('seconds'),
    apps: z.array(z.string()),
    degraded: z
      .object({ reason: z.string(), since: z.number().describe('epoch ms') })
      .nullable()
      .describe('set while the disk is full: apps and routing go on, state and logs wait for room'),
  })
  .meta({ id: 'Status' });
export type Status = z.infer<typeof StatusSchema>;

export const AppSchema = z
  .object({
    name: z.string(),
    directory: z.string(),
    manifest: z.string(),
    state: z.string(),
    url: z.string().nullable().describe("where a browser reaches its routed instance type through the router, over plain HTTP: http://APP.localhost:PORT/; null without a router"),
    httpsUrl: z.string().nullable().describe("the same over TLS, https://APP.localhost:TLS_PORT/, while the router listens with TLS; else null"),
    ownerPid: z.number().int().nullable(),
    workspace: z.string().describe('the workspace it belongs to (default "default")'),
    deployedAt: z.string().nullable().describe('ISO time of the last up (or apply) that started it; null before the first'),
    reloadedAt: z.string().nullable().describe('ISO time of its last restart or reload (on save, on a changed .env); null if never'),
    version: z.number().int().nullable().describe('its current deployed version (paasmaker deploy); null when it has none'),
    servedBy: z.enum(['dev', 'version']).nullable().describe('what answers on APP.localhost: a development `up` of its folder, or the current version; null when neither runs'),
  })
  .meta({ id: 'App' });
export type AppRow = z.infer<typeof AppSchema>;

export const UnreadySchema = z
  .object({ process: z.string().describe('instance.index'), state: z.string(), reason: z.string().describe('e.g. "exited with code 3; restarting in 1s"'), lines: z.array(z.string()).describe('its last output lines'), hint: z.string().optional().describe('the likely fix, when its runtime knows one ("Cannot find module" → install it)') })
  .meta({ id: 'Unready' });

/** An app just started: up only when `unready` is empty. */
export const StartedAppSchema = AppSchema.extend({ unready: z.array(UnreadySchema).describe('routed processes that are not running') }).meta({ id: 'StartedApp' });
export type StartedApp = z.infer<typeof StartedAppSchema>;

export const ProcessSchema = z
  .object({
    app: z.string(),
    instance: z.string(),
    index: z.number().int(),
    state: z.string(),
    pid: z.number().int().nullable(),
    port: z.number().int().nullable(),
    restarts: z.number().int(),
    exitCode: z.number().int().nullable().describe('the exit code of its last run that ended by itself; null when none did, or a signal ended it'),
    uptime: z.number().nullable().describe('seconds since the process became running; null when it is not'),
    rps: z.number().describe('requests per second through the router to this instance type, over the last 5 s'),
    cpu: z.number().nullable().describe('percent of one core used by its process group over the last ~2 s, one decimal; null when not running, not sampled yet, or where /proc is absent'),
    memory: z.number().int().nullable().describe('resident memory of its process group, bytes; null when not running or unknown'),
    url: z.string().nullable().describe("where a browser reaches its instance type through the router, http://APP.localhost:PORT/ (another routed type: TYPE.APP.localhost); null for a standalone type, an app not running, or no router"),
    httpsUrl: z.string().nullable().describe('the same over TLS (https://…:TLS_PORT/) while the router listens with TLS; else null'),
  })
  .meta({ id: 'Process' });
/** A process slot as a listing shows it: flat, stable field names. */
export type ProcessRow = z.infer<typeof ProcessSchema>;

/** A managed database server, or a provisioned service, as `paasmaker services --json` prints it. */
export const ServiceSchema = z
  .object({
    kind: z.enum(['server', 'service']),
    name: z.string().describe('the server\'s plugin, or "app/service"'),
    app: z.string().nullable(),
    service: z.string().nullable(),
    branch: z.string().nullable().describe('the git branch of a database per branch'),
    plugin: z.string(),
    symbolic: z.string().nullable().describe('the name the manifest asked for (postgres, pg-shared, …)'),
    state: z.string().describe('a server: running, restarting, stopped or external; a service: provisioned'),
    version: z.string().nullable().describe('a server\'s, e.g. "PostgreSQL 15"'),
    port: z.number().int().nullable(),
    pid: z.number().int().nullable(),
    size: z.number().nullable().describe('bytes of a server\'s data folder'),
    resource: z.string().nullable().describe('a server\'s data folder; a service\'s database or file'),
    checkout: z.string().nullable().optional().describe('the git work tree a database per branch was made for (services prune drops it once that folder is gone)'),
  })
  .meta({ id: 'Service' });
export type ServiceRow = z.infer<typeof ServiceSchema>;

export const TrafficSchema = z
  .object({
    app: z.string(),
    instance: z.string(),
    requests: z.number(),
    s2xx: z.number(),
    s3xx: z.number(),
    s4xx: z.number(),
    s5xx: z.number(),
    bytesIn: z.number(),
    bytesOut: z.number(),
    p50: z.number().nullable(),
    p99: z.number().nullable(),
    window: z.number(),
    rps: z.number(),
  })
  .meta({ id: 'Traffic' });
/** Router traffic of an app instance type over a window, flat for --json. */
export type TrafficRow = z.infer<typeof TrafficSchema>;

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
export type JobRow = z.infer<typeof JobSchema>;

/** A line of one job's own log. */
export const JobLogLineSchema = z.object({ time: z.string(), stream: z.enum(['out', 'err', 'sys']), line: z.string() }).meta({ id: 'JobLogLine' });
export type JobLogLine = z.infer<typeof JobLogLineSchema>;

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

/** The answer of an action run as a job (a cron run now, a service destroyed). */
export const JobRunSchema = z
  .object({
    job: z.string().describe('the job doing it: GET /api/v1/jobs/{id}, its progress on the event stream'),
    state: z.enum(['running', 'success', 'failed']).describe('running: it takes longer than the answer waits; job.update events tell the end'),
    detail: z.string().nullable().describe('its outcome once finished, e.g. "HTTP 200 in 3 ms" or "exit code 0"'),
  })
  .meta({ id: 'JobRun' });
export type JobRun = z.infer<typeof JobRunSchema>;

export const InstanceSchema = z
  .object({
    app: z.string(),
    name: z.string(),
    runtime: z.string(),
    command: z.string().nullable(),
    quantity: z.number().int(),
    standalone: z.boolean(),
    cpu: z.number().nullable().describe('percent of one core, summed over its running processes (each as GET /api/v1/processes gives it); null when none is sampled'),
    memory: z.number().int().nullable().describe('resident memory summed over its running processes, bytes; null when unknown'),
  })
  .meta({ id: 'Instance' });
export type InstanceRow = z.infer<typeof InstanceSchema>;

export const LogLineSchema = z
  .object({ source: z.string().describe('instance.index'), time: z.string(), stream: z.enum(['out', 'err', 'sys']), line: z.string() })
  .meta({ id: 'LogLine' });
export type LogLineRow = z.infer<typeof LogLineSchema>;

/** An app's environment, variable name → value (as `paasmaker env --json` prints it). */
export const EnvironmentSchema = z.record(z.string(), z.string()).meta({ id: 'Environment' });

/** A project's environment as a platform that does not run it answers it (paasmaker env, run and db shell). */
export const ProjectEnvironmentSchema = z
  .object({
    app: z.string(),
    directory: z.string(),
    environment: EnvironmentSchema.describe('as paasmaker env shows it, secrets in clear'),
    command: EnvironmentSchema.nullable().describe("what a one-off command gets beyond the caller's own environment; null unless asked"),
    shell: z.object({ command: z.string(), args: z.array(z.string()), env: z.record(z.string(), z.string()) }).nullable().describe("the service's shell with its credentials; null unless asked"),
  })
  .meta({ id: 'ProjectEnvironment' });
export type ProjectEnvironmentRow = z.infer<typeof ProjectEnvironmentSchema>;

/** One check of `paasmaker doctor`. */
export const DoctorCheckSchema = z
  .object({
    name: z.string().describe('what is checked: daemon, state, disk, degraded, router, tls, tls-root, trust, localhost, dns-responder, dns-zone, runtime, database'),
    ok: z.boolean(),
    what: z.string().describe('what was found'),
    fix: z.string().nullable().describe('what to do when it is not ok; on a passing check, an optional step (installing a database server no project uses yet)'),
  })
  .meta({ id: 'DoctorCheck' });
export type DoctorCheck = z.infer<typeof DoctorCheckSchema>;

/** A runtime: the versions installed on this machine, and what each running instance resolved to. */
export const RuntimeSchema = z
  .object({
    name: z.string(),
    installed: z.array(
      z.object({
        version: z.string(),
        source: z.string().describe('PATH, nvm, fnm, volta, pyenv, …, or paasmaker: installed by Paasmaker under PAASMAKER_HOME/runtimes'),
        binDir: z.string(),
        usedBy: z.array(z.string()).describe('the running instances on this version ("shop/web")'),
      }),
    ),
    instances: z
      .array(z.object({ app: z.string(), instance: z.string(), version: z.string().nullable(), description: z.string().describe('e.g. "node v20.11.1 (/usr/bin/node)"') }))
      .describe('running instances of this runtime and the version each resolved to'),
  })
  .meta({ id: 'Runtime' });
export type RuntimeRow = z.infer<typeof RuntimeSchema>;

/** A plugin: Paasmaker's own (built-in) or one config.yml lists, what it provides, and whether it loaded. */
export const PluginSchema = z
  .object({
    name: z.string(),
    origin: z.string().describe('"built-in", "package NAME@VERSION" or "path PATH" (as config.yml says it)'),
    version: z.string().nullable(),
    runtimes: z.array(z.string()).describe('runtime names it adds (manifests say runtime: NAME)'),
    services: z.array(z.string()).describe('service plugin names it adds (config.yml and manifests say plugin: NAME)'),
    state: z.enum(['loaded', 'failed']),
    error: z.string().nullable().describe('why it failed, positioned in config.yml (config.yml:LINE:COL: …)'),
    hint: z.string().nullable(),
  })
  .meta({ id: 'Plugin' });
export type PluginRow = z.infer<typeof PluginSchema>;

/** A runtime version Paasmaker removed. */
export const RuntimeRemovedSchema = z
  .object({ runtime: z.string(), version: z.string(), folder: z.string().describe('the folder deleted') })
  .meta({ id: 'RuntimeRemoved' });
export type RuntimeRemoved = z.infer<typeof RuntimeRemovedSchema>;

/** Something the platform could not do as asked (the DNS port taken, a router error, an app not restored), newest last. */
export const WarningSchema = z
  .object({
    time: z.string().describe('ISO time it was raised'),
    text: z.string(),
    app: z.string().nullable().describe('the app it concerns; null for the platform'),
  })
  .meta({ id: 'Warning' });
export type WarningRow = z.infer<typeof WarningSchema>;

export const ScaleResultSchema = z.object({ from: z.number().int(), to: z.number().int() }).meta({ id: 'ScaleResult' });
export type ScaleResult = z.infer<typeof ScaleResultSchema>;
export const RestartResultSchema = z.object({ ok: z.boolean() }).meta({ id: 'RestartResult' });
export type RestartResult = z.infer<typeof RestartResultSchema>;
export const AbortResultSchema = z.object({ aborted: z.boolean() }).meta({ id: 'AbortResult' });
export const StopResultSchema = z.object({ stopping: z.boolean() }).meta({ id: 'StopResult' });

export const ErrorSchema = z
  .object({
    error: z.string(),
    code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]).describe("the HTTP status and the CLI's exit code follow from it; a client meets codes it does not know from a newer server"),
    hint: z.string().optional(),
    detail: z.string().optional(),
  })
  .meta({ id: 'Error' });

/** One request through the router, as the request inspector kept it: credentials in headers redacted, no body. */
export const RequestRecordSchema = z
  .object({
    id: z.number().int().describe('increases with every request the router records: ?since= resumes after it'),
    time: z.string().describe('when the request head arrived, ISO (UTC, ms)'),
    app: z.string(),
    instance: z.string().describe('the instance type the hostname leads to'),
    upstream: z.string().nullable().describe('the process that answered, or the last one tried ("web.0"); null when none was'),
    method: z.string(),
    path: z.string().describe('path and query, as the app got them'),
    status: z.number().int().nullable().describe('what the client got; null when it got no answer'),
    durationMs: z.number(),
    bytesIn: z.number().int().describe('request body bytes'),
    bytesOut: z.number().int().describe('response body bytes'),
    client: z.string().describe("the client's address"),
    answeredBy: z.enum(['app', 'router', 'none']).describe('router: an error page of its own (502, 503, 504, 408); none: the client left or a connection broke'),
    error: z.string().nullable().describe('why the app did not answer (or the answer broke)'),
    requestHeaders: z.array(z.tuple([z.string(), z.string()])).describe('[name, value] as the client sent them; Cookie, Authorization and Proxy-Authorization values are "[redacted]"'),
    responseHeaders: z.array(z.tuple([z.string(), z.string()])).describe('[name, value] of the answer; Set-Cookie values are "[redacted]"'),
    truncated: z.boolean().describe('the heads were longer than the 4 KB a record keeps: the headers are the first ones, the last perhaps cut'),
  })
  .meta({ id: 'RequestRecord' });
export type RequestRecordRow = z.infer<typeof RequestRecordSchema>;

/** One deployed version of an app (paasmaker versions): immutable code, exported once, prepared once. */
export const VersionSchema = z
  .object({
    app: z.string(),
    version: z.number().int().describe('1, 2, 3… per app, never reused'),
    state: z.enum(['preparing', 'failed', 'stopped', 'starting', 'running']).describe('preparing: being exported and prepared; failed: its export, prepare, startup or readiness failed (never current); stopped: ready, not running; starting/running: its processes'),
    current: z.boolean().describe('the version the app runs as APP.localhost'),
    previous: z.boolean().describe('the version current before the current one (paasmaker rollback goes back to it)'),
    serving: z.boolean().describe('whether it answers on APP.localhost now (false for the current version while a development `up` of the app holds that name)'),
    url: z.string().nullable().describe('where it answers as itself while it runs: http://vN.APP.localhost:PORT/'),
    httpsUrl: z.string().nullable().describe('the same over TLS while it runs and the router listens with TLS: https://vN.APP.localhost:TLS_PORT/; else null'),
    kind: z.enum(['git', 'archive', 'folder']),
    source: z.string().describe('the repository, archive or folder it came from'),
    ref: z.string().nullable().describe('the branch, tag or commit asked for'),
    commit: z.string().nullable().describe('the full commit id (git); null for an archive or folder without one'),
    author: z.string().nullable(),
    message: z.string().nullable().describe("the commit's subject line"),
    dirty: z.boolean().describe('deployed with --allow-dirty: the work tree, uncommitted changes included'),
    created: z.string().describe('ISO time it was made'),
    size: z.number().int().describe("bytes of its code as exported (before prepare)"),
    job: z.string().nullable().describe('the deploy job that made it'),
    directory: z.string().describe('PAASMAKER_HOME/versions/APP/N'),
    error: z.string().nullable().describe('why it failed, when it did'),
  })
  .meta({ id: 'Version' });
export type VersionRow = z.infer<typeof VersionSchema>;

export const DeployResultSchema = z
  .object({
    version: VersionSchema,
    switched: z.boolean().describe('whether it became current (false with switch: false, or when it failed)'),
    job: z.string().describe('the deploy job'),
  })
  .meta({ id: 'DeployResult' });
export type DeployResult = z.infer<typeof DeployResultSchema>;

/** A dump of a service asked of the API: the job making it, and what it is of. */
export const DumpRunSchema = JobRunSchema.extend({
  service: z.string().describe('the service dumped (the first that keeps data, when none was named)'),
  plugin: z.string(),
  format: z.string().describe('the kind of file: postgresql (pg_dump -Fc), mysql (SQL, gzip), redis (RDB), sqlite (gzip), filesystem (tar, gzip)'),
  download: z.string().describe('where to GET the dump once the job succeeded (once: it is removed after it was sent whole)'),
  size: z.number().int().nullable().describe('bytes of the dump, once made'),
}).meta({ id: 'DumpRun' });
export type DumpRun = z.infer<typeof DumpRunSchema>;

/** A restore, or a snapshot taken or restored, asked of the API: the job, and what it is of. */
export const DataRunSchema = JobRunSchema.extend({
  name: z.string().describe('the service restored, or the snapshot'),
}).meta({ id: 'DataRun' });
export type DataRun = z.infer<typeof DataRunSchema>;

/** One snapshot of an app's services (paasmaker db snapshots --json). */
export const SnapshotSchema = z
  .object({
    app: z.string(),
    name: z.string(),
    time: z.string().describe('ISO time it was taken'),
    size: z.number().int().describe('bytes of its dumps'),
    services: z.array(z.string()).describe('the services it holds a dump of'),
  })
  .meta({ id: 'Snapshot' });
export type SnapshotRow = z.infer<typeof SnapshotSchema>;

export const SnapshotRemovedSchema = z.object({ app: z.string(), name: z.string(), removed: z.boolean() }).meta({ id: 'SnapshotRemoved' });

/** What a read-only query read (POST /api/v1/services/{app}/{service}/query). */
export const QueryResultSchema = z
  .object({
    columns: z.array(z.string()),
    rows: z.array(z.array(z.unknown())).describe("rows as arrays in columns' order; values JSON-safe: integers beyond 2^53 and numerics as strings, bytes as \"\\x<hex>\", texts cut at 2000 characters"),
    truncated: z.boolean().describe('more rows existed than the limit'),
    elapsedMs: z.number(),
  })
  .meta({ id: 'QueryResult' });

/** A service's tables (GET /api/v1/services/{app}/{service}/schema). */
export const DatabaseSchemaSchema = z
  .object({
    protocol: z.string().describe('postgresql | mysql | sqlite | redis'),
    tables: z.array(
      z.object({
        schema: z.string().optional().describe("PostgreSQL's schema (public…)"),
        name: z.string().describe('a table or view; for Redis a key type'),
        kind: z.enum(['table', 'view', 'keys']),
        rowEstimate: z.number().nullable().describe("the database's own estimate (COUNT(*) for SQLite, a key count for Redis); null when it has none"),
        columns: z.array(z.object({ name: z.string(), type: z.string(), nullable: z.boolean(), primaryKey: z.boolean() })),
      }),
    ),
  })
  .meta({ id: 'ServiceSchema' });
export type QueryResult = z.infer<typeof QueryResultSchema>;
export type DatabaseSchema = z.infer<typeof DatabaseSchemaSchema>;
