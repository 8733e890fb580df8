import { existsSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { PaasmakerError } from '../../shared/errors.js';
import { memoryText as sizeText } from '../../shared/usage-text.js';
import { shellQuote } from '../../shared/shell.js';
import { INSTALL, requireBinary } from '../binaries.js';
import { commandToFile, dumpInvalid, eachLine, fileToCommand, readGzip, throwIfStopped } from '../dump-files.js';
import { ManagedServer, type ServerEndpoint } from '../managed-server.js';
import { forgetPassword, myIdent, resourceName, servicePassword, sqlString } from '../names.js';
import { retry, runClient } from '../run-client.js';
import { busySideNames, SIDE_SUFFIX, sideNameOf, sideNames } from '../side-names.js';
import type { Credentials, DataStep, ServiceContext, ServicePlugin, ServiceRequest } from '../types.js';
import type { MyTarget } from './mysql-query.js';
import { forgetReader, myReader, oneAtATime, readerName, readerOf, type Reader } from '../readers.js';

// The query tools (and mysql2) are loaded on the first query: a daemon that never runs one does not hold them.
const queryIn = async (...args: Parameters<typeof import('./mysql-query.js').queryIn>) => (await import('./mysql-query.js')).queryIn(...args);
const describeIn = async (...args: Parameters<typeof import('./mysql-query.js').describeIn>) => (await import('./mysql-query.js')).describeIn(...args);

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

/** The service's database on the admin's server, as its read-only user reaches it (made by the administrator when missing). */
function targetOf(admin: MyAdmin, plugin: string, request: ServiceRequest, context: ServiceContext): MyTarget {
  const name = resourceName(request, NAME_MAX);
  const reader = readerOf(context.home, plugin, request, NAME_MAX);
  return { host: admin.host, port: admin.port, name, reader, ensure: (reset) => ensureReader(admin, reader, name, reset) };
}

/** Readers this process has made (or found) since it started: a grant on `db`.* covers the tables made later, so once is enough. */
const readersMade = new Set<string>();

/**
 * The service's read-only user: SELECT and SHOW VIEW on its database and no
 * other right (no EXECUTE, LOCK TABLES, CREATE, DROP, PROCESS), so that
 * neither SET STATEMENT nor a compound statement nor CALL can write, and
 * KILL reaches only its own sessions. `reset` sets its password again (its
 * secret was lost).
 */
async function ensureReader(admin: MyAdmin, reader: Reader, database: string, reset: boolean): Promise<void> {
  const key = `${admin.host}:${admin.port}:${reader.user}`;
  if (readersMade.has(key) && !reset) return;
  await oneAtATime(`my:${key}`, async () => {
    const users = ["'%'", "'localhost'"].map((host) => `${myReader(reader.user)}@${host}`);
    const password = sqlString(reader.password);
    const text = [
      ...users.map((user) => `CREATE USER IF NOT EXISTS ${user} IDENTIFIED BY ${password} WITH MAX_USER_CONNECTIONS 20;`),
      ...(reset ? users.map((user) => `ALTER USER ${user} IDENTIFIED BY ${password};`) : []),
      ...users.map((user) => `GRANT SELECT, SHOW VIEW ON ${myIdent(database)}.* TO ${user};`),
      '',
    ].join('\n');
    await sql(admin, text, `making the read-only user of MySQL database "${database}"`, [reader.password]);
  });
  readersMade.add(key);
}

async function sql(admin: MyAdmin, text: string, what: string, secrets: string[] = [], timeoutMs?: number): Promise<string> {
  return runClient(admin.client, ['--no-defaults', '--batch', '--skip-column-names', ...admin.args], { input: text, env: admin.env, what, secrets, timeoutMs });
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
  await sweepSides(admin, name, context.say).catch((error: Error) => context.say(`warning: could not look for what an interrupted restore of "${name}" left: ${error.message}`));
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
  const reader = myReader(readerName(request, NAME_MAX));
  await sql(
    admin,
    `DROP DATABASE IF EXISTS ${myIdent(name)};\nDROP USER IF EXISTS ${sqlString(name)}@'%', ${sqlString(name)}@'localhost';\nDROP USER IF EXISTS ${reader}@'%', ${reader}@'localhost';\n`,
    `dropping MySQL database "${name}"`,
  );
  readersMade.delete(`${admin.host}:${admin.port}:${readerName(request, NAME_MAX)}`);
  forgetPassword(context.home, plugin, name);
  forgetReader(context.home, plugin, request, NAME_MAX);
}

/**
 * What a restore that was interrupted (a crash, a kill) left beside the
 * service's database: its fresh copy and an empty throwaway database are
 * dropped, with the rights its user was given on them. A throwaway database
 * that holds tables may be the only copy of the data from before a restore:
 * it is kept and named. Only names made by sideNames for this service, and
 * none a restore of this process is using, nor one a session uses.
 */
async function sweepSides(admin: MyAdmin, name: string, say: (line: string) => void): Promise<void> {
  const max = NAME_MAX + SIDE_SUFFIX;
  const listed = await sql(
    admin,
    [
      `SELECT 'db', HEX(SCHEMA_NAME) FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, ${name.length}) = ${sqlString(name)};`,
      `SELECT 'grant', HEX(Db) FROM mysql.db WHERE User = ${sqlString(name)};`,
      // A database a session uses: a restore another paasmaker process of this home runs is loading into it.
      `SELECT 'used', HEX(DB) FROM information_schema.PROCESSLIST WHERE LEFT(DB, ${name.length}) = ${sqlString(name)};`,
      '',
    ].join('\n'),
    `looking for what a restore of "${name}" left`,
  );
  const databases = new Set<string>();
  const granted = new Set<string>();
  const used = new Set<string>();
  for (const line of listed.split('\n').filter(Boolean)) {
    const [kind, hex] = line.split('\t') as [string, string];
    const found = Buffer.from(hex, 'hex').toString('utf8').replace(/\\(.)/g, '$1');
    if (!sideNameOf(found, name, max) || busySideNames.has(found)) continue;
    (kind === 'db' ? databases : kind === 'grant' ? granted : used).add(found);
  }
  for (const database of used) {
    databases.delete(database);
    granted.delete(database);
  }
  const drops: string[] = [];
  for (const database of databases) {
    const side = sideNameOf(database, name, max)!;
    const old = database.replace(/__new_([0-9a-f]{8})$/, '__old_$1');
    if (side.kind === 'new' && busySideNames.has(database)) continue;
    const tables = (await objectsOf(admin, database)).tables.length;
    if (side.kind === 'old' && tables > 0) {
      say(`"${database}" holds tables from before an interrupted restore of "${name}": kept (drop it when they are not needed)`);
      continue;
    }
    // A fresh copy with tables was never swapped in (RENAME TABLE moves them all or none) unless its throwaway database holds tables too.
    if (side.kind === 'new' && tables > 0 && databases.has(old) && (await objectsOf(admin, old)).tables.length > 0) continue;
    drops.push(database);
  }
  const users = ["'%'", "'localhost'"].map((host) => `${sqlString(name)}@${host}`);
  const revokes = [...new Set([...drops, ...[...granted].filter((database) => !databases.has(database) || drops.includes(database))])];
  if (drops.length + revokes.length === 0) return;
  say(`dropping what an interrupted restore of "${name}" left: ${[...new Set([...drops, ...revokes])].join(', ')}`);
  if (drops.length > 0) await sql(admin, drops.map((database) => `DROP DATABASE IF EXISTS ${quoteName(database)};\n`).join(''), `dropping what a restore of "${name}" left`);
  // One statement a right: a REVOKE of a right that is not there is an error, and must not stop the others.
  for (const database of revokes) {
    for (const user of users) await sql(admin, `REVOKE ALL PRIVILEGES ON ${quoteName(database)}.* FROM ${user};\n`, `revoking "${name}"'s rights on "${database}"`).catch(() => {});
  }
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
  const { head, tail } = await readGzip(file, 'mysql', 'a MySQL dump (mariadb-dump, gzip)', step, (line) => {
    if (elsewhere === undefined && line.length < 4096 && ELSEWHERE.test(line.toString('utf8'))) elsewhere = line.toString('utf8').trim();
  });
  const start = head.toString('utf8');
  if (!/^-- (MariaDB|MySQL) dump /m.test(start)) {
    throw dumpInvalid(file, 'mysql', `it is a gzip file, but not a MySQL dump: it starts "${start.slice(0, 40).split('\n')[0]}"`);
  }
  if (!/^-- Dump completed/m.test(tail.toString('utf8'))) {
    throw dumpInvalid(file, 'mysql', 'it is a MySQL dump that does not end: its "-- Dump completed" line is missing (the dump was stopped before its end)');
  }
  if (elsewhere !== undefined) {
    throw dumpInvalid(file, 'mysql', `it is a dump of more than one database's tables: it has "${elsewhere.slice(0, 80)}"`, {
      hint: 'a service restores from a dump of its one database (mariadb-dump DATABASE, without --databases or --all-databases); nothing was changed',
    });
  }
}

/** A definer in a dump names an account of the server it was made on. */
const DEFINER = /DEFINER=`(?:[^`]|``)*`@`(?:[^`]|``)*`/g;
const ownDefiner = (text: string) => text.replace(DEFINER, 'DEFINER=CURRENT_USER');

/** How long a swap's statement waits for a table another session uses (an open transaction in a `db shell`) before it gives up. */
const SWAP_LOCK_WAIT = 10;
/** The swap's client is given longer than that, so the server, not a killed client, ends a statement that waits. */
const SWAP_TIMEOUT_MS = 60_000;
const swapSession = `SET SESSION lock_wait_timeout = ${SWAP_LOCK_WAIT};\n`;

/** The base tables a database holds now. */
async function tablesIn(admin: MyAdmin, database: string): Promise<Set<string>> {
  return new Set((await objectsOf(admin, database)).tables);
}

/** Moves tables between databases in one RENAME TABLE (atomic). */
const renames = (moves: Array<[from: string, to: string, tables: string[]]>): string => {
  const pairs = moves.flatMap(([from, to, tables]) => tables.map((table) => `${myIdent(from)}.${quoteName(table)} TO ${myIdent(to)}.${quoteName(table)}`));
  return pairs.length > 0 ? `RENAME TABLE ${pairs.join(', ')};\n` : '';
};

/** Statements that drop every trigger, view and routine a database has (a table with triggers cannot change database). */
const dropsOf = (database: string, objects: Awaited<ReturnType<typeof objectsOf>>): string =>
  [
    ...objects.triggers.map((trigger) => `DROP TRIGGER IF EXISTS ${myIdent(database)}.${quoteName(trigger)};`),
    ...objects.views.map((view) => `DROP VIEW IF EXISTS ${myIdent(database)}.${quoteName(view)};`),
    ...objects.routines.map((routine) => `DROP ${routine.type} IF EXISTS ${myIdent(database)}.${quoteName(routine.name)};`),
    '',
  ].join('\n');

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
 * 2. the views, triggers and routines of both are read (mariadb-dump,
 *    without data) and kept: RENAME TABLE cannot move a table that has
 *    triggers to another database, and a view cannot change database at all,
 *    so they are dropped before the swap and made again after it;
 * 3. one RENAME TABLE, which is atomic, moves the old tables out to a
 *    throwaway database and the fresh ones in: a client sees the old data or
 *    the new, never a mix; the service's user keeps its rights (on `db`.*).
 *    Its session waits at most SWAP_LOCK_WAIT seconds for a table another
 *    session holds (an open transaction): then nothing moved, the old
 *    triggers are made again and the restore fails saying why;
 * 4. the old views and routines are dropped and the dump's made. If that
 *    fails, the tables are renamed back and the old objects made again: the
 *    service is as it was.
 *
 * A database that may hold the only copy of the service's data (after an
 * error whose outcome is not known: information_schema says where the
 * tables are) is never dropped: the error names it.
 */
async function restoreInto(admin: MyAdmin, plugin: string, request: ServiceRequest, file: string, step: DataStep, context: ServiceContext): Promise<void> {
  const name = resourceName(request, NAME_MAX);
  const label = basename(file);
  step.say(`checking ${label}`);
  await checkDump(file, step);
  await requireDatabase(admin, name);
  throwIfStopped(step, `restoring MySQL database "${name}"`);
  const { fresh, old } = sideNames(name, NAME_MAX + SIDE_SUFFIX);
  const users = ["'%'", "'localhost'"].map((host) => `${sqlString(name)}@${host}`).join(', ');
  const asService = { args: ['--no-defaults', '--batch', '-h', admin.host, '-P', String(admin.port), '-u', name, '--connect-timeout=5'], env: { MYSQL_PWD: servicePassword(context.home, plugin, name) } };
  const dumpObjects = (database: string, only: string[], tables: string[] = []) =>
    runClient(dumpBinary(context.env), ['--no-defaults', ...admin.connection, '--skip-comments', '--no-data', '--default-character-set=utf8mb4', ...only, database, ...tables], {
      env: admin.env,
      what: `reading the views, triggers and routines of "${database}"`,
      timeoutMs: 120_000,
    });
  /** Runs a script as the service's user in its database, in a session that waits SWAP_LOCK_WAIT s at most for a lock. */
  const asServiceIn = (script: string, what: string, force = false) =>
    runClient(admin.client, [...asService.args, ...(force ? ['--force'] : []), name], { input: `${swapSession}${script}`, env: asService.env, what, timeoutMs: SWAP_TIMEOUT_MS, secrets: Object.values(asService.env) });
  /** Makes views, triggers and routines again from their definitions, skipping those that are there; throws if any is still missing. */
  const makeAgain = async (definitions: string, wanted: Awaited<ReturnType<typeof objectsOf>>, what: string) => {
    if (!definitions.trim()) return;
    await asServiceIn(ownDefiner(definitions), what, true).catch(() => {}); // --force: each statement tried; what counts is what is there after
    const now = await objectsOf(admin, name);
    const missing = [
      ...wanted.views.filter((view) => !now.views.includes(view)),
      ...wanted.triggers.filter((trigger) => !now.triggers.includes(trigger)),
      ...wanted.routines.filter((routine) => !now.routines.some((have) => have.name === routine.name && have.type === routine.type)).map((routine) => routine.name),
    ];
    if (missing.length > 0) throw new PaasmakerError('SERVICE_FAILED', `${what}: ${missing.join(', ')} could not be made`);
  };
  await sql(admin, `CREATE DATABASE ${myIdent(fresh)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\nGRANT ALL PRIVILEGES ON ${myIdent(fresh)}.* TO ${users};\n`, `creating MySQL database "${fresh}"`);
  busySideNames.add(fresh);
  /** Databases that may hold the only copy of some of the service's tables: never dropped. */
  let keep: string[] = [];
  try {
    step.say(`loading ${label} into a fresh database "${fresh}"`);
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
    // The old definitions, kept to be made again if the restore cannot finish.
    const oldViews = current.views.length > 0 ? await dumpObjects(name, ['--skip-triggers'], current.views) : '';
    const oldPrograms = current.triggers.length + current.routines.length > 0 ? await dumpObjects(name, ['--no-create-info', '--triggers', '--routines']) : '';
    const oldTriggersOnly = { tables: [], views: [], triggers: current.triggers, routines: [] };
    throwIfStopped(step, `restoring MySQL database "${name}"`);

    /** Where the tables are after a swap statement failed: before it, after it, or (not known) somewhere between. */
    const located = async (): Promise<'before' | 'after' | 'between'> => {
      const [inName, inFresh, inOld] = await Promise.all([tablesIn(admin, name), tablesIn(admin, fresh), tablesIn(admin, old)]);
      if (inOld.size === 0 && incoming.tables.every((table) => inFresh.has(table)) && current.tables.every((table) => inName.has(table))) return 'before';
      if (inFresh.size === 0 && current.tables.every((table) => inOld.has(table)) && incoming.tables.every((table) => inName.has(table))) return 'after';
      return 'between';
    };
    const stranded = (error: unknown, where: string) => {
      keep = [fresh, old];
      return new PaasmakerError('SERVICE_FAILED', `restoring "${name}" stopped ${where}: its tables are split between "${name}", "${old}" (the data from before) and "${fresh}" (the dump's)`, {
        hint: `nothing was dropped; move the tables back with RENAME TABLE (paasmaker db shell as an administrator), then drop "${old}" and "${fresh}"`,
        detail: error instanceof PaasmakerError ? [error.message, error.detail].filter(Boolean).join('\n') : String(error),
      });
    };

    const swap = [
      `CREATE DATABASE ${myIdent(old)};`,
      ...incoming.triggers.map((trigger) => `DROP TRIGGER ${myIdent(fresh)}.${quoteName(trigger)};`),
      ...incoming.views.map((view) => `DROP VIEW ${myIdent(fresh)}.${quoteName(view)};`),
      ...current.triggers.map((trigger) => `DROP TRIGGER ${myIdent(name)}.${quoteName(trigger)};`),
      renames([
        [name, old, current.tables],
        [fresh, name, incoming.tables],
      ]),
    ].join('\n');
    try {
      await sql(admin, `${swapSession}${swap}`, `swapping the restored tables into "${name}"`, [], SWAP_TIMEOUT_MS);
    } catch (error) {
      const where = await located().catch(() => 'between' as const);
      if (where === 'between') throw stranded(error, 'while its tables were being swapped');
      if (where === 'before') {
        // Nothing moved: the old tables' triggers (some may have been dropped) come back.
        await makeAgain(oldPrograms, oldTriggersOnly, `making the triggers of "${name}" again`).catch((again: Error) => step.say(`${again.message}`));
        throw new PaasmakerError('SERVICE_FAILED', `restoring "${name}" failed at the swap; "${name}" is unchanged`, {
          hint: /lock wait timeout/i.test(`${(error as PaasmakerError).detail ?? ''} ${(error as Error).message}`)
            ? `another session holds a table of "${name}" (an open transaction, perhaps in paasmaker db shell): end it and restore again`
            : 'what MySQL said is below',
          detail: [(error as Error).message, (error as PaasmakerError).detail].filter(Boolean).join('\n'),
        });
      }
      // 'after': the statement went through though its client did not say so.
    }
    step.say(`swapped ${incoming.tables.length} restored table(s) into "${name}"`);
    try {
      await asServiceIn(`${dropsOf(name, { ...current, tables: [], triggers: [] })}${ownDefiner(views)}\n${ownDefiner(programs)}\n`, `making the dump's views, triggers and routines in "${name}"`);
    } catch (error) {
      step.say(`the dump's views, triggers or routines could not be made (${(error as Error).message}); putting the old tables back`);
      try {
        const now = await objectsOf(admin, name);
        await sql(admin, `${swapSession}${dropsOf(name, now)}${renames([[name, fresh, incoming.tables], [old, name, current.tables]])}`, `putting the old tables of "${name}" back`, [], SWAP_TIMEOUT_MS);
        await makeAgain(`${oldViews}\n${oldPrograms}\n`, { ...current, tables: [] }, `making the old views, triggers and routines of "${name}" again`);
      } catch (back) {
        if ((await located().catch(() => 'between')) !== 'before') throw stranded(back, 'after its views, triggers or routines could not be made');
        throw new PaasmakerError('SERVICE_FAILED', `restoring "${name}" failed: the dump's views, triggers or routines could not be made, and some of the old ones could not be made again: ${(back as Error).message}`, {
          hint: 'the tables are as they were; make the missing objects again from a dump of the service made before the restore',
          detail: (error as PaasmakerError).detail,
        });
      }
      throw new PaasmakerError('SERVICE_FAILED', `restoring "${name}" failed: the dump's views, triggers or routines could not be made; "${name}" is as it was`, {
        hint: /lock wait timeout/i.test(`${(error as PaasmakerError).detail ?? ''}`) ? `another session holds a view or routine of "${name}" (an open transaction, perhaps in paasmaker db shell): end it and restore again` : 'what MySQL said is below',
        detail: [(error as Error).message, (error as PaasmakerError).detail].filter(Boolean).join('\n'),
      });
    }
  } finally {
    const drop = [fresh, old].filter((database) => !keep.includes(database));
    const cleanup = [...drop.map((database) => `DROP DATABASE IF EXISTS ${myIdent(database)};`), `REVOKE ALL PRIVILEGES ON ${myIdent(fresh)}.* FROM ${users};`, ''].join('\n');
    if (keep.length === 0) await sql(admin, cleanup, 'dropping the databases of the restore').catch((error: Error) => step.say(`warning: could not drop "${fresh}" or "${old}": ${error.message}`));
    busySideNames.delete(fresh);
  }
  step.say(`restored MySQL database "${name}" from ${label}`);
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
    check: (_request, file, step) => checkDump(file, step),
    dump: async (request, file, step) => dumpFrom(await admin(), request, file, step, context.env),
    restore: async (request, file, step) => restoreInto(await admin(), 'mysql', request, file, step, context),
    query: async (request, query) => queryIn(targetOf(await admin(), 'mysql', request, context), query),
    describe: async (request) => describeIn(targetOf(await admin(), 'mysql', request, context)),
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
    check: (_request, file, step) => checkDump(file, step),
    dump: (request, file, step) => dumpFrom(admin(request), request, file, step, context.env),
    restore: (request, file, step) => restoreInto(admin(request), 'mysql-external', request, file, step, context),
    query: (request, query) => queryIn(targetOf(admin(request), 'mysql-external', request, context), query),
    describe: (request) => describeIn(targetOf(admin(request), 'mysql-external', request, context)),
  };
}
