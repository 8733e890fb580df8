import { existsSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { PaasmakerError } from '../../shared/errors.js';
import { shellQuote } from '../../shared/shell.js';
import { INSTALL, requireBinary } from '../binaries.js';
import { ManagedServer, type ServerEndpoint } from '../managed-server.js';
import { forgetPassword, myIdent, resourceName, servicePassword, sqlString } from '../names.js';
import { retry, runClient } from '../run-client.js';
import type { Credentials, ServiceContext, ServicePlugin, ServiceRequest } from '../types.js';

/** How to reach a server as its administrator with the mariadb (or mysql) client. */
interface MyAdmin {
  client: string;
  args: string[];
  env: Record<string, string>;
  host: string;
  port: number;
}

/** MySQL 8 stops user names at 32 characters; MariaDB at 80. The shorter fits both. */
const NAME_MAX = 32;

function client(env: NodeJS.ProcessEnv): string {
  return requireBinary(['mariadb', 'mysql'], 'the mysql service', INSTALL.mariadb, env);
}

async function sql(admin: MyAdmin, text: string, what: string, secrets: string[] = []): Promise<string> {
  return runClient(admin.client, ['--no-defaults', '--batch', '--skip-column-names', ...admin.args], { input: text, env: admin.env, what, secrets });
}

/** A database and a user of the same name with every right on it, and none elsewhere. Idempotent. */
async function provisionInto(admin: MyAdmin, plugin: string, request: ServiceRequest, context: ServiceContext): Promise<Credentials> {
  const name = resourceName(request, NAME_MAX);
  const password = servicePassword(context.home, plugin, name);
  const users = ["'%'", "'localhost'"].map((host) => `${sqlString(name)}@${host}`);
  const text = [
    `CREATE DATABASE IF NOT EXISTS ${myIdent(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`,
    ...users.map((user) => `CREATE USER IF NOT EXISTS ${user} IDENTIFIED BY ${sqlString(password)};`),
    ...users.map((user) => `ALTER USER ${user} IDENTIFIED BY ${sqlString(password)};`),
    ...users.map((user) => `GRANT ALL PRIVILEGES ON ${myIdent(name)}.* TO ${user};`),
    '',
  ].join('\n');
  await sql(admin, text, `creating MySQL database "${name}"`, [password]);
  return {
    protocol: 'mysql',
    hostname: admin.host,
    port: admin.port,
    username: name,
    password,
    database: name,
    url: `mysql://${name}:${password}@${admin.host}:${admin.port}/${name}`,
  };
}

async function destroyIn(admin: MyAdmin, plugin: string, request: ServiceRequest, context: ServiceContext): Promise<void> {
  const name = resourceName(request, NAME_MAX);
  await sql(admin, `DROP DATABASE IF EXISTS ${myIdent(name)};\nDROP USER IF EXISTS ${sqlString(name)}@'%', ${sqlString(name)}@'localhost';\n`, `dropping MySQL database "${name}"`);
  forgetPassword(context.home, plugin, name);
}

function shell(credentials: Credentials, env: NodeJS.ProcessEnv) {
  return {
    command: client(env),
    args: ['--no-defaults', '-h', credentials.hostname!, '-P', String(credentials.port), '-u', credentials.username!, credentials.database!],
    env: { MYSQL_PWD: credentials.password! },
  };
}

/** The platform's own MariaDB (or MySQL) server. */
class MariaDbServer extends ManagedServer {
  readonly title: string;
  private readonly daemon: string;

  constructor(context: ServiceContext) {
    super('mysql', context);
    this.daemon = requireBinary(['mariadbd', 'mysqld'], 'the mysql service', INSTALL.mysql, context.env);
    this.title = this.daemon.endsWith('mariadbd') ? 'MariaDB' : 'MySQL';
  }

  private get data(): string {
    return join(this.dir, 'data');
  }

  protected override socketDir(): string {
    return join(this.dir, 'run');
  }

  /** The administrator: the OS user the client runs as, through the socket (no password exists to leak). */
  private get adminUser(): string {
    return userInfo().username;
  }

  protected initialised(): boolean {
    return existsSync(join(this.data, 'mysql'));
  }

  protected async initialise(): Promise<void> {
    const install = requireBinary(['mariadb-install-db', 'mysql_install_db'], 'the mysql service', INSTALL.mysql, this.context.env);
    this.context.say(`${this.title}: creating a server in ${this.data}${this.user ? ` (run by the "${this.user.name}" user)` : ''}`);
    mkdirSync(this.data, { recursive: true, mode: 0o700 });
    // Socket authentication for the administrator: root (or whoever runs paasmaker) through the
    // socket only, which lives in a folder no one else can enter. No TCP account without a password.
    await runClient(
      install,
      ['--no-defaults', `--datadir=${this.data}`, '--auth-root-authentication-method=socket', '--skip-test-db', `--user=${this.user?.name ?? this.adminUser}`],
      { what: `${install.split('/').pop()}`, cwd: this.dir, timeoutMs: 120_000 },
    );
  }

  protected configure(): void {
    mkdirSync(this.socketDir(), { recursive: true, mode: 0o700 });
  }

  private get socket(): string {
    return join(this.socketDir(), 'mysqld.sock');
  }

  protected command(port: number): string {
    const options = [
      '--no-defaults',
      `--datadir=${shellQuote(this.data)}`,
      `--socket=${shellQuote(this.socket)}`,
      `--pid-file=${shellQuote(join(this.socketDir(), 'mysqld.pid'))}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=32M',
      '--skip-log-bin',
      '--character-set-server=utf8mb4',
      '--collation-server=utf8mb4_unicode_ci',
    ];
    return `${shellQuote(this.daemon)} ${options.join(' ')}`;
  }

  admin(endpoint: ServerEndpoint): MyAdmin {
    return { client: client(this.context.env), args: [`--socket=${this.socket}`, `--user=${this.adminUser}`], env: {}, host: '127.0.0.1', port: endpoint.port };
  }

  protected async waitUntilReady(endpoint: ServerEndpoint): Promise<void> {
    await retry(() => sql(this.admin(endpoint), 'SELECT 1;', `connecting to ${this.title}`), 20_000, 50);
  }
}

export function managedMysql(context: ServiceContext): ServicePlugin {
  let server: MariaDbServer | undefined;
  const get = () => (server ??= new MariaDbServer(context));
  const admin = async () => get().admin(await get().ensure());
  return {
    name: 'mysql',
    summary: "a database and user on the platform's own MariaDB/MySQL",
    kind: 'sql',
    provision: async (request) => provisionInto(await admin(), 'mysql', request, context),
    destroy: async (request) => destroyIn(await admin(), 'mysql', request, context),
    status: () => ({ ...get().status(), version: get().title }),
    stop: async () => server?.stop(),
    shell: (credentials) => shell(credentials, context.env),
  };
}

/** An existing server: admin_url in config.yml (mysql://root[:password]@127.0.0.1:3306). */
export function externalMysql(context: ServiceContext): ServicePlugin {
  const admin = (request: ServiceRequest): MyAdmin => {
    const raw = request.options.admin_url;
    if (typeof raw !== 'string') {
      throw new PaasmakerError('CONFIG_INVALID', `the service "${request.symbolic}" (mysql-external) needs an admin_url`, {
        hint: `in $PAASMAKER_HOME/config.yml: services: {${request.symbolic}: {plugin: mysql-external, admin_url: mysql://root@127.0.0.1:3306}}`,
      });
    }
    const url = new URL(raw);
    const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    const port = Number(url.port || 3306);
    return {
      client: client(context.env),
      args: ['-h', host, '-P', String(port), '-u', decodeURIComponent(url.username || 'root'), '--connect-timeout=5'],
      env: url.password ? { MYSQL_PWD: decodeURIComponent(url.password) } : {},
      host,
      port,
    };
  };
  return {
    name: 'mysql-external',
    summary: 'a database and user on an existing MariaDB/MySQL (admin_url)',
    kind: 'sql',
    provision: (request) => provisionInto(admin(request), 'mysql-external', request, context),
    destroy: (request) => destroyIn(admin(request), 'mysql-external', request, context),
    shell: (credentials) => shell(credentials, context.env),
  };
}
