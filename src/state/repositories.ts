import type { ProvisionedRecord } from '../shared/service-rows.js';
import type { Db } from './database.js';

export type AppState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface AppRecord {
  name: string;
  directory: string;
  manifest: string;
  state: AppState;
  ownerPid: number | null;
  ownerStart: string | null;
  /** 1 when the daemon runs it (and should bring it back after a restart). */
  daemon: number;
  /** The instance types chosen (up web worker), as a JSON array; null: all. */
  onlyInstances: string | null;
  /** The workspace it belongs to (default "default"). */
  workspace: string;
  /** Epoch ms of the last up (or apply) that started it; null before the first. */
  deployedAt: number | null;
  /** Epoch ms of its last restart or reload; null if never. */
  reloadedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface InstanceRecord {
  app: string;
  name: string;
  runtime: string;
  command: string | null;
  quantity: number;
  standalone: boolean;
}

export interface ProcessRecord {
  app: string;
  instance: string;
  index: number;
  state: string;
  pid: number | null;
  port: number | null;
  restarts: number;
  runningSince: number | null;
  exitCode: number | null;
  exitSignal: string | null;
  updatedAt: number;
}

export interface JournalRecord {
  pid: number;
  pgid: number;
  startTime: string;
  processId: string;
  app: string | null;
  command: string;
  port: number | null;
  ownerPid: number;
  ownerStart: string;
}

const camel = (row: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  return out;
};

export class AppsRepository {
  constructor(private readonly db: Db) {}

  setDaemon(name: string, daemon: boolean): void {
    this.db.prepare('UPDATE apps SET daemon = ? WHERE name = ?').run(daemon ? 1 : 0, name);
  }

  /**
   * With `workspace` (the manifest names one) the app moves there, the
   * workspace made when missing; without, a new app is in "default" and a
   * known one stays where it is (paasmaker workspace move put it).
   */
  upsert(app: Pick<AppRecord, 'name' | 'directory' | 'manifest' | 'state' | 'ownerPid' | 'ownerStart'> & { only?: readonly string[]; workspace?: string }): void {
    const now = Date.now();
    const onlyInstances = app.only && app.only.length > 0 ? JSON.stringify(app.only) : null;
    const workspace = app.workspace ?? null;
    if (workspace !== null) this.db.prepare('INSERT OR IGNORE INTO workspaces (name, created_at) VALUES (?, ?)').run(workspace, now);
    this.db
      .prepare(
        `INSERT INTO apps (name, directory, manifest, only_instances, state, owner_pid, owner_start, workspace, created_at, updated_at)
         VALUES (@name, @directory, @manifest, @onlyInstances, @state, @ownerPid, @ownerStart, coalesce(@workspace, 'default'), @now, @now)
         ON CONFLICT (name) DO UPDATE SET directory = @directory, manifest = @manifest, only_instances = @onlyInstances, state = @state,
           owner_pid = @ownerPid, owner_start = @ownerStart, workspace = coalesce(@workspace, workspace), updated_at = @now`,
      )
      .run({ name: app.name, directory: app.directory, manifest: app.manifest, state: app.state, ownerPid: app.ownerPid, ownerStart: app.ownerStart, onlyInstances, workspace, now });
  }

  /** The app was started by an up (kind deploy) or restarted or reloaded (kind reload), at epoch ms `at`. */
  markDeployed(name: string, kind: 'deploy' | 'reload', at: number): void {
    this.db.prepare(`UPDATE apps SET ${kind === 'deploy' ? 'deployed_at' : 'reloaded_at'} = ? WHERE name = ?`).run(at, name);
  }

  setState(name: string, state: AppState): void {
    this.db.prepare('UPDATE apps SET state = ?, updated_at = ? WHERE name = ?').run(state, Date.now(), name);
  }

  release(name: string): void {
    this.db
      .prepare("UPDATE apps SET state = 'stopped', owner_pid = NULL, owner_start = NULL, updated_at = ? WHERE name = ?")
      .run(Date.now(), name);
  }

  get(name: string): AppRecord | undefined {
    const row = this.db.prepare('SELECT * FROM apps WHERE name = ?').get(name) as Record<string, unknown> | undefined;
    return row ? (camel(row) as unknown as AppRecord) : undefined;
  }

  findByDirectory(directory: string): AppRecord | undefined {
    const row = this.db.prepare('SELECT * FROM apps WHERE directory = ? ORDER BY updated_at DESC').get(directory) as
      | Record<string, unknown>
      | undefined;
    return row ? (camel(row) as unknown as AppRecord) : undefined;
  }

  list(): AppRecord[] {
    return this.db
      .prepare('SELECT * FROM apps ORDER BY name')
      .all()
      .map((row) => camel(row as Record<string, unknown>) as unknown as AppRecord);
  }
}

export class InstancesRepository {
  constructor(private readonly db: Db) {}

  /** Replaces the app's instance types with the ones it declares now. */
  setQuantity(app: string, name: string, quantity: number): void {
    this.db.prepare('UPDATE instances SET quantity = ? WHERE app = ? AND name = ?').run(quantity, app, name);
  }

  replace(app: string, instances: InstanceRecord[]): void {
    const insert = this.db.prepare(
      `INSERT INTO instances (app, name, runtime, command, quantity, standalone)
       VALUES (@app, @name, @runtime, @command, @quantity, @standalone)`,
    );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM instances WHERE app = ?').run(app);
      for (const instance of instances) insert.run({ ...instance, standalone: instance.standalone ? 1 : 0 });
    })();
  }

  list(app?: string): InstanceRecord[] {
    const rows = app
      ? this.db.prepare('SELECT * FROM instances WHERE app = ? ORDER BY app, name').all(app)
      : this.db.prepare('SELECT * FROM instances ORDER BY app, name').all();
    return rows.map((row) => {
      const record = camel(row as Record<string, unknown>) as unknown as InstanceRecord;
      return { ...record, standalone: Boolean(record.standalone) };
    });
  }
}

export class ProcessesRepository {
  constructor(private readonly db: Db) {}

  put(record: Omit<ProcessRecord, 'updatedAt'>): void {
    this.db
      .prepare(
        `INSERT INTO processes (app, instance, idx, state, pid, port, restarts, running_since, exit_code, exit_signal, updated_at)
         VALUES (@app, @instance, @index, @state, @pid, @port, @restarts, @runningSince, @exitCode, @exitSignal, @now)
         ON CONFLICT (app, instance, idx) DO UPDATE SET state = @state, pid = @pid, port = @port, restarts = @restarts,
           running_since = @runningSince, exit_code = @exitCode, exit_signal = @exitSignal, updated_at = @now`,
      )
      .run({ ...record, now: Date.now() });
  }

  /** Forgets the slots of an app (before it starts again with maybe fewer instances). */
  clear(app: string): void {
    this.db.prepare('DELETE FROM processes WHERE app = ?').run(app);
  }

  remove(app: string, instance: string, index: number): void {
    this.db.prepare('DELETE FROM processes WHERE app = ? AND instance = ? AND idx = ?').run(app, instance, index);
  }

  markStopped(app: string): void {
    this.db
      .prepare("UPDATE processes SET state = 'stopped', pid = NULL, running_since = NULL, updated_at = ? WHERE app = ?")
      .run(Date.now(), app);
  }

  list(app?: string): ProcessRecord[] {
    const rows = app
      ? this.db.prepare('SELECT * FROM processes WHERE app = ? ORDER BY app, instance, idx').all(app)
      : this.db.prepare('SELECT * FROM processes ORDER BY app, instance, idx').all();
    return rows.map((row) => {
      const { idx, ...rest } = camel(row as Record<string, unknown>) as Record<string, unknown>;
      return { ...rest, index: idx } as unknown as ProcessRecord;
    });
  }
}

export class JournalRepository {
  constructor(private readonly db: Db) {}

  record(entry: JournalRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO journal (pid, pgid, start_time, process_id, app, command, port, owner_pid, owner_start, recorded_at)
         VALUES (@pid, @pgid, @startTime, @processId, @app, @command, @port, @ownerPid, @ownerStart, @now)`,
      )
      .run({ ...entry, now: Date.now() });
  }

  forget(pid: number): void {
    this.db.prepare('DELETE FROM journal WHERE pid = ?').run(pid);
  }

  list(): JournalRecord[] {
    return this.db
      .prepare('SELECT * FROM journal ORDER BY recorded_at')
      .all()
      .map((row) => camel(row as Record<string, unknown>) as unknown as JournalRecord);
  }
}

export class PrepareRunsRepository {
  constructor(private readonly db: Db) {}

  fingerprint(app: string, instance: string): string | undefined {
    const row = this.db.prepare('SELECT fingerprint FROM prepare_runs WHERE app = ? AND instance = ?').get(app, instance) as
      | { fingerprint: string }
      | undefined;
    return row?.fingerprint;
  }

  record(app: string, instance: string, fingerprint: string): void {
    this.db
      .prepare(
        `INSERT INTO prepare_runs (app, instance, fingerprint, finished_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (app, instance) DO UPDATE SET fingerprint = excluded.fingerprint, finished_at = excluded.finished_at`,
      )
      .run(app, instance, fingerprint, Date.now());
  }
}

export interface TrafficRecord {
  app: string;
  instance: string;
  /** Epoch seconds. */
  at: number;
  requests: number;
  /** [no response, 1xx, 2xx, 3xx, 4xx, 5xx] */
  statuses: [number, number, number, number, number, number];
  bytesIn: number;
  bytesOut: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

export interface TrafficSummary {
  app: string;
  instance: string;
  requests: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  bytesIn: number;
  bytesOut: number;
  /** The worst per-second p50/p99 in the window (a bound, not an exact percentile). */
  p50: number | null;
  p99: number | null;
}

export class TrafficRepository {
  constructor(private readonly db: Db) {}

  /** One batch per tick, in one transaction: never a write per request. */
  record(rows: TrafficRecord[]): void {
    if (rows.length === 0) return;
    const insert = this.db.prepare(
      `INSERT INTO traffic (app, instance, at, requests, s0, s1xx, s2xx, s3xx, s4xx, s5xx, bytes_in, bytes_out, p50, p90, p99)
       VALUES (@app, @instance, @at, @requests, @s0, @s1, @s2, @s3, @s4, @s5, @bytesIn, @bytesOut, @p50, @p90, @p99)`,
    );
    this.db.transaction(() => {
      for (const row of rows) {
        const [s0, s1, s2, s3, s4, s5] = row.statuses;
        insert.run({ ...row, s0, s1, s2, s3, s4, s5 });
      }
    })();
  }

  /** Totals per app instance type since `since` (epoch seconds). */
  summary(since: number, app?: string): TrafficSummary[] {
    const rows = this.db
      .prepare(
        `SELECT app, instance, SUM(requests) AS requests, SUM(s2xx) AS s2xx, SUM(s3xx) AS s3xx, SUM(s4xx) AS s4xx, SUM(s5xx) AS s5xx,
                SUM(bytes_in) AS bytes_in, SUM(bytes_out) AS bytes_out, MAX(p50) AS p50, MAX(p99) AS p99
         FROM traffic WHERE at >= @since AND (@app IS NULL OR app = @app) GROUP BY app, instance ORDER BY app, instance`,
      )
      .all({ since, app: app ?? null });
    return rows.map((row) => camel(row as Record<string, unknown>) as unknown as TrafficSummary);
  }

  prune(before: number): void {
    this.db.prepare('DELETE FROM traffic WHERE at < ?').run(before);
  }
}

export interface ServiceRecord extends ProvisionedRecord {
  createdAt: number;
}

export class ServicesRepository {
  constructor(private readonly db: Db) {}

  get(app: string, service: string, branch = ''): ServiceRecord | undefined {
    const row = this.db.prepare('SELECT * FROM services WHERE app = ? AND service = ? AND branch = ?').get(app, service, branch);
    return row ? (camel(row as Record<string, unknown>) as unknown as ServiceRecord) : undefined;
  }

  put(record: Omit<ServiceRecord, 'createdAt'>): void {
    this.db
      .prepare(
        `INSERT INTO services (app, service, branch, plugin, symbolic, resource, checkout, created_at)
         VALUES (@app, @service, @branch, @plugin, @symbolic, @resource, @checkout, @createdAt)
         ON CONFLICT (app, service, branch) DO UPDATE SET plugin = excluded.plugin, symbolic = excluded.symbolic, resource = excluded.resource,
           checkout = COALESCE(excluded.checkout, services.checkout)`,
      )
      .run({ ...record, checkout: record.checkout ?? null, createdAt: Date.now() });
  }

  list(app?: string): ServiceRecord[] {
    const rows = this.db.prepare('SELECT * FROM services WHERE (@app IS NULL OR app = @app) ORDER BY app, service, branch').all({ app: app ?? null });
    return rows.map((row) => camel(row as Record<string, unknown>) as unknown as ServiceRecord);
  }

  /** Resources a plugin already handed out (Redis db indexes), to choose a free one. */
  resources(plugin: string): string[] {
    return this.db.prepare('SELECT resource FROM services WHERE plugin = ?').pluck().all(plugin) as string[];
  }

  remove(app: string, service: string, branch = ''): void {
    this.db.prepare('DELETE FROM services WHERE app = ? AND service = ? AND branch = ?').run(app, service, branch);
  }
}

export interface CronRecord {
  app: string;
  name: string;
  instance: string;
  schedule: string;
  /** "GET /tasks/cleanup" or the command. */
  target: string;
  nextRun: number | null;
  lastStarted: number | null;
  lastFinished: number | null;
  /** "ok", "failed", or null before the first run. */
  lastResult: string | null;
  lastDetail: string | null;
}

export class CronsRepository {
  constructor(private readonly db: Db) {}

  /** The app's crons as its manifest says now; outcomes of those that remain are kept. */
  replace(app: string, crons: Array<Pick<CronRecord, 'name' | 'instance' | 'schedule' | 'target' | 'nextRun'>>): void {
    this.db.transaction(() => {
      const names = crons.map((cron) => cron.name);
      for (const row of this.list(app)) if (!names.includes(row.name)) this.db.prepare('DELETE FROM crons WHERE app = ? AND name = ?').run(app, row.name);
      const upsert = this.db.prepare(
        `INSERT INTO crons (app, name, instance, schedule, target, next_run) VALUES (@app, @name, @instance, @schedule, @target, @nextRun)
         ON CONFLICT (app, name) DO UPDATE SET instance = excluded.instance, schedule = excluded.schedule, target = excluded.target, next_run = excluded.next_run`,
      );
      for (const cron of crons) upsert.run({ app, ...cron });
    })();
  }

  started(app: string, name: string, at: number, nextRun: number | null): void {
    this.db.prepare('UPDATE crons SET last_started = ?, next_run = ? WHERE app = ? AND name = ?').run(at, nextRun, app, name);
  }

  finished(app: string, name: string, at: number, result: 'ok' | 'failed', detail: string): void {
    this.db.prepare('UPDATE crons SET last_finished = ?, last_result = ?, last_detail = ? WHERE app = ? AND name = ?').run(at, result, detail, app, name);
  }

  list(app?: string): CronRecord[] {
    const rows = this.db.prepare('SELECT * FROM crons WHERE (@app IS NULL OR app = @app) ORDER BY app, name').all({ app: app ?? null });
    return rows.map((row) => camel(row as Record<string, unknown>) as unknown as CronRecord);
  }
}

export interface JobRecord {
  id: string;
  parent: string | null;
  root: string;
  app: string;
  title: string;
  /** new | waiting | running | success | failed | aborted */
  state: string;
  detail: string | null;
  ownerPid: number | null;
  ownerStart: string | null;
  createdAt: number;
  updatedAt: number;
}

export class JobsRepository {
  constructor(private readonly db: Db) {}

  create(job: Pick<JobRecord, 'id' | 'parent' | 'root' | 'app' | 'title' | 'ownerPid' | 'ownerStart'>): void {
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO jobs (id, parent, root, app, title, state, owner_pid, owner_start, created_at, updated_at)
         VALUES (@id, @parent, @root, @app, @title, 'new', @ownerPid, @ownerStart, @now, @now)`,
      )
      .run({ ...job, now });
  }

  setState(id: string, state: string, detail: string | null): void {
    this.db.prepare('UPDATE jobs SET state = ?, detail = ?, updated_at = ? WHERE id = ?').run(state, detail, Date.now(), id);
  }

  /** A job that learnt its app once it began (a deploy reads the app's name from the code it fetched). */
  rename(id: string, app: string, title: string): void {
    this.db.prepare('UPDATE jobs SET app = ?, title = ?, updated_at = ? WHERE id = ?').run(app, title, Date.now(), id);
  }

  get(id: string): JobRecord | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id);
    return row ? (camel(row as Record<string, unknown>) as unknown as JobRecord) : undefined;
  }

  /** Jobs whose id starts with the given text (ids can be shortened as with git). */
  find(prefix: string): JobRecord[] {
    return this.db.prepare("SELECT * FROM jobs WHERE id LIKE ? || '%' ORDER BY created_at").all(prefix).map((row) => camel(row as Record<string, unknown>) as unknown as JobRecord);
  }

  /** The most recent root jobs, newest first. */
  roots(options: { app?: string; limit?: number } = {}): JobRecord[] {
    return this.db
      .prepare('SELECT * FROM jobs WHERE parent IS NULL AND (@app IS NULL OR app = @app) ORDER BY created_at DESC LIMIT @limit')
      .all({ app: options.app ?? null, limit: options.limit ?? 30 })
      .map((row) => camel(row as Record<string, unknown>) as unknown as JobRecord);
  }

  /** A whole tree, in creation order. */
  tree(root: string): JobRecord[] {
    return this.db.prepare('SELECT * FROM jobs WHERE root = ? ORDER BY created_at, rowid').all(root).map((row) => camel(row as Record<string, unknown>) as unknown as JobRecord);
  }

  /** Unfinished jobs, to mark those of a dead platform aborted. */
  unfinished(): JobRecord[] {
    return this.db.prepare("SELECT * FROM jobs WHERE state IN ('new', 'waiting', 'running')").all().map((row) => camel(row as Record<string, unknown>) as unknown as JobRecord);
  }
}
