import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { escapingName } from '../../shared/archive-names.js';
import { sniffDump } from '../../shared/dump-formats.js';
import { byteSize } from '../../shared/usage-text.js';
import type { Credentials, DataStep, ServiceContext, ServicePlugin, ServiceRequest } from '../types.js';
import { resourceName } from '../names.js';
import { INSTALL, requireBinary } from '../binaries.js';
import { dumpInvalid, gunzipFile, gzipFile, runTar, TarFailure } from '../dump-files.js';

/** $PAASMAKER_HOME/data/<app>/ — where file-based services keep an app's data. */
function appDataDir(context: ServiceContext, request: ServiceRequest): string {
  const dir = join(context.home, 'data', request.app);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** A hidden name beside `path` for a copy on its way in or out: .<name>.<what>-<random>. */
const beside = (path: string, what: string) => join(dirname(path), `.${basename(path)}.${what}-${randomBytes(4).toString('hex')}`);

/** A new, empty file of mode 0600 (what a tool then writes into stays the owner's only). */
function privateFile(path: string): string {
  closeSync(openSync(path, 'wx', 0o600));
  return path;
}

/** The SQLite header of a non-empty database file. */
const SQLITE_HEADER = 'SQLite format 3\0';

/** Whether a restored SQLite file is a whole database: its header, then PRAGMA integrity_check; DUMP_INVALID when not. */
async function checkSqlite(copy: string, source: string, step: DataStep): Promise<void> {
  if (statSync(copy).size === 0) return; // an empty file is an empty database
  const head = Buffer.alloc(16);
  const fd = openSync(copy, 'r');
  try {
    readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString('latin1') !== SQLITE_HEADER) throw dumpInvalid(source, 'sqlite', 'it holds no SQLite database');
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

/** The default service: a SQLite file of the app's own. */
export function sqlitePlugin(context: ServiceContext): ServicePlugin {
  const file = (request: ServiceRequest) => join(appDataDir(context, request), `${baseName(request)}.sqlite`);
  return {
    name: 'sqlite',
    summary: 'a SQLite database file under $PAASMAKER_HOME/data',
    kind: 'sql',
    async provision(request): Promise<Credentials> {
      const path = file(request);
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
          await db.backup(copy);
        } finally {
          db.close();
        }
        step.signal?.throwIfAborted();
        await gzipFile(copy, target, step.signal);
        step.say(`compressed to ${byteSize(statSync(target).size)}`);
      } finally {
        rmSync(copy, { force: true });
      }
    },
    // The dump becomes a new file beside the live one, checked whole, then renamed into its place.
    async restore(request, source, step) {
      const path = file(request);
      const fresh = beside(path, 'restore');
      try {
        const { gzip } = await sniffDump(source);
        await gunzipFile(source, fresh, 'sqlite', { gzip, signal: step.signal });
        const size = statSync(fresh).size;
        await checkSqlite(fresh, source, step);
        removeCompanions(fresh);
        step.signal?.throwIfAborted();
        renameSync(fresh, path);
        // The old database's log and shared memory would be replayed into the new one.
        removeCompanions(path);
        step.say(`restored ${basename(path)} (${byteSize(size)})`);
      } finally {
        rmSync(fresh, { force: true });
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
        await runTar(['-c', '-f', archive, '-C', path, '.'], { signal: step.signal, okCodes: [1] });
        await gzipFile(archive, target, step.signal);
        step.say(`compressed to ${byteSize(statSync(target).size)}`);
      } finally {
        rmSync(archive, { force: true });
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
        await gunzipFile(source, archive, 'filesystem', { gzip, signal: step.signal });
        const listing = await runTar(['-t', '-f', archive], { signal: step.signal }).catch((failure: unknown) => {
          throw failure instanceof TarFailure ? dumpInvalid(source, 'filesystem', `tar says "${failure.stderr || failure.message}"`) : failure;
        });
        const names = listing.split('\n').filter(Boolean);
        const escaping = names.filter(escapingName);
        if (escaping.length > 0) throw dumpInvalid(source, 'filesystem', `it holds paths outside its folder: ${escaping.slice(0, 3).join(', ')}`);
        step.say(`${names.length} entries, unpacking`);
        mkdirSync(fresh, { mode: 0o700 });
        await runTar(['-x', '-f', archive, '-C', fresh, '--no-same-owner'], { signal: step.signal });
        step.signal?.throwIfAborted();
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
        for (const leftover of [archive, fresh, old]) rmSync(leftover, { recursive: true, force: true });
      }
    },
  };
}

/** Values from config or the manifest, handed over as they are (the original's parameters service). */
export function parametersPlugin(): ServicePlugin {
  return {
    name: 'parameters',
    summary: 'values passed through from config.yml or the manifest',
    kind: 'values',
    async provision(request) {
      const values: Record<string, string> = {};
      for (const [key, value] of Object.entries(request.options)) {
        if (key === 'admin_url' || key === 'per_branch' || key === 'clone_from') continue;
        values[key] = typeof value === 'string' ? value : JSON.stringify(value);
      }
      return { protocol: 'parameters', values };
    },
    async destroy() {},
  };
}
