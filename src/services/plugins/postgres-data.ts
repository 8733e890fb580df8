import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import { PaasmakerError } from '../../shared/errors.js';
import { INSTALL, requireBinary } from '../binaries.js';
import { assertSafe, pgIdent, resourceName, sqlString } from '../names.js';
import { lastLines, retry, startClient, type ClientExit } from '../run-client.js';
import type { Credentials, DataStep, ServiceRequest } from '../types.js';
import { createDatabase, psql, type PgAdmin } from './postgres-admin.js';

/** Schema and data without owners and grants: whatever loads it (as the service's role) owns everything. */
const PORTABLE = ['--no-owner', '--no-privileges'];

/** What pg_restore says of a file it cannot read whole: cut short, damaged, or not a dump at all. */
const UNREADABLE = /input file|end of file|valid archive|magic string|file header|unsupported version|decompress|corrupt|unexpected data offset|could not find block/i;

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
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
 * pg_dump as the administrator, restored as the new database's own role,
 * so everything in the copy belongs to it.
 */
export async function cloneIn(admin: PgAdmin, from: ServiceRequest, to: ServiceRequest, target: Credentials, env: NodeJS.ProcessEnv): Promise<void> {
  const dump = startClient(pgTool('pg_dump', 'cloning a database', admin, env), [...PORTABLE, ...admin.args, '-d', resourceName(from)], { env: admin.env, output: 'pipe' });
  const into = asService(target, target.database!);
  const load = startClient(admin.psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...into.args], { env: into.env, input: dump.child.stdout! });
  const [dumped, loaded] = await Promise.all([dump.exit, load.exit]);
  if (!dumped.ok || !loaded.ok) {
    throw new PaasmakerError('SERVICE_FAILED', `copying PostgreSQL database "${resourceName(from)}" into "${resourceName(to)}" failed`, { detail: lastLines(dumped.errors + loaded.errors) });
  }
}

/** Calls `tick` about every second until the promise settles. */
async function ticking<T>(work: Promise<T>, tick: () => void): Promise<T> {
  const timer = setInterval(tick, 1000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

function stopped(step: DataStep, what: string): unknown {
  return step.signal?.reason ?? new PaasmakerError('SERVICE_FAILED', `${what} was stopped`);
}

/** pg_dump -Fc of the service's database, as the administrator, into `file` (0600); a failed or stopped dump leaves no file. */
export async function dumpIn(admin: PgAdmin, request: ServiceRequest, file: string, step: DataStep, env: NodeJS.ProcessEnv): Promise<void> {
  const name = resourceName(request);
  const pgDump = pgTool('pg_dump', 'dumping a PostgreSQL database', admin, env);
  step.signal?.throwIfAborted();
  const began = Date.now();
  const fd = openSync(file, 'w', 0o600);
  let exit: ClientExit;
  let size = 0;
  try {
    fchmodSync(fd, 0o600); // a file that was there keeps its mode otherwise
    // pg_dump writes to the file itself: a seekable output gets a table of contents with data offsets (pg_restore -j needs them).
    const dump = startClient(pgDump, ['-Fc', ...PORTABLE, ...admin.args, '-d', name], { env: admin.env, output: fd, signal: step.signal });
    exit = await ticking(dump.exit, () => step.say(`dumped ${megabytes(fstatSync(fd).size)}`));
    size = fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
  if (!exit.ok) {
    rmSync(file, { force: true });
    if (exit.aborted) throw stopped(step, `the dump of "${name}"`);
    if (/No space left on device|Disk quota exceeded/i.test(exit.errors)) {
      throw new PaasmakerError('DISK_FULL', `no space left for the dump of "${name}" in ${file}`, { hint: `free space on the disk holding ${file} (see: df -h), or dump somewhere else`, detail: lastLines(exit.errors) });
    }
    throw new PaasmakerError('SERVICE_FAILED', `pg_dump of the PostgreSQL database "${name}" failed (${exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`})`, {
      detail: lastLines(exit.errors),
    });
  }
  step.say(`dumped "${name}": ${megabytes(size)} in ${seconds(began)}`);
}

/** Refuses a file that is not a custom-format dump pg_restore can read, before anything is touched. */
async function checkDump(file: string, pgRestore: string): Promise<void> {
  const hint = 'a dump made by paasmaker db dump, or by pg_dump -Fc (custom format); a plain SQL dump loads with psql through paasmaker db shell';
  const magic = Buffer.alloc(5);
  try {
    const fd = openSync(file, 'r');
    try {
      readSync(fd, magic, 0, 5, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new PaasmakerError('DUMP_INVALID', `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { hint });
  }
  if (magic.toString('latin1') !== 'PGDMP') throw new PaasmakerError('DUMP_INVALID', `${file} is not a PostgreSQL dump (pg_dump -Fc): it does not begin with "PGDMP"`, { hint });
  const contents = await startClient(pgRestore, ['-l', file]).exit;
  if (!contents.ok) {
    throw new PaasmakerError('DUMP_INVALID', `${file} is not a PostgreSQL dump (pg_dump -Fc) that pg_restore can read: its table of contents is damaged or cut short`, {
      hint,
      detail: lastLines(contents.errors),
    });
  }
}

/** Names beside the service's database for the copy being filled and the old data being dropped: ≤ 63 bytes, unique. */
function sideNames(name: string): { fresh: string; old: string } {
  const tag = randomBytes(3).toString('hex');
  const stem = name.slice(0, 63 - 12);
  return { fresh: assertSafe(`${stem}__new_${tag}`), old: assertSafe(`${stem}__old_${tag}`) };
}

/** The lines of pg_restore's stderr worth showing: its errors and what it ran, not its progress (-v). */
const errorsOnly = (text: string) => text.split('\n').filter((line) => !/^pg_restore: (?!error|warning)/.test(line)).join('\n');

/**
 * Replaces the service's database with `file`'s contents: checked, loaded
 * into a fresh database as the service's own role (so it owns every object),
 * then swapped in under the service's name, the old one dropped. Anything
 * wrong before the swap drops the fresh copy and leaves the data as it was.
 */
export async function restoreIn(admin: PgAdmin, request: ServiceRequest, target: Credentials, file: string, step: DataStep, env: NodeJS.ProcessEnv, jobs = 1): Promise<void> {
  const name = resourceName(request);
  const pgRestore = pgTool('pg_restore', 'restoring a PostgreSQL database', admin, env);
  await checkDump(file, pgRestore);
  step.signal?.throwIfAborted();
  const began = Date.now();
  const { fresh, old } = sideNames(name);
  const database = createDatabase(fresh, target.username!);
  await psql(admin, `${database.create};\n${database.close}\n`, `creating the database "${fresh}" to restore into`);
  step.say(`restoring ${file} into a fresh database "${fresh}" as the role "${target.username}"`);
  let exit: ClientExit;
  try {
    let table = '';
    const into = asService(target, fresh);
    const load = startClient(pgRestore, ['-v', ...PORTABLE, '--exit-on-error', ...(jobs > 1 ? ['-j', String(jobs)] : []), ...into.args, file], {
      env: into.env,
      signal: step.signal,
      onError: (chunk) => (table = [...chunk.matchAll(/processing data for table "([^"]+)"/g)].at(-1)?.[1] ?? table),
    });
    exit = await ticking(load.exit, () => step.say(`restoring into a fresh database: ${seconds(began)}${table ? `, table ${table}` : ''}`));
  } catch (error) {
    await dropDatabase(admin, fresh);
    throw error;
  }
  if (!exit.ok) {
    await dropDatabase(admin, fresh);
    if (exit.aborted) throw stopped(step, `the restore of "${name}"`);
    const words = errorsOnly(exit.errors);
    const detail = lastLines(words);
    const ownErrors = words.split('\n').filter((line) => line.startsWith('pg_restore: error:') && !line.includes('could not execute query'));
    if (ownErrors.some((line) => UNREADABLE.test(line))) {
      throw new PaasmakerError('DUMP_INVALID', `${file} is not a whole PostgreSQL dump: pg_restore stopped part-way (the file is cut short or damaged); "${name}" is unchanged`, {
        hint: 'dump the database again and copy the file whole',
        detail,
      });
    }
    throw new PaasmakerError('SERVICE_FAILED', `restoring ${file} into "${name}" failed; "${name}" is unchanged`, {
      hint: `what pg_restore could not do is below; the dump loads as the service's own role "${target.username}", which may not create what needs a superuser (some extensions)`,
      detail,
    });
  }
  step.say(`restored into a fresh database in ${seconds(began)}; swapping it in for "${name}"`);
  await swapIn(admin, name, fresh, old);
  step.say(`restored "${name}" from ${file} in ${seconds(began)}`);
}

async function dropDatabase(admin: PgAdmin, database: string): Promise<void> {
  await psql(admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${sqlString(database)};\nDROP DATABASE IF EXISTS ${pgIdent(database)};\n`, `dropping the database "${database}"`);
}

/**
 * Puts `fresh` under the service's name: no new connections to either
 * database, their sessions ended (the app's, and autovacuum's on the fresh
 * copy), both renamed in one transaction, the old one dropped. Apps
 * reconnect to the new one with the same credentials.
 */
async function swapIn(admin: PgAdmin, name: string, fresh: string, old: string): Promise<void> {
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
    await psql(admin, `ALTER DATABASE ${current} ALLOW_CONNECTIONS true;\n`, `opening "${name}" again`).catch(() => {});
    await dropDatabase(admin, fresh).catch(() => {});
    throw error;
  }
  await psql(admin, `DROP DATABASE IF EXISTS ${previous};\n`, `dropping the old data of "${name}"`);
}
