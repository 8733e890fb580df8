import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { ensurePrivateDir } from '../shared/paths.js';
import { migrations } from './migrations.js';

export type Db = Database.Database;

/** Opens (creating if needed) the state database in WAL mode and migrates it. */
export function openDatabase(file: string): Db {
  ensurePrivateDir(dirname(file));
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Several Paasmaker processes (an `up`, a `ps`) may touch the file at once.
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: Db): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const applied = new Set(
    db.prepare('SELECT version FROM schema_migrations').all().map((row) => (row as { version: number }).version),
  );
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.version, Date.now());
    }).immediate();
  }
  return migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
}
