import { basename } from 'node:path';
import { sniffDump } from '../../shared/dump-formats.js';
import { PaasmakerError } from '../../shared/errors.js';
import { memoryText as sizeText } from '../../shared/usage-text.js';
import { INSTALL, requireBinary } from '../binaries.js';
import { commandToFile, dumpInvalid, fileToCommand, throwIfStopped, wrongKind } from '../dump-files.js';
import { pgIdent, resourceName, sqlString } from '../names.js';
import { lastLines, retry, runClient, startClient } from '../run-client.js';
import { busySideNames, SIDE_SUFFIX, sideNameOf, sideNames } from '../side-names.js';
import type { Credentials, DataStep, ServiceRequest } from '../types.js';
import { createDatabase, psql, type PgAdmin } from './postgres-admin.js';

/** Schema and data without owners and grants: whatever loads it (as the service's role) owns everything. */
const PORTABLE = ['--no-owner', '--no-privileges'];

/** What pg_restore says of a file it cannot read whole: cut short, damaged, or not a dump at all. */
const UNREADABLE = /input file|end of file|valid archive|magic string|file header|unsupported version|decompress|corrupt|unexpected data offset|could not find block/i;

/** A database name's longest (NAMEDATALEN - 1). */
const PG_NAME_MAX = 63;
/** Dropping a large database takes a while: longer than psql's 30 s. */
const DROP_TIMEOUT_MS = 600_000;

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** psql's arguments to connect as a service's own role, to `database`. */
function asService(target: Credentials, database: string): { args: string[]; env: Record<string, string> } {
  return { args: ['-h', target.hostname!, '-p', String(target.port), '-U', target.username!, '-d', database], env: { PGPASSWORD: target.password! } };
}

function pgTool(name: 'pg_dump' | 'pg_restore', what: string, admin: PgAdmin, env: NodeJS.ProcessEnv): string {
  return requireBinary([name], what, INSTALL.psql, env, admin.binDir);
}

/**
 * Copies one database's contents into another that provision() just made:
 * when nothing is connected to the source, the server copies it file by
 * file (CREATE DATABASE … TEMPLATE), its objects then handed to the new
 * database's role; else (or when that fails) pg_dump as the administrator,
 * restored as the new database's own role, so everything in the copy
 * belongs to it.
 */
export async function cloneIn(admin: PgAdmin, from: ServiceRequest, to: ServiceRequest, target: Credentials, env: NodeJS.ProcessEnv, say: (line: string) => void = () => {}): Promise<void> {
  const began = Date.now();
  if (await templateCopy(admin, from, target)) {
    say(`copied PostgreSQL database "${resourceName(from)}" as a template in ${seconds(began)}`);
    return;
  }
  const dump = startClient(pgTool('pg_dump', 'cloning a database', admin, env), [...PORTABLE, ...admin.args, '-d', resourceName(from)], { env: admin.env, output: 'pipe' });
  const into = asService(target, target.database!);
  const load = startClient(admin.psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...into.args], { env: into.env, input: dump.child.stdout! });
  const [dumped, loaded] = await Promise.all([dump.exit, load.exit]);
  if (!dumped.ok || !loaded.ok) {
    throw new PaasmakerError('SERVICE_FAILED', `copying PostgreSQL database "${resourceName(from)}" into "${resourceName(to)}" failed`, { detail: lastLines(dumped.errors + loaded.errors) });
  }
}

/**
 * The fast copy: the empty database provision() made is replaced by one made
 * with the source as its template, which PostgreSQL allows only while no
 * session is connected to the source. False (the empty database back in
 * place) when the source is in use or the copy fails: the dump path follows.
 */
async function templateCopy(admin: PgAdmin, from: ServiceRequest, target: Credentials): Promise<boolean> {
  const source = resourceName(from);
  const database = target.database!;
  const owner = target.username!;
  const busy = await psql(admin, `SELECT count(*) FROM pg_stat_activity WHERE datname = ${sqlString(source)}`, 'counting connections to the source database').catch(() => 'unknown');
  if (busy.trim() !== '0') return false;
  const fresh = createDatabase(database, owner);
  const sourceOwner = (await psql(admin, `SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = ${sqlString(source)}`, 'reading the source database\'s owner')).trim();
  await psql(admin, `DROP DATABASE IF EXISTS ${pgIdent(database)}`, `replacing the empty database "${database}"`);
  try {
    await psql(admin, `CREATE DATABASE ${pgIdent(database)} OWNER ${pgIdent(owner)} TEMPLATE ${pgIdent(source)}`, `copying "${source}" into "${database}"`);
  } catch {
    await psql(admin, `${fresh.create};\n${fresh.close}`, `making database "${database}" again`);
    return false;
  }
  // The copy's objects belong to the source's role: hand them to the new one. REASSIGN OWNED also
  // passes the source database itself (a shared object) over, so its owner is put back in the same step.
  const handOver = sourceOwner && sourceOwner !== owner ? `REASSIGN OWNED BY ${pgIdent(sourceOwner)} TO ${pgIdent(owner)};\nALTER DATABASE ${pgIdent(source)} OWNER TO ${pgIdent(sourceOwner)};\n` : '';
  try {
    await psql(admin, `BEGIN;\n${handOver}COMMIT;\n${fresh.close}`, `giving "${database}" to its role`, [], database);
  } catch {
    // An administrator that may not reassign (a restricted external server): the copy goes, the dump path makes it.
    await psql(admin, `DROP DATABASE IF EXISTS ${pgIdent(database)};\n${fresh.create};\n${fresh.close}`, `making database "${database}" again`);
    return false;
  }
  return true;
}

/** pg_dump -Fc of the service's database, as the administrator, into `file` (new, 0600); a failed or stopped dump leaves no file. */
export async function dumpIn(admin: PgAdmin, request: ServiceRequest, file: string, step: DataStep, env: NodeJS.ProcessEnv): Promise<void> {
  const name = resourceName(request);
  const began = Date.now();
  const size = await commandToFile(file, {
    command: pgTool('pg_dump', 'dumping a PostgreSQL database', admin, env),
    args: ['-Fc', ...PORTABLE, ...admin.args, '-d', name],
    env: admin.env,
    what: `dumping PostgreSQL database "${name}"`,
    step,
    secrets: Object.values(admin.env),
  });
  step.say(`dumped PostgreSQL database "${name}": ${sizeText(size)} in ${seconds(began)}`);
}

/** Refuses a file that is not a custom-format dump pg_restore can read, before anything is touched. */
async function checkDump(file: string, pgRestore: string): Promise<void> {
  const found = await sniffDump(file).catch((error: NodeJS.ErrnoException) => {
    throw dumpInvalid(file, 'postgresql', `it cannot be read (${error.code ?? error.message})`);
  });
  if (found.format === 'mysql' && !found.gzip) {
    throw dumpInvalid(file, 'postgresql', 'is not a PostgreSQL dump (pg_dump -Fc): it is SQL text', {
      predicate: true,
      hint: 'give a dump made by paasmaker db dump, or by pg_dump -Fc (custom format); a plain SQL dump loads with psql through paasmaker db shell; nothing was changed',
    });
  }
  if (found.format !== 'postgresql' || found.gzip) throw await wrongKind(file, 'postgresql', 'a PostgreSQL dump (pg_dump -Fc)');
  await runClient(pgRestore, ['-l', file], { what: `reading the table of contents of ${basename(file)}`, timeoutMs: 120_000 }).catch((error: PaasmakerError) => {
    throw dumpInvalid(file, 'postgresql', 'pg_restore cannot read its table of contents (damaged or cut short)', { detail: error.detail });
  });
}

/** pg_restore's own words that say the file could not be read whole (not what the server refused). */
function unreadable(detail: string | undefined): boolean {
  return (detail ?? '').split('\n').some((line) => line.startsWith('pg_restore: error:') && !line.includes('could not execute query') && UNREADABLE.test(line));
}

/**
 * Replaces the service's database with `file`'s contents: checked, loaded
 * into a fresh database as the service's own role (so it owns every object),
 * then swapped in under the service's name, the old one dropped. Anything
 * wrong before the swap drops the fresh copy and leaves the data as it was;
 * once the swap has committed the restore has succeeded, and an old database
 * that could not be dropped is a warning naming it. pg_restore reads the
 * file on its stdin: one job (-j needs a file it can seek, and did not help;
 * see bench/README.md, snapshots).
 *
 * What belongs to the database itself rather than to what pg_dump writes of
 * it is not carried over: settings made with ALTER DATABASE … SET, a
 * COMMENT ON DATABASE, and rights on the database granted to roles other
 * than the service's own. The restored database is made as provision()
 * makes one (owned by the service's role, closed to every other).
 */
/** The check a restore makes first (a PostgreSQL custom-format dump whose table of contents pg_restore reads), on its own. */
export async function checkIn(admin: PgAdmin, file: string, env: NodeJS.ProcessEnv): Promise<void> {
  await checkDump(file, pgTool('pg_restore', 'checking a PostgreSQL dump', admin, env));
}

export async function restoreIn(admin: PgAdmin, request: ServiceRequest, target: Credentials, file: string, step: DataStep, env: NodeJS.ProcessEnv): Promise<void> {
  const name = resourceName(request);
  const label = basename(file);
  const pgRestore = pgTool('pg_restore', 'restoring a PostgreSQL database', admin, env);
  await checkDump(file, pgRestore);
  const what = `restoring PostgreSQL database "${name}"`;
  throwIfStopped(step, what);
  const began = Date.now();
  const { fresh, old } = sideNames(name, PG_NAME_MAX);
  busySideNames.add(fresh);
  try {
    const database = createDatabase(fresh, target.username!);
    await psql(admin, `${database.create};\n${database.close}\n`, `creating the database "${fresh}" to restore into`);
    step.say(`restoring ${label} into a fresh database "${fresh}" as the role "${target.username}"`);
    try {
      const into = asService(target, fresh);
      await fileToCommand(file, { command: pgRestore, args: [...PORTABLE, '--exit-on-error', ...into.args], env: into.env, what, step, secrets: [target.password!] });
    } catch (error) {
      // The error that matters is the restore's: a drop that fails is said, never thrown over it.
      await dropDatabase(admin, fresh).catch((again: Error) => step.say(`warning: could not drop the fresh database "${fresh}": ${again.message}`));
      if (step.signal?.aborted || !(error instanceof PaasmakerError) || error.code !== 'SERVICE_FAILED') throw error;
      if (unreadable(error.detail)) throw dumpInvalid(file, 'postgresql', 'pg_restore could not read it to its end (cut short or damaged)', { detail: error.detail });
      throw new PaasmakerError('SERVICE_FAILED', `restoring ${label} into "${name}" failed; "${name}" is unchanged`, {
        hint: `what pg_restore could not do is below; the dump loads as the service's own role "${target.username}", which may not create what needs a superuser (some extensions)`,
        detail: error.detail,
      });
    }
    step.say(`restored into a fresh database in ${seconds(began)}; swapping it in for "${name}"`);
    await swapIn(admin, name, fresh, old, step);
  } finally {
    busySideNames.delete(fresh);
  }
  step.say(`restored "${name}" from ${label} in ${seconds(began)}`);
}

async function dropDatabase(admin: PgAdmin, database: string): Promise<void> {
  await psql(
    admin,
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${sqlString(database)};\nDROP DATABASE IF EXISTS ${pgIdent(database)};\n`,
    `dropping the database "${database}"`,
    [],
    'postgres',
    DROP_TIMEOUT_MS,
  );
}

/**
 * Puts `fresh` under the service's name: no new connections to either
 * database, their sessions ended (the app's, and autovacuum's on the fresh
 * copy), both renamed in one transaction, the old one dropped. Apps
 * reconnect to the new one with the same credentials. Once the renames have
 * committed the restore is done: an old database that cannot be dropped is
 * left, and said, and swept at the next provision.
 */
async function swapIn(admin: PgAdmin, name: string, fresh: string, old: string, step: DataStep): Promise<void> {
  const [current, next, previous] = [pgIdent(name), pgIdent(fresh), pgIdent(old)];
  try {
    // A session takes a moment to end after it is told to, and renaming waits for none: tried again until they are gone.
    await retry(
      () =>
        psql(
          admin,
          `ALTER DATABASE ${current} ALLOW_CONNECTIONS false;
ALTER DATABASE ${next} ALLOW_CONNECTIONS false;
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN (${sqlString(name)}, ${sqlString(fresh)}) AND pid <> pg_backend_pid();
BEGIN;
ALTER DATABASE ${current} RENAME TO ${previous};
ALTER DATABASE ${next} RENAME TO ${current};
ALTER DATABASE ${current} ALLOW_CONNECTIONS true;
COMMIT;
`,
          `swapping the restored database in for "${name}"`,
        ),
      10_000,
      50,
    );
  } catch (error) {
    await psql(admin, `ALTER DATABASE ${current} ALLOW_CONNECTIONS true;\n`, `opening "${name}" again`).catch((again: Error) => step.say(`warning: ${again.message}`));
    await dropDatabase(admin, fresh).catch((again: Error) => step.say(`warning: could not drop the fresh database "${fresh}": ${again.message}`));
    throw error;
  }
  await dropDatabase(admin, old).catch((error: Error) =>
    step.say(`warning: "${name}" is restored, but its old data could not be dropped: the database "${old}" is left (dropped at the service's next provision, or drop it yourself): ${error.message}`),
  );
}

/**
 * What a restore that was interrupted (a crash, a kill) left beside the
 * service's database: its fresh copy, or its old data after the swap. Only
 * names made by sideNames for this service, none a restore of this process
 * is using nor any database in use, and only while the service's own
 * database is there.
 */
export async function sweepSides(admin: PgAdmin, name: string, say: (line: string) => void): Promise<void> {
  const stem = PG_NAME_MAX - SIDE_SUFFIX;
  const listed = await psql(admin, `SELECT datname FROM pg_database WHERE left(datname, ${Math.min(name.length, stem)}) = left(${sqlString(name)}, ${stem});\n`, `looking for what a restore of "${name}" left`);
  const names = listed.split('\n').map((line) => line.trim()).filter(Boolean);
  if (!names.includes(name)) return;
  const leftovers = names.filter((database) => sideNameOf(database, name, PG_NAME_MAX) && !busySideNames.has(database) && !busySideNames.has(database.replace(/__old_/, '__new_')));
  for (const database of leftovers) {
    // Not one in use: a restore another paasmaker process of this home runs has its pg_restore connected (DROP refuses while anyone is).
    await psql(admin, `DROP DATABASE IF EXISTS ${pgIdent(database)};\n`, `dropping "${database}"`, [], 'postgres', DROP_TIMEOUT_MS).then(
      () => say(`dropped "${database}", left by an interrupted restore of "${name}"`),
      (error: Error) => say(`kept "${database}" (in use?): ${error.message}`),
    );
  }
}
