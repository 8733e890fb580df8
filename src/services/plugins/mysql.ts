import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { PaasmakerError } from '../../shared/errors.js';
import { memoryText as sizeText } from '../../shared/usage-text.js';
import { shellQuote } from '../../shared/shell.js';
import { INSTALL, requireBinary } from '../binaries.js';
import { commandToFile, eachLine, fileToCommand, readGzip, throwIfStopped } from '../dump-files.js';
import { ManagedServer, type ServerEndpoint } from '../managed-server.js';
import { forgetPassword, myIdent, resourceName, servicePassword, sqlString } from '../names.js';
import { retry, runClient } from '../run-client.js';
import type { Credentials, DataStep, ServiceContext, ServicePlugin, ServiceRequest } from '../types.js';

/** How to reach a server as its administrator with the mariadb (or mysql) client. */
interface MyAdmin {
  client: string;
  /** How to connect: what the client and mariadb-dump both take. */
  connection: string[];
  /** The client's: the connection and its own options. */
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

/** Any name a table, view, trigger or routine may have, quoted (myIdent takes only the names Paasmaker makes). */
const quoteName = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

function dumpBinary(env: NodeJS.ProcessEnv): string {
  return requireBinary(['mariadb-dump', 'mysqldump'], 'a dump of a mysql service', INSTALL.mariadb, env);
}

/** The service's database, which provision made: a restore goes into it and nowhere else. */
async function requireDatabase(admin: MyAdmin, name: string): Promise<void> {
  const found = await sql(admin, `SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${sqlString(name)};`, `looking for MySQL database "${name}"`);
  if (found.trim() !== '1') throw new PaasmakerError('SERVICE_NOT_FOUND', `MySQL database "${name}" does not exist on ${admin.host}:${admin.port}`, { hint: 'start the app once (paasmaker up) so its services are made, then restore' });
}

/** What a database holds, by kind; names read as hex so that any name comes through whole. */
async function objectsOf(admin: MyAdmin, database: string): Promise<{ tables: string[]; views: string[]; triggers: string[]; routines: Array<{ type: string; name: string }> }> {
  const text = await sql(
    admin,
    [
      `SELECT IF(TABLE_TYPE = 'VIEW', 'view', 'table'), HEX(TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${sqlString(database)};`,
      `SELECT 'trigger', HEX(TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ${sqlString(database)};`,
      `SELECT LOWER(ROUTINE_TYPE), HEX(ROUTINE_NAME) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ${sqlString(database)};`,
      '',
    ].join('\n'),
    `listing what MySQL database "${database}" holds`,
  );
  const objects = { tables: [] as string[], views: [] as string[], triggers: [] as string[], routines: [] as Array<{ type: string; name: string }> };
  for (const line of text.split('\n').filter(Boolean)) {
    const [kind, hex] = line.split('\t') as [string, string];
    const name = Buffer.from(hex, 'hex').toString('utf8');
    if (kind === 'table') objects.tables.push(name);
    else if (kind === 'view') objects.views.push(name);
    else if (kind === 'trigger') objects.triggers.push(name);
    else objects.routines.push({ type: kind === 'function' ? 'FUNCTION' : 'PROCEDURE', name });
  }
  return objects;
}

/**
 * The service's database, as the administrator, at one moment (one
 * transaction: InnoDB tables), with its views, triggers and routines, gzip-compressed.
 */
async function dumpFrom(admin: MyAdmin, request: ServiceRequest, file: string, step: DataStep, env: NodeJS.ProcessEnv): Promise<void> {
  const name = resourceName(request, NAME_MAX);
  await requireDatabase(admin, name);
  const options = ['--single-transaction', '--skip-lock-tables', '--routines', '--triggers', '--no-create-db', '--hex-blob', '--default-character-set=utf8mb4'];
  const size = await commandToFile(file, {
    command: dumpBinary(env),
    args: ['--no-defaults', ...admin.connection, ...options, name],
    env: admin.env,
    what: `dumping MySQL database "${name}"`,
    step,
    gzip: true,
    secrets: Object.values(admin.env),
  });
  step.say(`dumped MySQL database "${name}": ${sizeText(size)} (gzip)`);
}

/** Statements that choose or make a database: a service's dump has none (its tables go where it is loaded). */
const ELSEWHERE = /^(USE\s|CREATE DATABASE\b|DROP DATABASE\b|\/\*!40000 DROP DATABASE\b|\/\*!\d+ CREATE DATABASE\b)/i;

/**
 * A whole dump of one database by mariadb-dump or mysqldump: its header at
 * the start, its closing line at the end, and no statement that switches to
 * or makes another database (a dump made with --databases or --all-databases).
 */
async function checkDump(file: string, step: DataStep): Promise<void> {
  let elsewhere: string | undefined;
  const { head, tail } = await readGzip(file, 'a MySQL dump (mariadb-dump, gzip)', step, (line) => {
    if (elsewhere === undefined && line.length < 4096 && ELSEWHERE.test(line.toString('utf8'))) elsewhere = line.toString('utf8').trim();
  });
  const start = head.toString('utf8');
  if (!/^-- (MariaDB|MySQL) dump /m.test(start)) {
    throw new PaasmakerError('DUMP_INVALID', `${file} is a gzip file, but not a MySQL dump: it starts "${start.slice(0, 40).split('\n')[0]}"`, {
      hint: 'give a file made by a dump of a mysql or mysql-external service',
    });
  }
  if (!/^-- Dump completed/m.test(tail.toString('utf8'))) {
    throw new PaasmakerError('DUMP_INVALID', `${file} is a MySQL dump that does not end: its "-- Dump completed" line is missing`, { hint: 'the dump was stopped before its end: use a whole one' });
  }
  if (elsewhere !== undefined) {
    throw new PaasmakerError('DUMP_INVALID', `${file} is a dump of more than one database's tables: it has "${elsewhere.slice(0, 80)}"`, {
      hint: 'a service restores from a dump of its one database (mariadb-dump DATABASE, without --databases or --all-databases)',
    });
  }
}

/** A definer in a dump names an account of the server it was made on. */
const DEFINER = /DEFINER=`(?:[^`]|``)*`@`(?:[^`]|``)*`/g;
const ownDefiner = (text: string) => text.replace(DEFINER, 'DEFINER=CURRENT_USER');

/**
 * Replaces the service's database with the dump's, whole or not at all:
 *
 * 1. the file is checked (gzip, whole, one database's dump from start to
 *    end), then loaded into a fresh database beside the service's, as the
 *    service's own user (granted the fresh database for the while): a dump
 *    can do nothing its app could not, and the views, triggers and routines
 *    it makes become that user's (a dump's definers name accounts of the
 *    server it was made on). Any error drops the fresh database and leaves
 *    the service's data as it was;
 * 2. the fresh database's views, triggers and routines are dumped again
 *    (mariadb-dump, without data): RENAME TABLE cannot move a table that has
 *    triggers to another database, and a view cannot change database at all,
 *    so they are dropped before the swap and made again after it;
 * 3. one RENAME TABLE, which is atomic, moves the old tables out to a
 *    throwaway database and the fresh ones in: a client sees the old data or
 *    the new, never a mix; the service's user keeps its rights (on `db`.*);
 * 4. the old views and routines are dropped, the dump's made in the
 *    service's database, and the throwaway and the fresh database dropped.
 */
async function restoreInto(admin: MyAdmin, plugin: string, request: ServiceRequest, file: string, step: DataStep, context: ServiceContext): Promise<void> {
  const name = resourceName(request, NAME_MAX);
  step.say(`checking ${file}`);
  await checkDump(file, step);
  await requireDatabase(admin, name);
  throwIfStopped(step, `restoring MySQL database "${name}"`);
  const suffix = randomBytes(4).toString('hex');
  const fresh = `${name}__new_${suffix}`;
  const old = `${name}__old_${suffix}`;
  const users = ["'%'", "'localhost'"].map((host) => `${sqlString(name)}@${host}`).join(', ');
  const asService = { args: ['--no-defaults', '--batch', '-h', admin.host, '-P', String(admin.port), '-u', name, '--connect-timeout=5'], env: { MYSQL_PWD: servicePassword(context.home, plugin, name) } };
  const dumpObjects = (database: string, only: string[], tables: string[] = []) =>
    runClient(dumpBinary(context.env), ['--no-defaults', ...admin.connection, '--skip-comments', '--no-data', '--default-character-set=utf8mb4', ...only, database, ...tables], {
      env: admin.env,
      what: `reading the views, triggers and routines of "${database}"`,
      timeoutMs: 120_000,
    });
  await sql(admin, `CREATE DATABASE ${myIdent(fresh)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\nGRANT ALL PRIVILEGES ON ${myIdent(fresh)}.* TO ${users};\n`, `creating MySQL database "${fresh}"`);
  let keepOld = false;
  try {
    step.say(`loading ${file} into a fresh database "${fresh}"`);
    await fileToCommand(file, {
      command: admin.client,
      args: [...asService.args, fresh],
      env: asService.env,
      what: `loading the dump into "${fresh}"`,
      step,
      gunzip: true,
      through: eachLine((line) => (line.includes('DEFINER=') && !line.subarray(0, 12).equals(Buffer.from('INSERT INTO ')) ? Buffer.from(ownDefiner(line.toString('utf8'))) : line)),
      secrets: Object.values(asService.env),
    });
    throwIfStopped(step, `restoring MySQL database "${name}"`);
    const incoming = await objectsOf(admin, fresh);
    const current = await objectsOf(admin, name);
    const views = incoming.views.length > 0 ? await dumpObjects(fresh, ['--skip-triggers'], incoming.views) : '';
    const programs = await dumpObjects(fresh, ['--no-create-info', '--triggers', '--routines']);
    const oldTriggers = current.triggers.length > 0 ? await dumpObjects(name, ['--no-create-info', '--triggers', '--skip-routines']) : '';
    throwIfStopped(step, `restoring MySQL database "${name}"`);

    const moves = [...current.tables.map((table) => `${myIdent(name)}.${quoteName(table)} TO ${myIdent(old)}.${quoteName(table)}`), ...incoming.tables.map((table) => `${myIdent(fresh)}.${quoteName(table)} TO ${myIdent(name)}.${quoteName(table)}`)];
    const swap = [
      `CREATE DATABASE ${myIdent(old)};`,
      ...incoming.triggers.map((trigger) => `DROP TRIGGER ${myIdent(fresh)}.${quoteName(trigger)};`),
      ...incoming.views.map((view) => `DROP VIEW ${myIdent(fresh)}.${quoteName(view)};`),
      ...current.triggers.map((trigger) => `DROP TRIGGER ${myIdent(name)}.${quoteName(trigger)};`),
      ...(moves.length > 0 ? [`RENAME TABLE ${moves.join(', ')};`] : []),
      '',
    ].join('\n');
    try {
      await sql(admin, swap, `swapping the restored tables into "${name}"`);
    } catch (error) {
      // The old tables stayed where they were: their triggers come back.
      if (oldTriggers) await runClient(admin.client, ['--no-defaults', '--batch', ...admin.args, name], { input: oldTriggers, env: admin.env, what: `making the triggers of "${name}" again` }).catch(() => {});
      throw error;
    }
    step.say(`swapped ${incoming.tables.length} restored table(s) into "${name}"`);
    keepOld = true;
    const drops = [
      ...current.views.map((view) => `DROP VIEW IF EXISTS ${myIdent(name)}.${quoteName(view)};`),
      ...current.routines.map((routine) => `DROP ${routine.type} IF EXISTS ${myIdent(name)}.${quoteName(routine.name)};`),
      '',
    ].join('\n');
    try {
      await runClient(admin.client, [...asService.args, name], { input: `${drops}${ownDefiner(views)}\n${ownDefiner(programs)}\n`, env: asService.env, what: `making the dump's views, triggers and routines in "${name}"`, timeoutMs: 120_000 });
    } catch (error) {
      throw new PaasmakerError('SERVICE_FAILED', `the tables of "${name}" were restored, but its views, triggers or routines could not be made: ${(error as Error).message}`, {
        detail: (error as PaasmakerError).detail,
        hint: `the tables from before the restore are kept in the database "${old}" (drop it when done)`,
      });
    }
    keepOld = false;
  } finally {
    const cleanup = [`DROP DATABASE IF EXISTS ${myIdent(fresh)};`, `REVOKE ALL PRIVILEGES ON ${myIdent(fresh)}.* FROM ${users};`, ...(keepOld ? [] : [`DROP DATABASE IF EXISTS ${myIdent(old)};`]), ''].join('\n');
    await sql(admin, cleanup, 'dropping the databases of the restore').catch((error: Error) => step.say(`could not drop "${fresh}" or "${old}": ${error.message}`));
  }
  step.say(`restored MySQL database "${name}" from ${file}`);
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
    const connection = [`--socket=${this.socket}`, `--user=${this.adminUser}`];
    return { client: client(this.context.env), connection, args: connection, env: {}, host: '127.0.0.1', port: endpoint.port };
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
    dumpFormat: 'mysql',
    dump: async (request, file, step) => dumpFrom(await admin(), request, file, step, context.env),
    restore: async (request, file, step) => restoreInto(await admin(), 'mysql', request, file, step, context),
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
    const connection = ['-h', host, '-P', String(port), '-u', decodeURIComponent(url.username || 'root')];
    return {
      client: client(context.env),
      connection,
      args: [...connection, '--connect-timeout=5'],
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
    dumpFormat: 'mysql',
    dump: (request, file, step) => dumpFrom(admin(request), request, file, step, context.env),
    restore: (request, file, step) => restoreInto(admin(request), 'mysql-external', request, file, step, context),
  };
}
