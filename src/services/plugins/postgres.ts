import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PaasmakerError } from '../../shared/errors.js';
import { shellQuote } from '../../shared/shell.js';
import { findBinary, INSTALL, requireBinary } from '../binaries.js';
import { ManagedServer, type ServerEndpoint } from '../managed-server.js';
import { forgetPassword, pgIdent, resourceName, servicePassword, sqlString } from '../names.js';
import { retry, runClient } from '../run-client.js';
import type { Credentials, ServiceContext, ServicePlugin, ServiceRequest } from '../types.js';
import { createDatabase, PG_NAME_MAX, psql, type PgAdmin } from './postgres-admin.js';
import { checkIn, cloneIn, dumpIn, restoreIn, sweepSides } from './postgres-data.js';
import { forgetReader, pgReader, readerName } from '../readers.js';

const SUPERUSER = 'paasmaker';

// The query tools (and pg, pg-cursor) are loaded on the first query: a daemon that never runs one does not hold them.
const queryIn = async (...args: Parameters<typeof import('./postgres-query.js').queryIn>) => (await import('./postgres-query.js')).queryIn(...args);
const describeIn = async (...args: Parameters<typeof import('./postgres-query.js').describeIn>) => (await import('./postgres-query.js')).describeIn(...args);

/** A role and a database of the same name, owned by it, closed to everyone else. Idempotent. */
async function provisionInto(admin: PgAdmin, plugin: string, request: ServiceRequest, context: ServiceContext): Promise<Credentials> {
  const name = resourceName(request);
  const password = servicePassword(context.home, plugin, name);
  const role = pgIdent(name);
  const database = createDatabase(name, name);
  const sql = `
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${sqlString(name)}) THEN
    CREATE ROLE ${role} LOGIN PASSWORD ${sqlString(password)};
  ELSE
    ALTER ROLE ${role} WITH LOGIN PASSWORD ${sqlString(password)};
  END IF;
END$$;
SELECT ${sqlString(database.create)} WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${sqlString(name)})\\gexec
${database.close}
`;
  await psql(admin, sql, `creating PostgreSQL database "${name}"`, [password]);
  await sweepSides(admin, name, context.say).catch((error: Error) => context.say(`warning: could not look for what an interrupted restore of "${name}" left: ${error.message}`));
  return {
    protocol: 'pgsql',
    hostname: admin.host,
    port: admin.port,
    username: name,
    password,
    database: name,
    url: `postgresql://${name}:${password}@${admin.host}:${admin.port}/${name}`,
  };
}

async function destroyIn(admin: PgAdmin, plugin: string, request: ServiceRequest, context: ServiceContext): Promise<void> {
  const name = resourceName(request);
  const role = pgIdent(name);
  // Connections first, or DROP DATABASE refuses.
  await psql(
    admin,
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${sqlString(name)};
DROP DATABASE IF EXISTS ${role};
DROP ROLE IF EXISTS ${role};
DROP ROLE IF EXISTS ${pgReader(readerName(request, PG_NAME_MAX))};
`,
    `dropping PostgreSQL database "${name}"`,
  );
  forgetPassword(context.home, plugin, name);
  forgetReader(context.home, plugin, request, PG_NAME_MAX);
}

function shell(credentials: Credentials, env: NodeJS.ProcessEnv) {
  return {
    command: requireBinary(['psql'], 'paasmaker db shell', INSTALL.psql, env),
    args: [],
    env: { PGHOST: credentials.hostname!, PGPORT: String(credentials.port), PGUSER: credentials.username!, PGPASSWORD: credentials.password!, PGDATABASE: credentials.database! },
  };
}

/** The platform's own PostgreSQL cluster. */
class PostgresCluster extends ManagedServer {
  readonly title: string;
  private readonly bin: string;
  get binDir(): string {
    return this.bin;
  }
  protected override readonly stopSignal = 'SIGINT' as const; // fast shutdown

  constructor(context: ServiceContext) {
    super('postgres', context);
    const postgres = requireBinary(['postgres'], 'the postgres service', INSTALL.postgres, context.env);
    this.bin = dirname(postgres);
    const major = /\/postgresql\/(\d+)\//.exec(postgres)?.[1];
    this.title = major ? `PostgreSQL ${major}` : 'PostgreSQL';
  }

  private get data(): string {
    return join(this.dir, 'data');
  }

  /** During crash recovery PostgreSQL accepts connections but refuses every query: ready is what pg_isready says (when it is installed). */
  protected override ready(port: number): Promise<boolean> {
    const pgIsReady = findBinary(['pg_isready'], this.context.env, this.bin);
    if (!pgIsReady) return Promise.resolve(true);
    return new Promise((resolve) => execFile(pgIsReady, ['-q', '-h', this.socketDir(), '-p', String(port)], { timeout: 5000 }, (error) => resolve(!error)));
  }

  protected override socketDir(): string {
    return join(this.dir, 'run');
  }

  protected initialised(): boolean {
    return existsSync(join(this.data, 'PG_VERSION'));
  }

  protected async initialise(): Promise<void> {
    const initdb = requireBinary(['initdb'], 'the postgres service', INSTALL.postgres, this.context.env, this.bin);
    this.context.say(`${this.title}: creating a cluster in ${this.data}${this.user ? ` (run by the "${this.user.name}" user: PostgreSQL refuses root)` : ''}`);
    await runClient(initdb, ['-D', this.data, '-U', SUPERUSER, '-E', 'UTF8', '--locale=C', '--auth-local=trust', '--auth-host=scram-sha-256', '--no-instructions'], {
      what: 'initdb',
      user: this.user,
      cwd: this.dir,
      timeoutMs: 120_000,
    });
  }

  protected configure(): void {
    mkdirSync(this.socketDir(), { recursive: true, mode: 0o700 });
  }

  protected command(port: number): string {
    const settings = {
      listen_addresses: '127.0.0.1,::1',
      unix_socket_directories: this.socketDir(),
      unix_socket_permissions: '0700',
      max_connections: '100',
      shared_buffers: '32MB',
      logging_collector: 'off',
    };
    const args = Object.entries(settings).map(([key, value]) => `-c ${shellQuote(`${key}=${value}`)}`);
    return `${shellQuote(join(this.bin, 'postgres'))} -D ${shellQuote(this.data)} -p ${port} ${args.join(' ')}`;
  }

  admin(endpoint: ServerEndpoint): PgAdmin {
    return { psql: psqlBinary(this.context.env, this.bin), args: ['-h', endpoint.socketDir!, '-p', String(endpoint.port), '-U', SUPERUSER], env: {}, host: '127.0.0.1', port: endpoint.port, binDir: this.bin };
  }

  protected async waitUntilReady(endpoint: ServerEndpoint): Promise<void> {
    await retry(() => psql(this.admin(endpoint), 'SELECT 1;', `connecting to ${this.title}`), 20_000, 50);
  }
}

/**
 * pg_dump -Fc files, the same for the managed cluster and an existing server:
 * a dump of one restores into the other. A restore loads as the service's
 * own role, with the credentials provision() gives (made if missing).
 */
function dumpAndRestore(plugin: string, admin: (request: ServiceRequest) => Promise<PgAdmin>, context: ServiceContext): Pick<ServicePlugin, 'dumpFormat' | 'dump' | 'restore' | 'check'> {
  return {
    dumpFormat: 'postgresql',
    check: async (request, file) => checkIn(await admin(request), file, context.env),
    dump: async (request, file, step) => dumpIn(await admin(request), request, file, step, context.env),
    restore: async (request, file, step) => {
      const server = await admin(request);
      const target = await provisionInto(server, plugin, request, context);
      await restoreIn(server, request, target, file, step, context.env);
    },
  };
}

function psqlBinary(env: NodeJS.ProcessEnv, near?: string): string {
  return requireBinary(['psql'], 'the postgres service', INSTALL.psql, env, near);
}

export function managedPostgres(context: ServiceContext): ServicePlugin & { cluster: () => PostgresCluster } {
  let cluster: PostgresCluster | undefined;
  const get = () => (cluster ??= new PostgresCluster(context));
  const admin = async () => get().admin(await get().ensure());
  return {
    name: 'postgres',
    summary: "a database and role on the platform's own PostgreSQL",
    kind: 'sql',
    cluster: get,
    provision: async (request) => provisionInto(await admin(), 'postgres', request, context),
    destroy: async (request) => destroyIn(await admin(), 'postgres', request, context),
    clone: async (from, to, target) => cloneIn(await admin(), from, to, target, context.env, context.say),
    ...dumpAndRestore('postgres', admin, context),
    query: async (request, query) => queryIn(await admin(), 'postgres', request, query, context),
    describe: async (request) => describeIn(await admin(), 'postgres', request, context),
    status: () => ({ ...get().status(), version: get().title }),
    stop: async () => cluster?.stop(),
    shell: (credentials) => shell(credentials, context.env),
  };
}

/** An existing server: admin_url in config.yml says how to reach it as a superuser. */
export function externalPostgres(context: ServiceContext): ServicePlugin {
  const admin = (request: ServiceRequest): PgAdmin => {
    const raw = request.options.admin_url;
    if (typeof raw !== 'string') {
      throw new PaasmakerError('CONFIG_INVALID', `the service "${request.symbolic}" (postgres-external) needs an admin_url`, {
        hint: `in $PAASMAKER_HOME/config.yml: services: {${request.symbolic}: {plugin: postgres-external, admin_url: postgres://postgres@127.0.0.1:5432/postgres}}`,
      });
    }
    const url = new URL(raw);
    const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    const port = Number(url.port || 5432);
    return {
      psql: psqlBinary(context.env),
      args: [],
      env: {
        PGHOST: host,
        PGPORT: String(port),
        PGUSER: decodeURIComponent(url.username || 'postgres'),
        ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}),
        PGCONNECT_TIMEOUT: '5',
      },
      host,
      port,
    };
  };
  return {
    name: 'postgres-external',
    summary: 'a database and role on an existing PostgreSQL (admin_url)',
    kind: 'sql',
    provision: (request) => provisionInto(admin(request), 'postgres-external', request, context),
    destroy: (request) => destroyIn(admin(request), 'postgres-external', request, context),
    clone: (from, to, target) => cloneIn(admin(from), from, to, target, context.env, context.say),
    ...dumpAndRestore('postgres-external', async (request) => admin(request), context),
    query: (request, query) => queryIn(admin(request), 'postgres-external', request, query, context),
    describe: (request) => describeIn(admin(request), 'postgres-external', request, context),
    shell: (credentials) => shell(credentials, context.env),
  };
}
