import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { ensurePrivateDir } from '../shared/paths.js';
import { migrations } from './migrations.js';

export type Db = Database.Database;

/** Opens (creating if needed) the state database in WAL mode and migrates it. */
export function openDatabase(file: string): Db {
  ensurePrivateDir(dirname(file));
  // Several Paasmaker processes (two `up`s, a `ps`) may open the file at once:
  // wait for a lock (set before the first statement, WAL switch included).
  const db = new Database(file, { timeout: 10_000 });
  // SQLite answers BUSY without waiting when two connections race to set up a
  // fresh file (switching to WAL, creating tables): retry those briefly.
  retryBusy(() => db.pragma('journal_mode = WAL'));
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  retryBusy(() => migrate(db));
  return db;
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
