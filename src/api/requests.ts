import { z } from 'zod';
import { QUERY_LIMITS } from '../shared/limits.js';

/** What the API takes: request bodies and query parameters, each declared once. */

export const UpRequestSchema = z
  .strictObject({
    directory: z.string().regex(/^\//, 'must be an absolute path').describe('absolute path of the project folder'),
    attached: z.boolean().optional().describe('held by a foreground client (an attach=1 event stream): not brought back after a daemon restart'),
    prepare: z.boolean().optional().describe('run the prepare steps even if nothing changed'),
    watch: z.boolean().optional().describe('reload on save (default true)'),
    offline: z.boolean().optional().describe('download no runtime version: one that nothing installed fits is an error saying what to install (paasmaker up --offline)'),
    file: z.string().min(1).max(4096).optional().describe('the manifest to read, relative to the folder (paasmaker up -f): a paasmaker.yml, manifest.yml or Procfile'),
    instances: z
      .array(z.string().min(1).max(200))
      .max(200)
      .optional()
      .describe('only these instance types, with the types they depend on (paasmaker up web worker); default: all'),
  })
  .meta({ id: 'UpRequest' });
export const ProjectEnvironmentRequestSchema = z
  .strictObject({
    directory: z.string().regex(/^\//, 'must be an absolute path').describe('absolute path of the project folder'),
    instance: z.string().min(1).optional().describe('this instance type (default: web, else the first)'),
    command: z.boolean().optional().describe("also answer what a one-off command gets (paasmaker run): the runtime's PATH and variables"),
    service: z.string().optional().describe('also answer this service\'s shell (paasmaker db shell); "" for the first'),
  })
  .meta({ id: 'ProjectEnvironmentRequest' });
export const ScaleRequestSchema = z.strictObject({ instance: z.string().min(1), quantity: z.number().int().min(0).max(64) }).meta({ id: 'ScaleRequest' });
/** Query parameters: every route declares its own (strict: an unknown name is refused, not ignored). */
export const NO_QUERY = z.strictObject({});
const appFilter = z.string().min(1).optional().describe('only this app');
export const AppQuerySchema = z.strictObject({ app: appFilter });
export const ServicesQuerySchema = z.strictObject({
  app: z.string().min(1).optional().describe("only this app's services (no servers)"),
  kind: z.enum(['server', 'service']).optional().describe('only the managed servers, or only the provisioned services'),
});
export const ProcessesQuerySchema = z.strictObject({
  app: appFilter,
  running: z.enum(['true', 'false']).optional().describe('true: only the apps that run (paasmaker ps); else stopped ones too, until a week after they stopped'),
});
export const LogsQuerySchema = z.strictObject({ lines: z.coerce.number().int().min(1).max(5000).optional().describe('how many recent lines (default 100)') });
export const StatsQuerySchema = z.strictObject({ app: appFilter, window: z.coerce.number().int().min(1).max(86_400).optional().describe('seconds to count back (default 60)') });
export const EventsQuerySchema = z.strictObject({ app: appFilter, attach: z.enum(['0', '1']).optional().describe('1: the app stops when this stream closes') });

/** The named parameters of a query schema. */
export function queryFields(schema: z.ZodType): Record<string, z.ZodType> {
  return schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
}

export const WaitQuerySchema = z.strictObject({
  wait: z.coerce.number().min(0).max(60).optional().describe('seconds to wait for the outcome before answering with the job still running (default 10; 0 answers at once)'),
});

export const RuntimeInstallRequestSchema = z
  .strictObject({
    runtime: z.string().min(1).describe('a runtime Paasmaker installs versions of: node'),
    version: z.string().min(1).optional().describe('a version or range ("22", "^20.11", "lts/iron"); the newest release matching it is installed (default: the newest)'),
  })
  .meta({ id: 'RuntimeInstallRequest' });
export const RuntimeRemoveRequestSchema = z
  .strictObject({ confirm: z.string().optional().describe('"<runtime>@<version>": without it (or with another) nothing is removed') })
  .meta({ id: 'RuntimeRemoveRequest' });

export const EnvQuerySchema = z.strictObject({
  instance: z.string().min(1).optional().describe('this instance type (default: the routed one, web, else the first)'),
  show_secrets: z.enum(['true', 'false']).optional().describe('true: passwords in clear; only over the Unix socket'),
});

export const RestartRequestSchema = z.strictObject({ instance: z.string().min(1).optional() }).meta({ id: 'RestartRequest' });

/** Deleting a service: its name, sent back, is the confirmation. */
export const ServiceDestroyRequestSchema = z
  .strictObject({ confirm: z.string().optional().describe('the service\'s name: without it (or with another) nothing is deleted') })
  .meta({ id: 'ServiceDestroyRequest' });
export const ServiceDestroyQuerySchema = WaitQuerySchema.extend({ branch: z.string().min(1).optional().describe('the git branch, for a service with a database per branch') });

export const RequestLogQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(10_000).optional().describe('only the newest this many (after the other filters)'),
  since: z
    .string()
    .regex(/^(\d+|\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:?\d\d)?)$/, 'a request id (a whole number) or an ISO time (2026-05-01T12:00:00Z)')
    .optional()
    .describe('only requests after this id (a whole number: the last id seen), or since this ISO time'),
  status: z
    .string()
    .regex(/^([1-5]\d\d|[1-5]xx|none)$/, 'a status (404), a class (5xx), or none (requests that got no answer)')
    .optional()
    .describe('only this status (404), this class (5xx), or none: the requests that got no answer'),
  path: z.string().min(1).max(2000).optional().describe('only requests whose path (with its query) contains this'),
});

/** A deploy (paasmaker deploy): a source the platform can read; an archive is uploaded instead as the body (see POST /api/v1/deploys). */
export const DeployRequestSchema = z
  .strictObject({
    source: z.string().min(1).describe('a git repository (a path or any URL git fetches), a .tar.gz/.tgz/.tar/.zip archive, or a folder; a relative path is resolved against directory'),
    directory: z.string().min(1).optional().describe("the caller's working folder, for a relative source"),
    ref: z.string().min(1).optional().describe('branch, tag or commit (git only); default HEAD'),
    app: z.string().min(1).optional().describe("the app's name; default: the manifest's application.name"),
    allowDirty: z.boolean().optional().describe('deploy a git work tree with its uncommitted changes'),
    switch: z.boolean().optional().describe('make it current once ready (default true); false starts it as a preview on vN.APP.localhost only'),
  })
  .meta({ id: 'DeployRequest' });
/** The query of an archive upload to POST /api/v1/deploys (the body is the archive; its Content-Type says which kind). */
export const DeployUploadQuerySchema = z.strictObject({
  app: z.string().min(1).optional(),
  ref: z.string().optional(),
  commit: z.string().optional(),
  author: z.string().optional(),
  message: z.string().optional(),
  name: z.string().optional().describe('what to call the source in the version list (e.g. the file name, or "git push")'),
  switch: z.enum(['0', '1']).optional().describe('0: start it as a preview, do not make it current'),
});
export const SwitchRequestSchema = z.strictObject({ version: z.number().int().min(1) }).meta({ id: 'SwitchRequest' });
export const PruneRequestSchema = z.strictObject({ keep: z.number().int().min(0).max(1000) }).meta({ id: 'PruneRequest' });
export const PruneResultSchema = z.object({ removed: z.array(z.number().int()).describe('the versions removed, their code deleted') }).meta({ id: 'PruneResult' });

export const DownRequestSchema = z
  .strictObject({ dev: z.boolean().optional().describe('stop only a development up of the app (its terminal ends it): the current deployed version, if one runs, takes APP.localhost back') })
  .meta({ id: 'DownRequest' });

/** A dump of one of an app's services (paasmaker db dump). */
export const DumpRequestSchema = z
  .strictObject({ service: z.string().min(1).optional().describe("the service (default: the app's first that keeps data)") })
  .meta({ id: 'DumpRequest' });
/** The query of a restore, whose body is the dump. */
export const RestoreQuerySchema = WaitQuerySchema.extend({
  service: z.string().min(1).optional().describe("the service whose data the dump replaces (default: the app's first that keeps data)"),
  name: z.string().min(1).max(255).optional().describe("the dump's file name, as messages call it"),
});
/** A snapshot of every service of an app that keeps data (paasmaker db snapshot). */
export const SnapshotRequestSchema = z
  .strictObject({ name: z.string().min(1).optional().describe('letters, digits, ".", "-" and "_" (default: the UTC time, 20261130-071903)') })
  .meta({ id: 'SnapshotRequest' });
/** Restoring or removing a snapshot: its name, sent back, is the confirmation. */
export const SnapshotConfirmSchema = z
  .strictObject({ confirm: z.string().optional().describe("the snapshot's name: without it (or with another) nothing is changed") })
  .meta({ id: 'SnapshotConfirm' });

/** One read-only query of a service (paasmaker db query, the MCP server's query_database). */
export const QueryRequestSchema = z
  .strictObject({
    query: z.string().min(1).max(100_000).describe('one SQL statement (SELECT, SHOW, EXPLAIN, WITH …), or one Redis read command ("HGETALL user:1")'),
    limit: z.number().int().min(1).max(QUERY_LIMITS.rows.max).optional().describe(`the most rows returned (default ${QUERY_LIMITS.rows.default}, at most ${QUERY_LIMITS.rows.max}); more make truncated true`),
    timeout_ms: z
      .number()
      .int()
      .min(1)
      .max(QUERY_LIMITS.timeoutMs.max)
      .optional()
      .describe(`the query is cancelled after this many milliseconds (default ${QUERY_LIMITS.timeoutMs.default}, at most ${QUERY_LIMITS.timeoutMs.max})`),
  })
  .meta({ id: 'QueryRequest' });
/** Which database of a service with one per git branch. */
export const BranchQuerySchema = z.strictObject({ branch: z.string().min(1).optional().describe("the git branch, for a service with a database per branch (default: the project folder's)") });
