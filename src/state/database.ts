import Database from 'better-sqlite3';
import { accessSync, chmodSync, closeSync, constants, existsSync, lstatSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { failedForSpace, filesystemOf, type DiskSpace } from '../shared/disk-space.js';
import { PaasmakerError } from '../shared/errors.js';
import { ensurePrivateDir } from '../shared/paths.js';
import { migrations } from './migrations.js';

export type Db = Database.Database;

/** SQLite keeps these beside the database in WAL mode; they hold the same data and get the same mode. */
const SIDE_FILES = ['-wal', '-shm'];

/**
 * Opens (creating if needed) the state database in WAL mode, checks it and
 * migrates it. A file that cannot serve (damaged, not a database, not
 * writable, no room on the disk) is a PaasmakerError naming the file, what
 * is wrong and what to do; nothing is ever deleted or moved by Paasmaker.
 */
/** Up to this size every open checks the whole file (a few ms); above it only a platform's open does. */
const CHECK_ALWAYS_BYTES = 16 * 1024 * 1024;

export function openDatabase(file: string, options: { fullCheck?: boolean } = {}): Db {
  try {
    ensurePrivateDir(dirname(file));
    prepareFile(file);
  } catch (error) {
    throw explain(file, error);
  }
  let db: Db | undefined;
  try {
    // Several Paasmaker processes (two `up`s, a `ps`) may open the file at once:
    // wait for a lock (set before the first statement, WAL switch included).
    db = new Database(file, { timeout: 10_000 });
    // SQLite answers BUSY without waiting when two connections race to set up a
    // fresh file (switching to WAL, creating tables): retry those briefly.
    retryBusy(() => db!.pragma('journal_mode = WAL'));
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    checkIntegrity(db, file, options.fullCheck);
    // SQLite falls back to reading when it may not write: a platform that cannot write is no platform.
    retryBusy(() => db!.exec('BEGIN IMMEDIATE; ROLLBACK'));
    retryBusy(() => migrate(db!));
    return db;
  } catch (error) {
    if (db?.open) db.close();
    throw explain(file, error);
  }
}

/** A damaged file is an error at open: always up to CHECK_ALWAYS_BYTES, above it when asked. */
function checkIntegrity(db: Db, file: string, full = false): void {
  const check = full || statSync(file).size <= CHECK_ALWAYS_BYTES ? db.pragma('quick_check(1)', { simple: true }) : 'ok';
  if (check !== 'ok') throw Object.assign(new Error(String(check).split('\n').slice(0, 2).join('; ')), { code: 'SQLITE_CORRUPT' });
}

/**
 * Opens an existing state database for reading only: no migration, no WAL
 * switch, no write of any kind (SQLite refuses them on this connection).
 * What a face reads when no platform runs.
 */
export function openReadOnlyDatabase(file: string): Db {
  try {
    const stat = lstatSync(file);
    if (stat.isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    if (!stat.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'NOTFILE' });
  } catch (error) {
    throw explain(file, error);
  }
  let db: Db | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 10_000 });
    checkIntegrity(db, file, false);
    return db;
  } catch (error) {
    if (db?.open) db.close();
    throw explain(file, error);
  }
}

/**
 * A new file is created readable by its owner only (SQLite gives the WAL and
 * shared-memory files the database's mode); existing ones lose group and other bits.
 */
function prepareFile(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  const stat = lstatSync(file);
  if (stat.isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
  if (!stat.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'NOTFILE' });
  for (const path of [file, ...SIDE_FILES.map((suffix) => `${file}${suffix}`)]) {
    try {
      const mode = statSync(path).mode & 0o777;
      if (mode & 0o077) chmodSync(path, mode & 0o700);
    } catch {
      // absent, or not ours to change
    }
  }
  accessSync(file, constants.R_OK | constants.W_OK);
  // The WAL and shared-memory files are created beside it.
  accessSync(dirname(file), constants.W_OK | constants.X_OK);
}

/**
 * The user's view of an error opening or reading the state: which file, what
 * is wrong, what to do. Errors that are not about the file are returned as they are.
 */
export function explain(file: string, error: unknown): unknown {
  if (error instanceof PaasmakerError) return error;
  const code = String((error as { code?: unknown }).code ?? '');
  const message = (error as Error).message ?? String(error);
  const dir = dirname(file);
  const moveAside = [file, ...SIDE_FILES.map((suffix) => `${file}${suffix}`)]
    .filter((path) => path === file || existsSync(path))
    .map((path) => `mv ${path} ${path}.damaged`)
    .join(' && ');
  const rebuild = `Paasmaker rebuilds its state from empty (apps come back on their next \`paasmaker up\`; service data lives elsewhere, in ${dir}/services and ${dir}/data, and is kept). To start afresh, move it aside — nothing is deleted: ${moveAside}`;
  if (failedForSpace(error, dir)) {
    const filesystem = filesystemOf(dir);
    return new PaasmakerError('DISK_FULL', `no space left to write the state database ${file}: the disk holding it (${filesystem.mountPoint}) is full`, {
      hint: `free space on ${filesystem.mountPoint} (see: df -h ${dir}), then run the command again; nothing was lost`,
      cause: error,
    });
  }
  if (code === 'EISDIR') return new PaasmakerError('STATE_DAMAGED', `the state database ${file} is a directory, not a file`, { hint: rebuild.replace(/\.damaged/g, '.moved'), cause: error });
  if (code === 'NOTFILE') return new PaasmakerError('STATE_DAMAGED', `the state database ${file} is not a regular file`, { hint: rebuild.replace(/\.damaged/g, '.moved'), cause: error });
  if (code === 'SQLITE_NOTADB') return new PaasmakerError('STATE_DAMAGED', `the state database ${file} is not an SQLite database (${message})`, { hint: rebuild, cause: error });
  if (code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_')) return new PaasmakerError('STATE_DAMAGED', `the state database ${file} is damaged (${message})`, { hint: rebuild, cause: error });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code === 'SQLITE_CANTOPEN') {
    const folder = !folderWritable(dir);
    const what = code === 'EROFS' ? 'it is on a read-only file system' : code === 'SQLITE_CANTOPEN' ? 'it cannot be opened' : folder ? `you may not write its folder ${dir}` : 'you may not write it';
    return new PaasmakerError('STATE_UNWRITABLE', `the state database ${file} cannot be written: ${what} (${code})`, {
      hint: `Paasmaker must write it: make it yours and writable (ls -l ${folder ? dir : file}; chmod u+w ${folder ? dir : file}), or set PAASMAKER_HOME to a folder you own. ${rebuild}`,
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') {
    return new PaasmakerError('STATE_DAMAGED', `the state database ${file} could not be read or written (${code}: ${message})`, { hint: `check the disk it is on (dmesg may tell why). ${rebuild}`, cause: error });
  }
  return error;
}

function folderWritable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function retryBusy<T>(fn: () => T, attempts = 100): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (error) {
      if (!String((error as { code?: string }).code).startsWith('SQLITE_BUSY') || attempt >= attempts) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.random() * 40);
    }
  }
}

export function migrate(db: Db): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const done = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?');
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  for (const migration of migrations) {
    if (done.get(migration.version)) continue;
    // Asked again inside the write lock: another process may have just applied it.
    db.transaction(() => {
      if (done.get(migration.version)) return;
      db.exec(migration.sql);
      record.run(migration.version, Date.now());
    }).immediate();
  }
  return migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
}

/**
 * Writes that fail for want of space are dropped instead of thrown, and told
 * to `space`: the platform goes on degraded (routing, apps) and writes again
 * once there is room. Inside a transaction the error still propagates, so
 * SQLite rolls the whole transaction back; the outermost one drops it.
 * While degraded, writes are not even tried: one dropped row must not make
 * the next write fail another way (a process of an app never recorded).
 */
export function dropWritesWhenFull(db: Db, space: DiskSpace): void {
  let depth = 0;
  const prepare = db.prepare.bind(db);
  const transaction = db.transaction.bind(db);
  db.prepare = ((source: string) => {
    const statement = prepare(source);
    if (statement.reader) return statement;
    const run = statement.run.bind(statement);
    statement.run = ((...params: unknown[]) => {
      if (depth === 0 && space.degraded) return { changes: 0, lastInsertRowid: 0 };
      try {
        return run(...(params as []));
      } catch (error) {
        if (depth > 0 || !space.report(error, 'state.db')) throw error;
        return { changes: 0, lastInsertRowid: 0 };
      }
    }) as typeof statement.run;
    return statement;
  }) as typeof db.prepare;
  db.transaction = ((fn: (...args: unknown[]) => unknown) => {
    const inner = transaction(fn);
    return (...args: unknown[]) => {
      if (depth === 0 && space.degraded) return undefined;
      depth++;
      try {
        return inner(...args);
      } catch (error) {
        if (depth > 1 || !space.report(error, 'state.db')) throw error;
        return undefined;
      } finally {
        depth--;
      }
    };
  }) as typeof db.transaction;
}
