import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Platform } from '../../src/engine/index.js';
import { loadManifest, type ResolvedManifest } from '../../src/manifest/index.js';
import { tempHome } from '../helpers/cli.js';
import { mountTmpfs } from '../helpers/tmpfs.js';

const probe = mountTmpfs(1);
if ('skip' in probe) console.warn(`skipping the full-disk dump test: ${probe.skip}`);
else probe.unmount();

// SQLite and folder services dumped and restored through the platform's
// data tools, on real files in a temporary PAASMAKER_HOME.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(services = '  notes:\n    plugin: sqlite\n  files:\n    plugin: filesystem\n  settings:\n    plugin: parameters\n    colour: blue\n'): Promise<{ platform: Platform; manifest: ResolvedManifest; home: string; scratch: string }> {
  const { home, cleanup } = tempHome();
  const dir = mkdtempSync(join(tmpdir(), 'pm-project-'));
  const scratch = mkdtempSync(join(tmpdir(), 'pm-dumps-'));
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: shop\ninstances:\n  web:\n    command: sleep 1000\n    standalone: true\nservices:\n${services}`);
  const platform = await Platform.open({ home, keeper: false });
  cleanups.push(async () => {
    await platform.close();
    for (const path of [dir, scratch]) rmSync(path, { recursive: true, force: true });
    cleanup();
  });
  return { platform, manifest: loadManifest(dir), home, scratch };
}

const sqliteFile = (home: string) => join(home, 'data', 'shop', 'notes.sqlite');

function rows(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('select body from notes order by id').all() as Array<{ body: string }>).map((row) => row.body);
  } finally {
    db.close();
  }
}

function write(file: string, sql: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(sql);
  db.close();
}

describe('sqlite dump and restore', () => {
  it('rows written → dump → rows changed → restore → the original rows, the dump a gzip of mode 0600', async () => {
    const { platform, manifest, home, scratch } = await setUp();
    await platform.provisionServices(manifest);
    write(sqliteFile(home), "create table notes (id integer primary key, body text); insert into notes (body) values ('first'), ('second');");
    const dump = join(scratch, 'notes.sqlite.gz');
    const made = await platform.data.dump(manifest, undefined, dump);
    expect(made).toMatchObject({ service: 'notes', plugin: 'sqlite', format: 'sqlite', file: dump });
    expect(statSync(dump).mode & 0o777).toBe(0o600);
    expect([...readFileSync(dump).subarray(0, 2)]).toEqual([0x1f, 0x8b]);

    write(sqliteFile(home), "delete from notes where body = 'first'; insert into notes (body) values ('third');");
    expect(rows(sqliteFile(home))).toEqual(['second', 'third']);
    await platform.data.restore(manifest, 'notes', dump);
    expect(rows(sqliteFile(home))).toEqual(['first', 'second']);
    // Nothing of the swap is left beside the database.
    expect(readdirSync(join(home, 'data', 'shop')).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('keeps a copy consistent while the app goes on writing', async () => {
    const { platform, manifest, home, scratch } = await setUp();
    await platform.provisionServices(manifest);
    write(sqliteFile(home), 'create table notes (id integer primary key, body text);');
    const writer = new Database(sqliteFile(home));
    writer.pragma('journal_mode = WAL');
    const insert = writer.prepare('insert into notes (body) values (?)');
    let written = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < 50; i++) insert.run(`row ${written++}`);
    }, 1);
    try {
      await platform.data.dump(manifest, 'notes', join(scratch, 'live.sqlite.gz'));
    } finally {
      clearInterval(timer);
      writer.close();
    }
    await platform.data.restore(manifest, 'notes', join(scratch, 'live.sqlite.gz'));
    const restored = rows(sqliteFile(home));
    // A whole prefix of what was written: no torn page, no row missing in the middle.
    expect(restored).toEqual(restored.map((_, i) => `row ${i}`));
  });

  it('waits for a connection that holds the database locked, rather than dumping nothing', async () => {
    const { platform, manifest, home, scratch } = await setUp();
    await platform.provisionServices(manifest);
    write(sqliteFile(home), "create table notes (id integer primary key, body text); insert into notes (body) values ('kept');");
    // A rollback-journal writer mid-transaction: readers are locked out until it commits.
    const writer = new Database(sqliteFile(home));
    writer.pragma('journal_mode = DELETE');
    writer.exec("BEGIN EXCLUSIVE; insert into notes (body) values ('committed while the dump waited');");
    const committed = setTimeout(() => writer.exec('COMMIT'), 500);
    try {
      await platform.data.dump(manifest, 'notes', join(scratch, 'locked.sqlite.gz'));
    } finally {
      clearTimeout(committed);
      if (writer.inTransaction) writer.exec('COMMIT');
      writer.close();
    }
    write(sqliteFile(home), 'delete from notes;');
    await platform.data.restore(manifest, 'notes', join(scratch, 'locked.sqlite.gz'));
    expect(rows(sqliteFile(home))).toEqual(['kept', 'committed while the dump waited']);
  });

  it('refuses a truncated dump with DUMP_INVALID and leaves the data as it was', async () => {
    const { platform, manifest, home, scratch } = await setUp();
    await platform.provisionServices(manifest);
    write(sqliteFile(home), "create table notes (id integer primary key, body text); insert into notes (body) values ('a'), ('b');");
    const dump = join(scratch, 'cut.sqlite.gz');
    await platform.data.dump(manifest, 'notes', dump);
    write(sqliteFile(home), "insert into notes (body) values ('after');");
    truncateSync(dump, Math.floor(statSync(dump).size / 2));
    const error = await platform.data.restore(manifest, 'notes', dump).catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: 'DUMP_INVALID', message: expect.stringMatching(/^cut\.sqlite\.gz is not a whole dump: gzip says/) });
    expect((error as { hint: string }).hint).toMatch(/nothing was changed/);
    expect(rows(sqliteFile(home))).toEqual(['a', 'b', 'after']);
  });

  it('refuses a whole gzip of a damaged database after PRAGMA integrity_check', async () => {
    const { platform, manifest, home, scratch } = await setUp();
    await platform.provisionServices(manifest);
    write(sqliteFile(home), "create table notes (id integer primary key, body text); insert into notes (body) values ('kept');");
    const { gzipSync } = await import('node:zlib');
    // A SQLite header followed by nothing that makes a database.
    const damaged = Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(4080, 0x41)]);
    writeFileSync(join(scratch, 'damaged.sqlite.gz'), gzipSync(damaged));
    await expect(platform.data.restore(manifest, 'notes', join(scratch, 'damaged.sqlite.gz'))).rejects.toMatchObject({ code: 'DUMP_INVALID' });
    expect(rows(sqliteFile(home))).toEqual(['kept']);
  });
});

describe('filesystem dump and restore', () => {
  it('files written → dump → changed → restore → the original folder', async () => {
    const { platform, manifest, home, scratch } = await setUp();
    await platform.provisionServices(manifest);
    const folder = join(home, 'data', 'shop', 'files');
    writeFileSync(join(folder, 'a.txt'), 'alpha');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(folder, 'sub'));
    writeFileSync(join(folder, 'sub', 'b.txt'), 'beta');
    const dump = join(scratch, 'files.tar.gz');
    expect(await platform.data.dump(manifest, 'files', dump)).toMatchObject({ format: 'filesystem' });
    rmSync(join(folder, 'sub'), { recursive: true });
    writeFileSync(join(folder, 'a.txt'), 'changed');
    writeFileSync(join(folder, 'c.txt'), 'new');
    await platform.data.restore(manifest, 'files', dump);
    expect(readFileSync(join(folder, 'a.txt'), 'utf8')).toBe('alpha');
    expect(readFileSync(join(folder, 'sub', 'b.txt'), 'utf8')).toBe('beta');
    expect(existsSync(join(folder, 'c.txt'))).toBe(false);
    expect(readdirSync(join(home, 'data', 'shop')).filter((name) => name.startsWith('.'))).toEqual([]);

    truncateSync(dump, Math.floor(statSync(dump).size / 2));
    writeFileSync(join(folder, 'c.txt'), 'kept');
    await expect(platform.data.restore(manifest, 'files', dump)).rejects.toMatchObject({ code: 'DUMP_INVALID' });
    expect(readFileSync(join(folder, 'c.txt'), 'utf8')).toBe('kept');
  });
});

describe('the kind of a dump', () => {
  it('refuses a dump of another kind, naming it, before the plugin is called', async () => {
    const { platform, manifest, home, scratch } = await setUp();
    await platform.provisionServices(manifest);
    write(sqliteFile(home), "create table notes (id integer primary key, body text); insert into notes (body) values ('kept');");
    writeFileSync(join(scratch, 'x.dump'), Buffer.concat([Buffer.from('REDIS0011', 'latin1'), Buffer.alloc(64, 0xfa)]));
    await expect(platform.data.restore(manifest, 'notes', join(scratch, 'x.dump'))).rejects.toMatchObject({ code: 'DUMP_INVALID', message: 'x.dump is a Redis dump; service notes is sqlite' });
    writeFileSync(join(scratch, 'y.pgdump'), Buffer.concat([Buffer.from('PGDMP', 'latin1'), Buffer.alloc(64, 1)]));
    await expect(platform.data.restore(manifest, 'files', join(scratch, 'y.pgdump'))).rejects.toMatchObject({ message: 'y.pgdump is a PostgreSQL dump; service files is filesystem' });
    await platform.data.dump(manifest, 'files', join(scratch, 'files.tar.gz'));
    await expect(platform.data.restore(manifest, 'notes', join(scratch, 'files.tar.gz'))).rejects.toMatchObject({ message: 'files.tar.gz is a tar archive of a folder; service notes is sqlite' });
    writeFileSync(join(scratch, 'empty'), '');
    await expect(platform.data.restore(manifest, 'notes', join(scratch, 'empty'))).rejects.toMatchObject({ code: 'DUMP_INVALID', message: 'empty is empty' });
    expect(rows(sqliteFile(home))).toEqual(['kept']);
  });

  it('refuses a service that keeps no data, and a name the app does not have', async () => {
    const { platform, manifest, scratch } = await setUp();
    expect(() => platform.data.choose(manifest, 'settings')).toThrow('service settings of shop is a parameters service: it has no data to dump or restore');
    expect(() => platform.data.choose(manifest, 'note')).toThrow('shop has no service "note" — did you mean "notes"?');
    // Refused before any job starts or any file is made.
    expect(() => platform.data.dump(manifest, 'settings', join(scratch, 'x'))).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(existsSync(join(scratch, 'x'))).toBe(false);
  });
});

describe('what an interrupted restore left', () => {
  it('is cleared at the next provision: half-made copies removed, a folder moved aside put back, other files left alone', async () => {
    const { platform, manifest, home } = await setUp();
    await platform.provisionServices(manifest);
    const data = join(home, 'data', 'shop');
    write(sqliteFile(home), "create table notes (id integer primary key, body text); insert into notes (body) values ('kept');");
    // A restore killed between its renames: the folder is gone, its old copy beside it.
    const folder = join(data, 'files');
    writeFileSync(join(folder, 'a.txt'), 'alpha');
    renameSync(folder, join(data, '.files.old-0123abcd'));
    mkdirSync(join(data, '.files.restore-89abcdef'));
    writeFileSync(join(data, '.files.restore.tar-89abcdef'), 'half');
    writeFileSync(join(data, '.notes.sqlite.restore-0123abcd'), 'half');
    writeFileSync(join(data, '.notes.sqlite.restore-0123abcd-wal'), 'half');
    writeFileSync(join(data, '.notes.sqlite.restore-mine'), 'not a restore\'s');
    writeFileSync(join(data, '.other.sqlite.restore-0123abcd'), 'another service\'s');
    await platform.provisionServices(manifest);
    expect(readFileSync(join(folder, 'a.txt'), 'utf8')).toBe('alpha');
    expect(rows(sqliteFile(home))).toEqual(['kept']);
    expect(readdirSync(data).filter((name) => name.startsWith('.')).sort()).toEqual(['.notes.sqlite.restore-mine', '.other.sqlite.restore-0123abcd']);
  });
});

describe.skipIf('skip' in probe)('a dump onto a full disk', () => {
  it('fails with DISK_FULL, leaving no part of the file', async () => {
    const { platform, manifest, home } = await setUp();
    await platform.provisionServices(manifest);
    const disk = mountTmpfs(1) as { dir: string; unmount: () => void };
    cleanups.push(disk.unmount);
    // Random bytes do not compress: three times the disk.
    const { randomBytes } = await import('node:crypto');
    writeFileSync(join(home, 'data', 'shop', 'files', 'random.bin'), randomBytes(3 * 1024 * 1024));
    const file = join(disk.dir, 'files.tar.gz');
    await expect(platform.data.dump(manifest, 'files', file)).rejects.toMatchObject({ code: 'DISK_FULL' });
    expect(readdirSync(disk.dir)).toEqual([]);
  });
});
