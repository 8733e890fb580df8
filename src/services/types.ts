import type { Supervisor } from '../supervisor/index.js';
import type { State } from '../state/index.js';

/**
 * What an app is given for one service, in the original Paasmaker's terms
 * (PM_SERVICES), plus the URL most libraries take.
 */
export interface Credentials {
  /** postgresql | mysql | redis | sqlite | file | parameters */
  protocol: string;
  hostname?: string;
  port?: number;
  username?: string;
  password?: string;
  database?: string;
  /** <NAME>_URL, and DATABASE_URL / REDIS_URL for the first of its kind. */
  url?: string;
  /** <NAME>_PATH for a folder or a file. */
  path?: string;
  /** Passed-through values (the parameters plugin): <NAME>_<KEY>. */
  values?: Record<string, string>;
}

/** One service of one app, as a plugin is asked to provide it. */
export interface ServiceRequest {
  app: string;
  service: string;
  /** The git branch, for a service with a database per branch; '' otherwise. */
  branch: string;
  /** The symbolic name the manifest used (postgres, pg-shared, …). */
  symbolic: string;
  /** Options from config.yml for the symbolic name, then the manifest's (the manifest wins). */
  options: Record<string, unknown>;
}

/** What plugins may use: where to keep things, the supervisor for servers, state. */
export interface ServiceContext {
  /** $PAASMAKER_HOME */
  home: string;
  state: State;
  supervisor: Supervisor;
  /** The platform's environment (PATH to find binaries). */
  env: NodeJS.ProcessEnv;
  /** A progress line for the user ("starting PostgreSQL 15 on port 5544…"). */
  say: (line: string) => void;
  /** Tells the platform's event stream what a service saw (the mail catcher's new message); absent where no stream listens. */
  emit?: <E extends keyof ServiceEvents>(name: E, event: ServiceEvents[E]) => void;
}

/** A message the mail catcher took from an app. */
export interface MailReceivedEvent {
  app: string;
  service: string;
  id: string;
  subject: string;
  from: string;
}

/** The events a service plugin may emit through its context. */
export interface ServiceEvents {
  'mail.received': MailReceivedEvent;
}

/** What a service is, for the variables it sets beyond <NAME>_… (spelled out in ServicePlugin, where a plugin's author reads the kinds in a type error). */
export type ServiceKind = ServicePlugin['kind'];

/** A managed database server or an existing one, as the services list shows it. */
import type { ServerStatus } from '../shared/service-rows.js';
import type { DatabaseSchema, QueryResult } from '../shared/views.js';

export type { ServerStatus };

/**
 * A service plugin: one object in the registry. provision() is idempotent:
 * the second call finds what the first made and returns the same credentials.
 */
export interface ServicePlugin {
  name: string;
  /** One line for `paasmaker services`. */
  summary: string;
  /** Where credentials go: 'sql' services set DATABASE_URL, 'redis' REDIS_URL, 'mail' SMTP_HOST/_PORT/_USER/_PASSWORD. */
  kind: 'sql' | 'redis' | 'file' | 'values' | 'mail';
  /**
   * A variable set to the URL of the first service of this plugin an app has,
   * as DATABASE_URL and REDIS_URL are for 'sql' and 'redis': `MEMCACHED_URL`.
   * Every service also gets <NAME>_URL.
   */
  urlVariable?: string;
  provision(request: ServiceRequest, context: ServiceContext): Promise<Credentials>;
  /** Drops what provision made. Only ever called from an explicit, confirmed command. */
  destroy(request: ServiceRequest, context: ServiceContext): Promise<void>;
  /** Managed plugins: the server's state. */
  status?(context: ServiceContext): ServerStatus;
  /** Managed plugins: stop the server this platform started. */
  stop?(): Promise<void>;
  /** The command line for `paasmaker db shell`. */
  shell?(credentials: Credentials): { command: string; args: string[]; env: Record<string, string> };
  /** Copies one branch's data into the new, empty service `to` (per_branch with clone_from). */
  clone?(from: ServiceRequest, to: ServiceRequest, target: Credentials, context: ServiceContext): Promise<void>;
  /**
   * The kind of file dump() writes and restore() reads, the same for a
   * managed plugin and its -external form (a dump of one restores into the
   * other): 'postgresql' (pg_dump -Fc), 'mysql' (mariadb-dump, gzip),
   * 'redis' (an RDB file), 'sqlite' (a database file, gzip), 'filesystem'
   * (tar, gzip). Plugins without it cannot be dumped.
   */
  dumpFormat?: string;
  /** Writes the service's data, consistent at one moment, to `file` (made here, mode 0600). */
  dump?(request: ServiceRequest, file: string, step: DataStep): Promise<void>;
  /**
   * Replaces the service's data with `file`'s. The file is checked first and
   * loaded into a fresh copy, which is swapped in only when whole: a failed
   * restore (a truncated or foreign file) leaves the data as it was and
   * throws a PaasmakerError saying what is wrong with the file.
   */
  restore?(request: ServiceRequest, file: string, step: DataStep): Promise<void>;
  /**
   * Reads `file` whole as restore() would before it touches anything, and
   * throws the same DUMP_INVALID when it would refuse it; touches nothing.
   * A snapshot restore checks every dump first with it (without it: the
   * file's kind, and a gzip file decompressed whole).
   */
  check?(request: ServiceRequest, file: string, step: DataStep): Promise<void>;
  /**
   * Runs one read-only query: a read-only transaction on PostgreSQL and
   * MariaDB, SQLite opened read-only, Redis limited to read commands. A query
   * that would write throws READ_ONLY and changes nothing; one the database
   * refuses, or that runs past `timeoutMs`, throws QUERY_FAILED with its message.
   */
  query?(request: ServiceRequest, query: QueryRequest): Promise<QueryResult>;
  /** The service's tables (or Redis keys by type), their columns and row estimates; reads only. */
  describe?(request: ServiceRequest): Promise<ServiceSchema>;
}

/** One read-only query, as `paasmaker db query` and the MCP server send it. */
export interface QueryRequest {
  /** SQL for the SQL services; one command line ("GET key", "HGETALL h") for Redis. */
  text: string;
  /** The most rows returned; more make `truncated` true. */
  limit: number;
  /** The query is cancelled after this long. */
  timeoutMs: number;
}

/** What a query read, and a service's tables: the API's answers (src/shared/views.ts declares them once). */
export type { QueryResult };
export type ServiceSchema = DatabaseSchema;
export type SchemaTable = DatabaseSchema['tables'][number];
export type SchemaColumn = SchemaTable['columns'][number];

/** A dump or a restore in progress: a line for the job's log; the job's abort. */
export interface DataStep {
  say(line: string): void;
  signal?: AbortSignal;
}
