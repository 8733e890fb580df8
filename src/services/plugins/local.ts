import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { escapingName } from '../../shared/archive-names.js';
import { PaasmakerError } from '../../shared/errors.js';
import { sniffDump } from '../../shared/dump-formats.js';
import { byteSize } from '../../shared/usage-text.js';
import type { Credentials, DataStep, ServiceContext, ServicePlugin, ServiceRequest } from '../types.js';
import { resourceName } from '../names.js';
import { INSTALL, requireBinary } from '../binaries.js';
import { diskFull, dumpInvalid, gunzipFile, gzipFile, isDiskFull, runTar, TarFailure, throwIfStopped } from '../dump-files.js';
import { busySideNames, sideTag } from '../side-names.js';
import { describeSqlite, querySqlite } from './sqlite-query.js';

/** $PAASMAKER_HOME/data/<app>/ — where file-based services keep an app's data. */
function appDataDir(context: ServiceContext, request: ServiceRequest): string {
  const dir = join(context.home, 'data', request.app);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** What a copy beside a service's file or folder is for: one of these, in its name. */
type Beside = 'restore' | 'restore.tar' | 'old' | 'backup' | 'tar';

/** A hidden name beside `path` for a copy on its way in or out: .<name>.<what>-<8 hex> (the side-names tag). Marked busy until `done`. */
function beside(path: string, what: Beside): string {
  const name = join(dirname(path), `.${basename(path)}.${what}-${sideTag()}`);
  busySideNames.add(name);
  return name;
}

/** Removes a copy made beside a service's data, and forgets it. */
function removeBeside(path: string): void {
  rmSync(path, { recursive: true, force: true });
  busySideNames.delete(path);
}

/**
 * What a restore that was interrupted (a crash, a kill) left beside the
 * service's `path`: its half-made copies. An old folder is the only copy of
 * the data when the restore stopped between its two renames (`path` is
 * gone): it is put back; otherwise it is removed. Only names made by
 * beside() for this path, and none in use by this process.
 */
function sweepBeside(path: string, say: (line: string) => void): void {
  const prefix = `.${basename(path)}.`;
  const pattern = /^(restore|restore\.tar|old)-[0-9a-f]{8}(-wal|-shm|-journal)?$/;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = pattern.exec(name.slice(prefix.length));
    const leftover = join(dirname(path), name);
    if (!match || busySideNames.has(leftover)) continue;
    if (match[1] === 'old' && !match[2] && !existsSync(path)) {
      renameSync(leftover, path);
      say(`put ${basename(path)} back from ${name}, left by an interrupted restore`);
      continue;
    }
    rmSync(leftover, { recursive: true, force: true });
    say(`removed ${name}, left by an interrupted restore`);
  }
}

/** A new, empty file of mode 0600 (what a tool then writes into stays the owner's only). */
function privateFile(path: string): string {
  closeSync(openSync(path, 'wx', 0o600));
  return path;
}

/** Whether a restored SQLite file is a whole database: its header, then PRAGMA integrity_check; DUMP_INVALID when not. */
async function checkSqlite(copy: string, source: string, step: DataStep): Promise<void> {
  if (statSync(copy).size === 0) return; // an empty file is an empty database
  if ((await sniffDump(copy)).format !== 'sqlite') throw dumpInvalid(source, 'sqlite', 'it holds no SQLite database');
  const Database = (await import('better-sqlite3')).default;
  let problems: string[];
  try {
    const db = new Database(copy, { fileMustExist: true });
    try {
      problems = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((row) => row.integrity_check).filter((line) => line !== 'ok');
    } finally {
      db.close();
    }
  } catch (error) {
    throw dumpInvalid(source, 'sqlite', `SQLite says "${(error as Error).message}"`);
  }
  if (problems.length > 0) throw dumpInvalid(source, 'sqlite', `PRAGMA integrity_check says: ${problems.slice(0, 3).join('; ')}`);
  step.say('PRAGMA integrity_check: ok');
}

/** Removes a SQLite file's companions (write-ahead log, shared memory, rollback journal). */
function removeCompanions(path: string): void {
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}

const baseName = (request: ServiceRequest) => (request.branch ? `${request.service}@${resourceName({ app: '', service: request.branch, branch: '' })}` : request.service);

/**
 * SQLite's online backup of `path` into `copy`. While another connection
 * holds the database locked, a backup step copies nothing and better-sqlite3
 * takes that for the end: a copy of no pages from a database that has some
 * is tried again, for up to 10 s, then refused.
 */
async function backupWhole(db: import('better-sqlite3').Database, copy: string, path: string, step: DataStep): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { totalPages } = await db.backup(copy);
    if (totalPages > 0 || statSync(path).size === 0) return;
    throwIfStopped(step, `backing up ${basename(path)}`);
    if (Date.now() > deadline) {
      throw new PaasmakerError('SERVICE_FAILED', `${basename(path)} stayed locked by another connection for 10 s: nothing could be copied`, {
        hint: 'an open write transaction holds it (a migration, a sqlite3 shell): finish it, then dump again',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The default service: a SQLite file of the app's own. */
export function sqlitePlugin(context: ServiceContext): ServicePlugin {
  const file = (request: ServiceRequest) => join(appDataDir(context, request), `${baseName(request)}.sqlite`);
  return {
    name: 'sqlite',
    summary: 'a SQLite database file under $PAASMAKER_HOME/data',
    kind: 'sql',
    async provision(request): Promise<Credentials> {
      const path = file(request);
      sweepBeside(path, context.say);
      // An empty file is a valid, empty database; creating it here makes it the owner's only.
      if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
      return { protocol: 'sqlite', path, database: path, url: `sqlite://${path}` };
    },
    async destroy(request) {
      const path = file(request);
      rmSync(path, { force: true });
      removeCompanions(path);
    },
    async clone(from, to) {
      // provision() made the new file empty; only an empty one is replaced.
      if (existsSync(file(from)) && statSync(file(to)).size === 0) copyFileSync(file(from), file(to));
    },
    shell: (credentials) => ({ command: requireBinary(['sqlite3'], 'paasmaker db shell', INSTALL.sqlite3, context.env), args: [credentials.path!], env: {} }),
    query: (request, query) => querySqlite(file(request), query),
    describe: (request) => describeSqlite(file(request)),
    dumpFormat: 'sqlite',
    // SQLite's online backup API: a consistent copy while the app goes on writing, then gzip.
    async dump(request, target, step) {
      const path = file(request);
      if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
      const copy = privateFile(beside(target, 'backup'));
      try {
        step.say(`backing up ${basename(path)} (${byteSize(statSync(path).size)}) with SQLite's online backup`);
        const Database = (await import('better-sqlite3')).default;
        const db = new Database(path, { readonly: true, fileMustExist: true });
        try {
          await backupWhole(db, copy, path, step);
        } catch (error) {
          if (isDiskFull(error)) throw diskFull(target, `backing up ${basename(path)}`, (error as Error).message);
          throw error;
        } finally {
          db.close();
        }
        throwIfStopped(step, `the dump of ${basename(path)}`);
        await gzipFile(copy, target, step);
        step.say(`compressed to ${byteSize(statSync(target).size)}`);
      } finally {
        removeBeside(copy);
      }
    },
    // The dump becomes a new file beside the live one, checked whole, then renamed into its place.
    async restore(request, source, step) {
      const path = file(request);
      const fresh = beside(path, 'restore');
      try {
        const { gzip } = await sniffDump(source);
        await gunzipFile(source, fresh, 'sqlite', { gzip, step });
        const size = statSync(fresh).size;
        await checkSqlite(fresh, source, step);
        removeCompanions(fresh);
        throwIfStopped(step, `the restore of ${basename(path)}`);
        renameSync(fresh, path);
        // The old database's log and shared memory would be replayed into the new one.
        removeCompanions(path);
        step.say(`restored ${basename(path)} (${byteSize(size)})`);
      } finally {
        removeBeside(fresh);
        removeCompanions(fresh);
      }
    },
  };
}

/** A folder that outlives every deploy (uploads, caches): <NAME>_PATH. */
export function filesystemPlugin(context: ServiceContext): ServicePlugin {
  const folder = (request: ServiceRequest) => join(appDataDir(context, request), baseName(request));
  return {
    name: 'filesystem',
    summary: 'a persistent folder under $PAASMAKER_HOME/data',
    kind: 'file',
    async provision(request) {
      const path = folder(request);
      sweepBeside(path, context.say);
      mkdirSync(path, { recursive: true, mode: 0o700 });
      return { protocol: 'file', path };
    },
    async destroy(request) {
      rmSync(folder(request), { recursive: true, force: true });
    },
    dumpFormat: 'filesystem',
    async dump(request, target, step) {
      const path = folder(request);
      mkdirSync(path, { recursive: true, mode: 0o700 });
      const archive = privateFile(beside(target, 'tar'));
      try {
        step.say(`archiving ${path}`);
        // Exit 1 is GNU tar's "a file changed as it was read": the app went on writing, the archive is whole.
        await runTar(['-c', '-f', archive, '-C', path, '.'], { step, okCodes: [1] });
        await gzipFile(archive, target, step);
        step.say(`compressed to ${byteSize(statSync(target).size)}`);
      } finally {
        removeBeside(archive);
      }
    },
    // The archive is listed whole and unpacked into a new folder beside the live one, which then takes its place.
    async restore(request, source, step) {
      const path = folder(request);
      const archive = beside(path, 'restore.tar');
      const fresh = beside(path, 'restore');
      const old = beside(path, 'old');
      try {
        const { gzip } = await sniffDump(source);
        await gunzipFile(source, archive, 'filesystem', { gzip, step });
        const listing = await runTar(['-t', '-f', archive], { step }).catch((failure: unknown) => {
          throw failure instanceof TarFailure ? dumpInvalid(source, 'filesystem', `tar says "${failure.stderr || failure.message}"`) : failure;
        });
        const names = listing.split('\n').filter(Boolean);
        const escaping = names.filter(escapingName);
        if (escaping.length > 0) throw dumpInvalid(source, 'filesystem', `it holds paths outside its folder: ${escaping.slice(0, 3).join(', ')}`);
        step.say(`${names.length} entries, unpacking`);
        mkdirSync(fresh, { mode: 0o700 });
        await runTar(['-x', '-f', archive, '-C', fresh, '--no-same-owner'], { step });
        throwIfStopped(step, `the restore of ${basename(path)}`);
        const had = existsSync(path);
        if (had) renameSync(path, old);
        try {
          renameSync(fresh, path);
        } catch (error) {
          if (had) renameSync(old, path);
          throw error;
        }
        step.say(`restored ${path}`);
      } finally {
        for (const leftover of [archive, fresh, old]) removeBeside(leftover);
      }
    },
  };
}

/** A parameters service's values: its options as strings (JSON for what is not one), the platform's own options left out. */
export function parameterValues(options: Record<string, unknown>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === 'admin_url' || key === 'per_branch' || key === 'clone_from') continue;
    values[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return values;
}

/** Values from config or the manifest, handed over as they are (the original's parameters service). */
export function parametersPlugin(): ServicePlugin {
  return {
    name: 'parameters',
    summary: 'values passed through from config.yml or the manifest',
    kind: 'values',
    async provision(request) {
      return { protocol: 'parameters', values: parameterValues(request.options) };
    },
    async destroy() {},
  };
}
