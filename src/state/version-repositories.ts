import type { Db } from './database.js';

/** A deployed version as state.db keeps it. */
export interface VersionRecord {
  app: string;
  number: number;
  state: 'preparing' | 'ready' | 'failed';
  kind: 'git' | 'archive' | 'folder';
  source: string;
  ref: string | null;
  commit: string | null;
  author: string | null;
  message: string | null;
  dirty: boolean;
  size: number;
  job: string | null;
  directory: string;
  /** The manifest file it runs from, once exported. */
  manifest: string | null;
  error: string | null;
  /** Epoch ms. */
  createdAt: number;
}

export interface VersionPointers {
  app: string;
  current: number | null;
  previous: number | null;
  /** Whether the current version runs (deploy, switch) or was taken down (paasmaker down): the daemon brings it back when it starts. */
  running: boolean;
}

function record(row: Record<string, unknown>): VersionRecord {
  return {
    app: row.app as string,
    number: row.number as number,
    state: row.state as VersionRecord['state'],
    kind: row.kind as VersionRecord['kind'],
    source: row.source as string,
    ref: (row.ref as string | null) ?? null,
    commit: (row.commit_id as string | null) ?? null,
    author: (row.author as string | null) ?? null,
    message: (row.message as string | null) ?? null,
    dirty: row.dirty === 1,
    size: row.size as number,
    job: (row.job as string | null) ?? null,
    directory: row.directory as string,
    manifest: (row.manifest as string | null) ?? null,
    error: (row.error as string | null) ?? null,
    createdAt: row.created_at as number,
  };
}

export class VersionsRepository {
  constructor(private readonly db: Db) {}

  /** The next number of an app's versions (never one used before, even pruned), taken. */
  allocate(app: string): number {
    return this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO version_pointers (app) VALUES (?)').run(app);
      const { next } = this.db.prepare('SELECT next FROM version_pointers WHERE app = ?').get(app) as { next: number };
      this.db.prepare('UPDATE version_pointers SET next = ? WHERE app = ?').run(next + 1, app);
      return next;
    })();
  }

  create(version: Omit<VersionRecord, 'manifest' | 'error' | 'commit' | 'author' | 'message' | 'ref' | 'dirty' | 'size'> & Partial<VersionRecord>): void {
    this.db
      .prepare(
        `INSERT INTO versions (app, number, state, kind, source, ref, commit_id, author, message, dirty, size, job, directory, manifest, error, created_at)
         VALUES (@app, @number, @state, @kind, @source, @ref, @commit, @author, @message, @dirty, @size, @job, @directory, @manifest, @error, @createdAt)`,
      )
      .run({ ref: null, commit: null, author: null, message: null, size: 0, manifest: null, error: null, ...version, dirty: version.dirty ? 1 : 0 });
  }

  /** What the export learnt of its source. */
  describe(app: string, number: number, about: Pick<VersionRecord, 'kind' | 'source' | 'ref' | 'commit' | 'author' | 'message' | 'dirty' | 'size'>): void {
    this.db
      .prepare('UPDATE versions SET kind = ?, source = ?, ref = ?, commit_id = ?, author = ?, message = ?, dirty = ?, size = ? WHERE app = ? AND number = ?')
      .run(about.kind, about.source, about.ref, about.commit, about.author, about.message, about.dirty ? 1 : 0, about.size, app, number);
  }

  setManifest(app: string, number: number, manifest: string): void {
    this.db.prepare('UPDATE versions SET manifest = ? WHERE app = ? AND number = ?').run(manifest, app, number);
  }

  setState(app: string, number: number, state: VersionRecord['state'], error: string | null = null): void {
    this.db.prepare('UPDATE versions SET state = ?, error = ? WHERE app = ? AND number = ?').run(state, error, app, number);
  }

  get(app: string, number: number): VersionRecord | undefined {
    const row = this.db.prepare('SELECT * FROM versions WHERE app = ? AND number = ?').get(app, number) as Record<string, unknown> | undefined;
    return row ? record(row) : undefined;
  }

  /** An app's versions, newest first. */
  list(app: string): VersionRecord[] {
    return (this.db.prepare('SELECT * FROM versions WHERE app = ? ORDER BY number DESC').all(app) as Record<string, unknown>[]).map(record);
  }

  remove(app: string, number: number): void {
    this.db.prepare('DELETE FROM versions WHERE app = ? AND number = ?').run(app, number);
  }

  /** Versions a platform that stopped left preparing: they will never finish. */
  failUnfinished(error: string): void {
    this.db.prepare("UPDATE versions SET state = 'failed', error = ? WHERE state = 'preparing'").run(error);
  }

  pointers(app: string): VersionPointers {
    const row = this.db.prepare('SELECT current, previous, running FROM version_pointers WHERE app = ?').get(app) as { current: number | null; previous: number | null; running: number } | undefined;
    return { app, current: row?.current ?? null, previous: row?.previous ?? null, running: row?.running === 1 };
  }

  /** Apps whose current version should run (the daemon brings them back). */
  runningApps(): string[] {
    return (this.db.prepare('SELECT app FROM version_pointers WHERE running = 1 AND current IS NOT NULL ORDER BY app').all() as Array<{ app: string }>).map((row) => row.app);
  }

  setPointers(app: string, pointers: { current: number | null; previous: number | null }): void {
    this.db.prepare('INSERT OR IGNORE INTO version_pointers (app) VALUES (?)').run(app);
    this.db.prepare('UPDATE version_pointers SET current = ?, previous = ? WHERE app = ?').run(pointers.current, pointers.previous, app);
  }

  setRunning(app: string, running: boolean): void {
    this.db.prepare('UPDATE version_pointers SET running = ? WHERE app = ?').run(running ? 1 : 0, app);
  }
}
