import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { PaasmakerError } from '../../shared/errors.js';
import { memoryText as sizeText } from '../../shared/usage-text.js';
import { INSTALL, requireBinary } from '../binaries.js';
import { commandToFile, dumpInvalid, fileKind, fileToCommand, throwIfStopped } from '../dump-files.js';
import { assertSafe, pgIdent, resourceName, sqlString } from '../names.js';
import { retry, runClient } from '../run-client.js';
import type { Credentials, DataStep, ServiceRequest } from '../types.js';
import { createDatabase, psql, type PgAdmin } from './postgres-admin.js';

/** Schema and data without owners and grants: whatever loads it (as the service's role) owns everything. */
const PORTABLE = ['--no-owner', '--no-privileges'];

/** What pg_restore says of a file it cannot read whole: cut short, damaged, or not a dump at all. */
const UNREADABLE = /input file|end of file|valid archive|magic string|file header|unsupported version|decompress|corrupt|unexpected data offset|could not find block/i;

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
  const pgDump = pgTool('pg_dump', 'cloning a database', admin, env);
  const dump = spawn(pgDump, [...PORTABLE, ...admin.args, '-d', resourceName(from)], { env: { ...process.env, ...admin.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const into = asService(target, target.database!);
  const restore = spawn(admin.psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...into.args], { env: { ...process.env, ...into.env }, stdio: ['pipe', 'ignore', 'pipe'] });
  dump.stdout.pipe(restore.stdin);
  let errors = '';
  dump.stderr.on('data', (chunk) => (errors += chunk));
  restore.stderr.on('data', (chunk) => (errors += chunk));
  const exit = (child: ReturnType<typeof spawn>) => new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const [dumped, restored] = await Promise.all([exit(dump), exit(restore)]);
  if (dumped !== 0 || restored !== 0) {
    throw new PaasmakerError('SERVICE_FAILED', `copying PostgreSQL database "${resourceName(from)}" into "${resourceName(to)}" failed`, { detail: errors.trim().split('\n').slice(-6).join('\n') || undefined });
  }
}

/** pg_dump -Fc of the service's database, as the administrator, into `file` (0600); a failed or stopped dump leaves no file. */
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

/** DUMP_INVALID in the words every plugin uses, with pg_restore's own below. */
function notWhole(file: string, why: string, detail: string | undefined): PaasmakerError {
  const invalid = dumpInvalid(file, 'postgresql', why);
  return new PaasmakerError('DUMP_INVALID', invalid.message, { hint: invalid.hint, detail });
}

/** Refuses a file that is not a custom-format dump pg_restore can read, before anything is touched. */
async function checkDump(file: string, pgRestore: string): Promise<void> {
  const kind = fileKind(file);
  if (kind !== 'a PostgreSQL dump (pg_dump -Fc)') {
    throw new PaasmakerError('DUMP_INVALID', `${basename(file)} is not a PostgreSQL dump (pg_dump -Fc): it is ${kind}`, {
      hint: 'give a dump made by paasmaker db dump, or by pg_dump -Fc (custom format); a plain SQL dump loads with psql through paasmaker db shell',
    });
  }
  await runClient(pgRestore, ['-l', file], { what: `reading the table of contents of ${file}`, timeoutMs: 120_000 }).catch((error: PaasmakerError) => {
    throw notWhole(file, 'pg_restore cannot read its table of contents (damaged or cut short)', error.detail);
  });
}

/** Names beside the service's database for the copy being filled and the old data being dropped: ≤ 63 bytes, unique. */
function sideNames(name: string): { fresh: string; old: string } {
  const tag = randomBytes(3).toString('hex');
  const stem = name.slice(0, 63 - 12);
  return { fresh: assertSafe(`${stem}__new_${tag}`), old: assertSafe(`${stem}__old_${tag}`) };
}

/** pg_restore's own words that say the file could not be read whole (not what the server refused). */
function unreadable(detail: string | undefined): boolean {
  return (detail ?? '').split('\n').some((line) => line.startsWith('pg_restore: error:') && !line.includes('could not execute query') && UNREADABLE.test(line));
}

/**
 * Replaces the service's database with `file`'s contents: checked, loaded
 * into a fresh database as the service's own role (so it owns every object),
 * then swapped in under the service's name, the old one dropped. Anything
 * wrong before the swap drops the fresh copy and leaves the data as it was.
 * pg_restore reads the file on its stdin: one job (-j needs a file it can
 * seek, and did not help; see bench/README.md, snapshots).
 */
export async function restoreIn(admin: PgAdmin, request: ServiceRequest, target: Credentials, file: string, step: DataStep, env: NodeJS.ProcessEnv): Promise<void> {
  const name = resourceName(request);
  const pgRestore = pgTool('pg_restore', 'restoring a PostgreSQL database', admin, env);
  await checkDump(file, pgRestore);
  const what = `restoring PostgreSQL database "${name}"`;
  throwIfStopped(step, what);
  const began = Date.now();
  const { fresh, old } = sideNames(name);
  const database = createDatabase(fresh, target.username!);
  await psql(admin, `${database.create};\n${database.close}\n`, `creating the database "${fresh}" to restore into`);
  step.say(`restoring ${file} into a fresh database "${fresh}" as the role "${target.username}"`);
  try {
    const into = asService(target, fresh);
    await fileToCommand(file, { command: pgRestore, args: [...PORTABLE, '--exit-on-error', ...into.args], env: into.env, what, step, secrets: [target.password!] });
  } catch (error) {
    await dropDatabase(admin, fresh);
    if (step.signal?.aborted || !(error instanceof PaasmakerError) || error.code !== 'SERVICE_FAILED') throw error;
    if (unreadable(error.detail)) throw notWhole(file, 'pg_restore could not read it to its end (cut short or damaged)', error.detail);
    throw new PaasmakerError('SERVICE_FAILED', `restoring ${file} into "${name}" failed; "${name}" is unchanged`, {
      hint: `what pg_restore could not do is below; the dump loads as the service's own role "${target.username}", which may not create what needs a superuser (some extensions)`,
      detail: error.detail,
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
