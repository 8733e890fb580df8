import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { AppRow, CronRow, InstanceRow, JobLogLine, JobRow, JobRun, LogLineRow, ProcessRow, RequestRecordRow, RestartResult, ScaleResult, ServiceRow, TrafficRow } from '../api/index.js';
import type { ManifestRow } from '../api/manifest-routes.js';
import { isPaasmakerError, PaasmakerError } from '../shared/errors.js';
import type { DatabaseSchema, QueryResult } from '../shared/views.js';
import type { ApiCaller } from './api.js';

/** The most characters of text one tool result carries: a model's context is not a log file. */
export const RESULT_LIMIT = 20_000;

/** Text cut to `limit` characters, with a note of what was left out and how to see less at once. */
export function fit(text: string, narrow: string, limit = RESULT_LIMIT): string {
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}\n… [truncated: ${text.length - limit} more characters not shown; ${narrow}]`;
}

/** The tail of a text cut to `limit` characters (logs: the newest lines matter), with a note. */
function fitTail(text: string, narrow: string, limit = RESULT_LIMIT): string {
  if (text.length <= limit) return text;
  const cut = text.slice(text.length - limit);
  const start = cut.indexOf('\n') + 1;
  return `[truncated: the older ${text.length - limit + start} characters are not shown; ${narrow}]\n${cut.slice(start)}`;
}

const segment = encodeURIComponent;

function ok(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

/** A failure as the model reads it: the API's code, message and hint, as a tool result (not a protocol error). */
function failed(error: unknown): CallToolResult {
  if (isPaasmakerError(error)) return { isError: true, content: [{ type: 'text', text: `${error.code}: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}` }] };
  return { isError: true, content: [{ type: 'text', text: `error: ${error instanceof Error ? error.message : String(error)}` }] };
}

/** Runs a tool's body; a thrown error is the tool's error result. */
async function answer(work: () => Promise<string>): Promise<CallToolResult> {
  try {
    return ok(await work());
  } catch (error) {
    return failed(error);
  }
}

const json = (value: unknown) => JSON.stringify(value, null, 1);

/** An ISO time from "30s", "10m", "1h", "2d" ago, or an ISO time; undefined when it is neither. */
export function sinceTime(since: string, now = Date.now()): string | undefined {
  const ago = /^(\d+)\s*(s|m|h|d)$/.exec(since.trim());
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const when = ago ? now - Number(ago[1]) * unit[ago[2] as keyof typeof unit] : Date.parse(since);
  return Number.isFinite(when) ? new Date(when).toISOString() : undefined;
}

const appName = z.string().min(1).describe('the app\'s name, as list_apps shows it');

/** What `get_logs` and the logs resource read: the app's recent lines, filtered, as text. */
async function logText(api: ApiCaller, app: string, options: { instance?: string; lines: number; since?: string; grep?: string }): Promise<string> {
  const filtering = options.instance !== undefined || options.since !== undefined || options.grep !== undefined;
  const since = options.since === undefined ? undefined : sinceTime(options.since);
  if (options.since !== undefined && since === undefined) throw new PaasmakerError('USAGE', `since: "${options.since}" is neither a duration nor an ISO time`, { hint: 'for example 30s, 10m, 1h, 2d, or 2026-05-01T12:00:00Z' });
  let pattern: RegExp | undefined;
  try {
    pattern = options.grep === undefined ? undefined : new RegExp(options.grep, 'i');
  } catch (error) {
    throw new PaasmakerError('USAGE', `grep: not a regular expression: ${(error as Error).message}`, { hint: 'a JavaScript regular expression, e.g. "error|warn" (case-insensitive)' });
  }
  // Filtering reads further back (the API keeps up to 5000 lines of each process), then keeps the newest N that match.
  const rows = await api.call<LogLineRow[]>('GET', `/api/v1/apps/${segment(app)}/logs?lines=${filtering ? 5000 : options.lines}`, { app });
  const instance = options.instance;
  const kept = rows
    .filter((row) => instance === undefined || row.source === instance || row.source.startsWith(`${instance}.`))
    .filter((row) => since === undefined || row.time >= since)
    .filter((row) => pattern === undefined || pattern.test(row.line))
    .slice(-options.lines);
  if (kept.length === 0) return `no log lines of ${app}${instance ? `/${instance}` : ''}${filtering ? ' match' : ' yet'}`;
  const text = kept.map((row) => `${row.time} ${row.source}${row.stream === 'err' ? ' [err]' : row.stream === 'sys' ? ' [paasmaker]' : ''} | ${row.line}`).join('\n');
  return fitTail(text, 'ask for fewer lines, a later since, or a grep');
}

async function manifestText(api: ApiCaller, app: string): Promise<string> {
  const manifest = await api.call<ManifestRow>('GET', `/api/v1/apps/${segment(app)}/manifest`, { app });
  return fit(json(manifest), 'the manifest is long: its file is at the path in "file"');
}

export interface McpOptions {
  /** Only the tools that read: no restart, scale or run_cron. */
  readOnly?: boolean;
  /** Who the server acts as, for its instructions ("the local administrator", 'user "ana" (token)'). */
  actingAs?: string;
  version?: string;
}

/** The tool names that change something: absent in read-only mode. */
export const WRITE_TOOLS = ['restart', 'scale', 'run_cron'] as const;

/**
 * Paasmaker's MCP server: tools and resources over /api/v1, acting as the
 * caller `api` carries. The API checks every permission; this server only
 * leaves out the tools that change something when read-only.
 */
export function createMcpServer(api: ApiCaller, options: McpOptions = {}): McpServer {
  const server = new McpServer(
    { name: 'paasmaker', version: options.version ?? '0.1.0' },
    {
      instructions: [
        'Paasmaker runs this developer\'s apps locally: processes, databases, a router at APP.localhost.',
        `You act as ${options.actingAs ?? 'the local administrator'}; the platform checks every permission and a refused call says which is missing.`,
        options.readOnly ? 'This session is read-only: it can look, not restart, scale or run crons.' : 'restart, scale and run_cron change the running apps: use them when the developer asked for it or after a change that needs it.',
        'Start with list_apps, then app_status, get_logs or recent_requests of one app. Results are cut at about 20 000 characters.',
      ].join(' '),
    },
  );
  const readOnly = { readOnlyHint: true, openWorldHint: false } as const;

  server.registerTool(
    'list_apps',
    {
      title: 'List apps',
      description: 'Every app the platform has run (that you may view): its state (running, stopped, …), URL, current deployed version and workspace. Read-only. Use app_status for one app\'s processes.',
      annotations: readOnly,
    },
    () =>
      answer(async () => {
        const apps = await api.call<AppRow[]>('GET', '/api/v1/apps');
        if (apps.length === 0) return 'no apps yet (the developer starts one with: paasmaker up -d DIR)';
        const rows = apps.map((app) => ({ name: app.name, state: app.state, url: app.url, httpsUrl: app.httpsUrl, version: app.version, servedBy: app.servedBy, workspace: app.workspace, directory: app.directory, deployedAt: app.deployedAt }));
        return fit(json(rows), 'too many apps to show at once');
      }),
  );

  server.registerTool(
    'app_status',
    {
      title: 'App status',
      description: "One app in detail: its state, URLs, current version, each process (instance.index, state, pid, port, restarts, last exit code, uptime, cpu, memory, req/s), its instance types, its crons (schedule, next run, last outcome) and its services (databases, with no credentials). Read-only.",
      inputSchema: { app: appName },
      annotations: readOnly,
    },
    ({ app }) =>
      answer(async () => {
        const record = await api.call<AppRow>('GET', `/api/v1/apps/${segment(app)}`, { app });
        const [processes, instances, crons, services] = await Promise.all([
          api.call<ProcessRow[]>('GET', `/api/v1/processes?app=${segment(app)}`, { app }),
          api.call<InstanceRow[]>('GET', `/api/v1/apps/${segment(app)}/instances`, { app }),
          api.call<CronRow[]>('GET', `/api/v1/crons?app=${segment(app)}`, { app }),
          // Services need SERVICE_VIEW: without it, the status says so instead of failing.
          api.call<ServiceRow[]>('GET', `/api/v1/services?app=${segment(app)}`, { app }).catch((error: unknown) => (isPaasmakerError(error) ? `not shown: ${error.message}` : Promise.reject(error))),
        ]);
        const status = {
          app: record,
          processes: processes.map((row) => ({ process: `${row.instance}.${row.index}`, state: row.state, pid: row.pid, port: row.port, restarts: row.restarts, exitCode: row.exitCode, uptime: row.uptime, cpu: row.cpu, memory: row.memory, rps: row.rps, url: row.url })),
          instances: instances.map((row) => ({ name: row.name, runtime: row.runtime, command: row.command, quantity: row.quantity, standalone: row.standalone })),
          crons: crons.map((row) => ({ name: row.name, instance: row.instance, schedule: row.schedule, target: row.target, nextRun: row.nextRun === null ? null : new Date(row.nextRun).toISOString(), lastResult: row.lastResult, lastDetail: row.lastDetail })),
          services: typeof services === 'string' ? services : services.map((row) => ({ service: row.service, plugin: row.plugin, branch: row.branch, state: row.state, resource: row.resource })),
        };
        return fit(json(status), 'use get_logs or recent_requests for details of one process');
      }),
  );

  server.registerTool(
    'get_logs',
    {
      title: 'Get logs',
      description:
        "The recent output (stdout, stderr, and Paasmaker's own lines about starts, exits and restarts) of an app's processes, merged in time order, oldest first, one line each: TIME PROCESS | TEXT. Filter by instance type or process (web, web.0), by time (since: 10m, 1h, or an ISO time) and by a case-insensitive regular expression (grep). At most 1000 lines; the newest are kept when the text is cut. Read-only.",
      inputSchema: {
        app: appName,
        instance: z.string().min(1).optional().describe('only this instance type (web) or process (web.0)'),
        lines: z.number().int().min(1).max(1000).optional().describe('the newest this many lines (default 100)'),
        since: z.string().min(1).optional().describe('only lines since then: 30s, 10m, 1h, 2d ago, or an ISO time'),
        grep: z.string().min(1).optional().describe('only lines matching this regular expression (case-insensitive), e.g. "error|warn"'),
      },
      annotations: readOnly,
    },
    ({ app, instance, lines, since, grep }) => answer(() => logText(api, app, { instance, lines: lines ?? 100, since, grep })),
  );

  server.registerTool(
    'recent_requests',
    {
      title: 'Recent requests',
      description:
        "The request inspector: the app's last HTTP requests through Paasmaker's router (it keeps the last 300 per app, in memory), newest last: time, method, path, status, duration, which process answered, and why the app did not answer when it did not. Filter by status (500, 404, 5xx, 4xx, or none for no answer) to find \"the last 5xx\", and by path (contains). Headers are included only with headers: true (credentials are always redacted); bodies are never kept. Read-only.",
      inputSchema: {
        app: appName,
        status: z.string().regex(/^([1-5]\d\d|[1-5]xx|none)$/, 'a status (404), a class (5xx) or none').optional().describe('404, 5xx, 4xx, … or none (no answer)'),
        path: z.string().min(1).optional().describe('only requests whose path and query contain this'),
        limit: z.number().int().min(1).max(200).optional().describe('the newest this many (default 20)'),
        headers: z.boolean().optional().describe("include the request's and response's headers (default false)"),
      },
      annotations: readOnly,
    },
    ({ app, status, path, limit, headers }) =>
      answer(async () => {
        const query = new URLSearchParams({ limit: String(limit ?? 20), ...(status ? { status } : {}), ...(path ? { path } : {}) });
        const records = await api.call<RequestRecordRow[]>('GET', `/api/v1/apps/${segment(app)}/requests?${query}`, { app });
        if (records.length === 0) return `no requests of ${app} recorded${status || path ? ' that match' : ''} (the router keeps the last 300 per app since the platform started)`;
        const rows = records.map((record) => {
          const { requestHeaders, responseHeaders, truncated, ...rest } = record;
          return headers ? { ...rest, requestHeaders, responseHeaders, headersTruncated: truncated } : rest;
        });
        return fit(json(rows), 'ask for fewer (limit) or filter by status or path');
      }),
  );

  server.registerTool(
    'traffic',
    {
      title: 'Traffic',
      description: 'Router traffic per app and instance type over a window (default the last 60 s): requests, requests per second, counts by status class (2xx, 3xx, 4xx, 5xx), bytes in and out, and p50/p99 latency in ms. Read-only.',
      inputSchema: {
        app: appName.optional().describe('only this app (default: every app you may view)'),
        window: z.number().int().min(1).max(86_400).optional().describe('seconds to count back (default 60)'),
      },
      annotations: readOnly,
    },
    ({ app, window }) =>
      answer(async () => {
        const query = new URLSearchParams({ ...(app ? { app } : {}), ...(window ? { window: String(window) } : {}) });
        const rows = await api.call<TrafficRow[]>('GET', `/api/v1/stats${query.size > 0 ? `?${query}` : ''}`);
        if (rows.length === 0) return `no traffic recorded${app ? ` for ${app}` : ''} in the window`;
        return fit(json(rows.map((row) => ({ app: row.app, instance: row.instance, requests: row.requests, rps: row.rps, '2xx': row.s2xx, '3xx': row.s3xx, '4xx': row.s4xx, '5xx': row.s5xx, p50ms: row.p50, p99ms: row.p99, bytesIn: row.bytesIn, bytesOut: row.bytesOut, windowSeconds: row.window }))), 'name one app');
      }),
  );

  server.registerTool(
    'list_jobs',
    {
      title: 'List jobs',
      description: "Paasmaker's latest jobs (starts, prepares such as npm ci, deploys, cron runs, dumps), newest first: id, app, title, state (running, success, failed, aborted), outcome. Use job_log with an id for its output. Read-only.",
      inputSchema: {
        app: appName.optional().describe('only this app\'s jobs'),
        limit: z.number().int().min(1).max(200).optional().describe('at most this many (default 30)'),
      },
      annotations: readOnly,
    },
    ({ app, limit }) =>
      answer(async () => {
        const jobs = await api.call<JobRow[]>('GET', `/api/v1/jobs${app ? `?app=${segment(app)}` : ''}`);
        if (jobs.length === 0) return `no jobs${app ? ` of ${app}` : ''} yet`;
        const rows = jobs.slice(0, limit ?? 30).map((job) => ({ id: job.id, app: job.app, title: job.title, state: job.state, detail: job.detail, created: new Date(job.createdAt).toISOString(), updated: new Date(job.updatedAt).toISOString() }));
        return fit(json(rows), 'ask for fewer (limit) or one app');
      }),
  );

  server.registerTool(
    'job_log',
    {
      title: 'Job log',
      description: "One job: its tree of steps with their states and outcomes, and the log lines of the job and of each step (oldest first; the newest kept when cut). Read-only.",
      inputSchema: {
        id: z.string().min(1).describe('the job id, from list_jobs'),
        lines: z.number().int().min(1).max(2000).optional().describe('at most this many log lines per step (the newest; default 200)'),
      },
      annotations: readOnly,
    },
    ({ id, lines }) =>
      answer(async () => {
        const tree = await api.call<JobRow[]>('GET', `/api/v1/jobs/${segment(id)}`);
        const parts: string[] = [];
        for (const job of tree) {
          const log = await api.call<JobLogLine[]>('GET', `/api/v1/jobs/${segment(job.id)}/log`);
          const kept = log.slice(-(lines ?? 200));
          const omitted = log.length - kept.length;
          parts.push(`== ${job.id}${job.parent ? ` (step of ${job.parent})` : ''} ${job.title}: ${job.state}${job.detail ? ` — ${job.detail}` : ''}`);
          if (omitted > 0) parts.push(`[${omitted} older lines not shown]`);
          parts.push(...kept.map((line) => `${line.time}${line.stream === 'out' ? '' : ` [${line.stream}]`} ${line.line}`));
        }
        return fitTail(parts.join('\n'), 'ask for fewer lines per step');
      }),
  );

  server.registerTool(
    'get_env',
    {
      title: 'Get environment',
      description:
        "The environment variables an app's processes get (its .env, its services' connection settings such as DATABASE_URL, the manifest's environment), for the routed instance type or the one named. Passwords and credentials are masked; show_secrets reveals them only if your role holds SERVICE_CREDENTIAL_VIEW in the app's workspace (otherwise they stay masked). Read-only.",
      inputSchema: {
        app: appName,
        instance: z.string().min(1).optional().describe('this instance type (default: web, else the first)'),
        show_secrets: z.boolean().optional().describe('reveal credentials, if your role may see them (default false): prefer leaving them masked'),
      },
      annotations: readOnly,
    },
    ({ app, instance, show_secrets }) =>
      answer(async () => {
        const query = new URLSearchParams({ ...(instance ? { instance } : {}), ...(show_secrets ? { show_secrets: 'true' } : {}) });
        const env = await api.call<Record<string, string>>('GET', `/api/v1/apps/${segment(app)}/env${query.size > 0 ? `?${query}` : ''}`, { app });
        return fit(
          Object.entries(env)
            .map(([key, value]) => `${key}=${value}`)
            .join('\n'),
          'name one instance type',
        );
      }),
  );

  server.registerTool(
    'manifest',
    {
      title: 'Manifest',
      description: "The app's resolved manifest (paasmaker.yml, manifest.yml or Procfile as Paasmaker read it, defaults applied): instance types with their runtime, command, quantity, health check, crons, environment, and its services. Secret-looking values are masked. Read-only.",
      inputSchema: { app: appName },
      annotations: readOnly,
    },
    ({ app }) => answer(() => manifestText(api, app)),
  );

  server.registerTool(
    'query_database',
    {
      title: 'Query a database (read-only)',
      description:
        "Runs one READ-ONLY query on one of an app's database services and returns the rows. PostgreSQL and MariaDB/MySQL run it in a read-only transaction; SQLite is opened read-only; Redis accepts read commands only (GET, HGETALL, KEYS, SCAN, …, one command line). INSERT, UPDATE, DELETE, DROP, ALTER and other writes are refused (READ_ONLY) and change nothing; one statement per call. Needs the SERVICE_EXPORT permission (a viewer has none). At most `limit` rows (default 100, max 1000; `truncated` says more existed) and a time limit (default 5 s, max 30 s). Use describe_database first to see tables and columns; app_status lists the services.",
      inputSchema: {
        app: appName,
        service: z.string().min(1).describe('the service\'s name in the manifest (e.g. db), as app_status lists it'),
        query: z.string().min(1).max(100_000).describe('SQL (SELECT, SHOW, EXPLAIN, WITH … SELECT) or one Redis read command'),
        limit: z.number().int().min(1).max(1000).optional().describe('the most rows returned (default 100)'),
        timeout_ms: z.number().int().min(100).max(30_000).optional().describe('cancel the query after this long (default 5000)'),
      },
      annotations: readOnly,
    },
    ({ app, service, query, limit, timeout_ms }) =>
      answer(async () => {
        const body = { query, ...(limit !== undefined ? { limit } : {}), ...(timeout_ms !== undefined ? { timeout_ms } : {}) };
        const result = await api.call<QueryResult>('POST', `/api/v1/services/${segment(app)}/${segment(service)}/query`, { body, app, timeoutMs: 60_000 });
        const head = `${result.rows.length} row${result.rows.length === 1 ? '' : 's'} in ${result.elapsedMs} ms${result.truncated ? ` (more rows exist: only the first ${result.rows.length} are shown; add a LIMIT/WHERE or raise limit)` : ''}`;
        return fit(`${head}\n${JSON.stringify({ columns: result.columns, rows: result.rows })}`, 'select fewer columns or rows');
      }),
  );

  server.registerTool(
    'describe_database',
    {
      title: 'Describe a database',
      description: "The tables (and views) of one of an app's database services, with their columns (name, type, nullable, primary key) and row estimates; for Redis, its keys counted by type. Read-only.",
      inputSchema: {
        app: appName,
        service: z.string().min(1).describe('the service\'s name in the manifest (e.g. db), as app_status lists it'),
      },
      annotations: readOnly,
    },
    ({ app, service }) =>
      answer(async () => {
        const schema = await api.call<DatabaseSchema>('GET', `/api/v1/services/${segment(app)}/${segment(service)}/schema`, { app });
        if (schema.tables.length === 0) return `${schema.protocol}: no tables yet`;
        const lines = [`protocol: ${schema.protocol}`];
        for (const table of schema.tables) {
          lines.push(`${table.kind} ${table.schema ? `${table.schema}.` : ''}${table.name}${table.rowEstimate === null ? '' : ` (~${table.rowEstimate} rows)`}`);
          for (const column of table.columns) lines.push(`  ${column.name} ${column.type}${column.nullable ? '' : ' not null'}${column.primaryKey ? ' primary key' : ''}`);
        }
        return fit(lines.join('\n'), 'query information_schema for one table with query_database');
      }),
  );

  if (!options.readOnly) {
    const changes = { readOnlyHint: false, destructiveHint: false, openWorldHint: false } as const;
    server.registerTool(
      'restart',
      {
        title: 'Restart',
        description:
          "Rolling restart of an app's processes (all, or one instance type): new processes start first, the old ones are drained and stopped once the new ones are ready, so the app keeps answering. Use it after a change the app does not reload by itself (Paasmaker already restarts on a saved source file when watching). Needs the APPLICATION_DEPLOY permission; data is never touched.",
        inputSchema: { app: appName, instance: z.string().min(1).optional().describe('only this instance type (e.g. web)') },
        annotations: { ...changes, idempotentHint: true },
      },
      ({ app, instance }) =>
        answer(async () => {
          const result = await api.call<RestartResult>('POST', `/api/v1/apps/${segment(app)}/restart`, { body: instance ? { instance } : {}, app, timeoutMs: 600_000 });
          return result.ok ? `restarted ${app}${instance ? `/${instance}` : ''}: the new processes are ready` : `the new processes of ${app}${instance ? `/${instance}` : ''} did not start; the old ones still serve. See get_logs for why.`;
        }),
    );

    server.registerTool(
      'scale',
      {
        title: 'Scale',
        description: "Sets how many processes an instance type of an app runs (0 to 64); 0 stops that type. Needs the APPLICATION_DEPLOY permission.",
        inputSchema: { app: appName, instance: z.string().min(1).describe('the instance type (e.g. web, worker)'), quantity: z.number().int().min(0).max(64).describe('how many processes') },
        annotations: { ...changes, idempotentHint: true },
      },
      ({ app, instance, quantity }) =>
        answer(async () => {
          const result = await api.call<ScaleResult>('POST', `/api/v1/apps/${segment(app)}/scale`, { body: { instance, quantity }, app, timeoutMs: 600_000 });
          return `scaled ${app}/${instance} from ${result.from} to ${result.to}`;
        }),
    );

    server.registerTool(
      'run_cron',
      {
        title: 'Run a cron now',
        description: "Runs one of an app's crons (declared in its manifest) now, as a job, and waits up to `wait` seconds (default 10) for its outcome (an exit code, or the HTTP status of a URI cron); a longer run goes on, and list_jobs or job_log tell its end. app_status lists the cron names. Needs the APPLICATION_DEPLOY permission.",
        inputSchema: { app: appName, name: z.string().min(1).describe("the cron's name in the manifest"), wait: z.number().min(0).max(60).optional().describe('seconds to wait for the outcome (default 10)') },
        annotations: { ...changes, idempotentHint: false },
      },
      ({ app, name, wait }) =>
        answer(async () => {
          const result = await api.call<JobRun>('POST', `/api/v1/apps/${segment(app)}/crons/${segment(name)}/run${wait === undefined ? '' : `?wait=${wait}`}`, { app, timeoutMs: 120_000 });
          return result.state === 'running' ? `cron ${name} of ${app} runs as job ${result.job}: follow it with job_log` : `cron ${name} of ${app} (job ${result.job}): ${result.state}${result.detail ? ` — ${result.detail}` : ''}`;
        }),
    );
  }

  const listApps = async () => {
    const apps = await api.call<AppRow[]>('GET', '/api/v1/apps').catch(() => [] as AppRow[]);
    return apps;
  };
  const resourceText = async (uri: URL, read: () => Promise<string>, mimeType: string): Promise<ReadResourceResult> => {
    try {
      return { contents: [{ uri: uri.href, mimeType, text: await read() }] };
    } catch (error) {
      const result = failed(error);
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: (result.content[0] as { text: string }).text }] };
    }
  };
  const variable = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0]! : (value ?? ''));

  server.registerResource(
    'manifest',
    new ResourceTemplate('paasmaker://apps/{app}/manifest', {
      list: async () => ({ resources: (await listApps()).map((app) => ({ uri: `paasmaker://apps/${segment(app.name)}/manifest`, name: `${app.name} manifest`, mimeType: 'application/json' })) }),
    }),
    { title: "An app's resolved manifest", description: 'The manifest of the app as Paasmaker resolved it (JSON, secrets masked)', mimeType: 'application/json' },
    (uri, variables) => resourceText(uri, () => manifestText(api, decodeURIComponent(variable(variables.app))), 'application/json'),
  );
  server.registerResource(
    'logs',
    new ResourceTemplate('paasmaker://apps/{app}/logs', {
      list: async () => ({ resources: (await listApps()).map((app) => ({ uri: `paasmaker://apps/${segment(app.name)}/logs`, name: `${app.name} logs`, mimeType: 'text/plain' })) }),
    }),
    { title: "An app's recent logs", description: 'The last 200 lines of output of the app\'s processes, merged in time order', mimeType: 'text/plain' },
    (uri, variables) => resourceText(uri, () => logText(api, decodeURIComponent(variable(variables.app)), { lines: 200 }), 'text/plain'),
  );
  return server;
}

