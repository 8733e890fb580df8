import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { plainManifest, psJson, runCli, Scratch, until } from '../helpers/cli.js';

// paasmaker db dump, restore and snapshot, as a user types them, on SQLite
// apps: through the daemon that runs them, and with no platform running.

const scratch = new Scratch();
afterEach(() => scratch.cleanup());

/** A project whose web process serves nothing of interest, with a SQLite service `db` and a folder `files` (after the `first` services). */
function app(name: string, first: string[] = []): string {
  return scratch.project({ 'paasmaker.yml': plainManifest(name, [...first, '  db:', '    plugin: sqlite', '  files:', '    plugin: filesystem']) });
}

const dbFile = (home: string, app: string) => join(home, 'data', app, 'db.sqlite');

/** What the app's database holds: its rows' bodies, in order. */
function rows(home: string, app: string): string[] {
  const db = new Database(dbFile(home, app), { readonly: true });
  try {
    const table = db.prepare("select name from sqlite_master where type = 'table' and name = 'notes'").get();
    return table ? (db.prepare('select body from notes order by id').all() as Array<{ body: string }>).map((row) => row.body) : [];
  } finally {
    db.close();
  }
}

/** SQL run on the app's database as the app would (WAL, as most SQLite apps set it). */
function sql(home: string, app: string, text: string): void {
  const db = new Database(dbFile(home, app));
  db.pragma('journal_mode = WAL');
  db.exec(text);
  db.close();
}

async function cli(home: string, args: string[], cwd?: string) {
  const result = await runCli(args, { home, cwd });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

describe('paasmaker db dump and restore, through the daemon', () => {
  it('db dump -o x in one app and db restore x --yes in another copies the data; without --yes nothing changes', async () => {
    const home = scratch.daemonHome();
    const one = app('one');
    const two = app('two');
    for (const dir of [one, two]) expect((await cli(home, ['up', '-d', dir])).exitCode).toBe(0);
    sql(home, 'one', "create table notes (id integer primary key, body text); insert into notes (body) values ('hello'), ('world');");
    sql(home, 'two', "create table notes (id integer primary key, body text); insert into notes (body) values ('other');");

    const dumped = await cli(home, ['db', 'dump', '-o', 'x'], one);
    expect(dumped.exitCode, dumped.stderr).toBe(0);
    // The job's lines live, then where it wrote and how much.
    expect(dumped.stdout).toMatch(/^dump db…$/m);
    expect(dumped.stdout).toMatch(/dump db \| backing up db\.sqlite/);
    expect(dumped.stdout).toMatch(new RegExp(`^wrote ${join(one, 'x')} \\(\\d+(\\.\\d)? (B|KiB)\\): a dump of one/db \\(sqlite\\)$`, 'm'));
    expect(statSync(join(one, 'x')).mode & 0o777).toBe(0o600);
    // Nothing of the dump stays behind in PAASMAKER_HOME once downloaded.
    // (removed once the platform has seen the whole file go out, which may be just after the CLI has it)
    await until(() => readdirSync(join(home, 'dumps', 'one')).length === 0 || undefined, 10_000, 'the sent dump removed');

    const refused = await cli(home, ['db', 'restore', join(one, 'x')], two);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("error: restoring x replaces the data of two's service db (its first that keeps data); nothing was changed");
    expect(refused.stderr).toContain('--yes');
    expect(rows(home, 'two')).toEqual(['other']);

    const before = (await psJson(home)).find((row) => row.app === 'two')!;
    const restored = await cli(home, ['db', 'restore', join(one, 'x'), '--yes'], two);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/restore db \| stopping two's processes: web\.0/);
    expect(restored.stdout).toMatch(/restore db \| PRAGMA integrity_check: ok/);
    expect(restored.stdout).toMatch(/restore db \| starting two's processes again/);
    expect(restored.stdout).toMatch(new RegExp(`^restored two/db from ${join(one, 'x')} \\(`, 'm'));
    expect(rows(home, 'two')).toEqual(['hello', 'world']);
    // The app runs again, as a new process that opened the new data.
    const after = (await psJson(home)).find((row) => row.app === 'two')!;
    expect(after.state).toBe('running');
    expect(after.pid).not.toBe(before.pid);
  }, 120_000);

  it('refuses a truncated dump and a dump of another kind with a clear error, and changes nothing', async () => {
    const home = scratch.daemonHome();
    const dir = app('shop');
    expect((await cli(home, ['up', '-d', dir])).exitCode).toBe(0);
    sql(home, 'shop', "create table notes (id integer primary key, body text); insert into notes (body) values ('kept');");
    expect((await cli(home, ['db', 'dump', '-o', 'db.sqlite.gz'], dir)).exitCode).toBe(0);
    expect((await cli(home, ['db', 'dump', 'files', '-o', 'files.tar.gz'], dir)).exitCode).toBe(0);
    sql(home, 'shop', "insert into notes (body) values ('later');");

    const wrongKind = await cli(home, ['db', 'restore', 'files.tar.gz', 'db', '--yes'], dir);
    expect(wrongKind.exitCode).toBe(1);
    expect(wrongKind.stderr).toContain('could not restore shop/db: files.tar.gz is a tar archive of a folder; service db is sqlite');

    truncateSync(join(dir, 'db.sqlite.gz'), Math.floor(statSync(join(dir, 'db.sqlite.gz')).size / 2));
    const truncated = await cli(home, ['db', 'restore', 'db.sqlite.gz', '--yes'], dir);
    expect(truncated.exitCode).toBe(1);
    expect(truncated.stderr).toContain('could not restore shop/db: db.sqlite.gz is not a whole dump: gzip says');
    expect(rows(home, 'shop')).toEqual(['kept', 'later']);
    expect((await psJson(home)).find((row) => row.app === 'shop')?.state).toBe('running');
  }, 120_000);
});

describe('paasmaker db snapshot', () => {
  it('snapshot → listed (--json) → a destructive change → snapshot restore --yes → the data back and the app running again → snapshot rm', async () => {
    const home = scratch.daemonHome();
    const dir = app('guestbook');
    expect((await cli(home, ['up', '-d', dir])).exitCode).toBe(0);
    sql(home, 'guestbook', "create table notes (id integer primary key, body text); insert into notes (body) values ('first entry'), ('second entry');");

    const taken = await cli(home, ['db', 'snapshot', 'before'], dir);
    expect(taken.exitCode, taken.stderr).toBe(0);
    expect(taken.stdout).toMatch(/^snapshot before of guestbook: db, files \(/m);
    const listed = await cli(home, ['db', 'snapshots', '--json'], dir);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const [row] = JSON.parse(listed.stdout) as Array<{ app: string; name: string; time: string; size: number; services: string[] }>;
    expect(row).toMatchObject({ app: 'guestbook', name: 'before', services: ['db', 'files'] });
    expect(row!.size).toBeGreaterThan(0);
    expect(Date.parse(row!.time)).toBeGreaterThan(Date.now() - 120_000);
    const folder = join(home, 'snapshots', 'guestbook', 'before');
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    for (const name of readdirSync(folder)) expect(statSync(join(folder, name)).mode & 0o777, name).toBe(0o600);

    sql(home, 'guestbook', 'delete from notes;');
    expect(rows(home, 'guestbook')).toEqual([]);
    const refused = await cli(home, ['db', 'snapshot', 'restore', 'before'], dir);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("restoring snapshot before");
    expect(refused.stderr).toContain("replaces the data of guestbook's db, files");

    const pid = (await psJson(home)).find((each) => each.app === 'guestbook')!.pid;
    const restored = await cli(home, ['db', 'snapshot', 'restore', 'before', '--yes'], dir);
    expect(restored.exitCode, restored.stderr).toBe(0);
    // One job: the processes stopped, each service restored as a step, the processes started again.
    expect(restored.stdout).toMatch(/^snapshot restore before…$/m);
    expect(restored.stdout).toMatch(/snapshot restore before \| stopping guestbook's processes: web\.0[\s\S]*restore db: done[\s\S]*restore files: done[\s\S]*snapshot restore before \| starting guestbook's processes again/);
    expect(restored.stdout).toMatch(/snapshot restore before \| the data as it was before this restore is kept as the snapshot pre-restore-\d{8}-\d{6} \(paasmaker db snapshot restore pre-restore-\d{8}-\d{6} --yes goes back to it\)/);
    expect(rows(home, 'guestbook')).toEqual(['first entry', 'second entry']);
    const after = (await psJson(home)).find((each) => each.app === 'guestbook')!;
    expect(after).toMatchObject({ state: 'running' });
    expect(after.pid).not.toBe(pid);

    const unknown = await cli(home, ['db', 'snapshot', 'restore', 'nosuch', '--yes'], dir);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('guestbook has no snapshot "nosuch"');
    expect((await cli(home, ['db', 'snapshot', '../x'], dir)).stderr).toContain('"../x" is not a snapshot name');

    expect((await cli(home, ['db', 'snapshot', 'rm', 'before'], dir)).exitCode).toBe(1);
    expect(existsSync(folder)).toBe(true);
    const removed = await cli(home, ['db', 'snapshot', 'rm', 'before', '--yes'], dir);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stdout).toBe('removed snapshot before of guestbook');
    expect(existsSync(folder)).toBe(false);
    // What remains: the data as it was before the snapshot restore, kept by it.
    expect((JSON.parse((await cli(home, ['db', 'snapshots', '--json'], dir)).stdout) as Array<{ name: string }>).map((each) => each.name)).toEqual([expect.stringMatching(/^pre-restore-\d{8}-\d{6}$/)]);
  }, 120_000);
});

describe('with no platform running', () => {
  it('dump, restore and snapshots run on a platform of the command\'s own, as db shell does', async () => {
    const home = scratch.home();
    const dir = app('offline');
    expect((await cli(home, ['env', dir])).exitCode).toBe(0); // provisions the services
    sql(home, 'offline', "create table notes (id integer primary key, body text); insert into notes (body) values ('one');");
    const dumped = await cli(home, ['db', 'dump'], dir);
    expect(dumped.exitCode, dumped.stderr).toBe(0);
    const [file] = readdirSync(dir).filter((name) => name.endsWith('.sqlite.gz'));
    expect(file).toMatch(/^offline-db-\d{8}-\d{6}\.sqlite\.gz$/);
    expect((await cli(home, ['db', 'snapshot'], dir)).exitCode).toBe(0);
    sql(home, 'offline', "insert into notes (body) values ('two');");
    const restored = await cli(home, ['db', 'restore', file!, '--yes'], dir);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(rows(home, 'offline')).toEqual(['one']);
    const [snapshot] = JSON.parse((await cli(home, ['db', 'snapshots', '--json'], dir)).stdout) as Array<{ name: string }>;
    expect(snapshot!.name).toMatch(/^\d{8}-\d{6}$/);
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);
  }, 120_000);
});

const webPid = async (home: string, app: string) => (await psJson(home)).find((row) => row.app === app)!.pid;

describe('snapshot restore of several services', () => {
  it('a damaged dump of a later service is refused before the app stops; one that fails part-way names what was restored and how to go back', async () => {
    const home = scratch.daemonHome();
    const dir = app('parts');
    expect((await cli(home, ['up', '-d', dir])).exitCode).toBe(0);
    sql(home, 'parts', "create table notes (id integer primary key, body text); insert into notes (body) values ('then');");
    const files = join(home, 'data', 'parts', 'files');
    // Content that does not compress: half of its dump is still a gzip file's start, with the tar header.
    writeFileSync(join(files, 'a.txt'), randomBytes(64 * 1024).toString('hex'));
    expect((await cli(home, ['db', 'snapshot', 'then'], dir)).exitCode).toBe(0);
    sql(home, 'parts', "update notes set body = 'now';");
    writeFileSync(join(files, 'a.txt'), 'now');
    const archive = join(home, 'snapshots', 'parts', 'then', 'files.tar.gz');
    const whole = readFileSync(archive);

    // Cut short: the gzip does not end.
    writeFileSync(archive, whole.subarray(0, Math.floor(whole.length / 2)));
    const pid = await webPid(home, 'parts');
    const refused = await cli(home, ['db', 'snapshot', 'restore', 'then', '--yes'], dir);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('files.tar.gz is not a whole dump: it is damaged or cut short');
    expect(refused.stdout).not.toMatch(/stopping parts's processes/);
    expect(rows(home, 'parts')).toEqual(['now']);
    expect(await webPid(home, 'parts')).toBe(pid);

    // A whole gzip of a tar archive that stops part-way: only tar finds out, once db was restored.
    writeFileSync(archive, gzipSync(gunzipSync(whole).subarray(0, 1024)));
    const failed = await cli(home, ['db', 'snapshot', 'restore', 'then', '--yes'], dir);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain('snapshot restore then stopped part-way: db was restored from then, files not:');
    const back = /paasmaker db snapshot restore (pre-restore-\d{8}-\d{6}) --yes puts it all back/.exec(failed.stderr)?.[1];
    expect(back, failed.stderr).toBeDefined();
    expect(rows(home, 'parts')).toEqual(['then']);
    expect(readFileSync(join(files, 'a.txt'), 'utf8')).toBe('now');
    // The app runs again, and the way back works.
    expect((await psJson(home)).find((row) => row.app === 'parts')?.state).toBe('running');
    const undone = await cli(home, ['db', 'snapshot', 'restore', back!, '--yes'], dir);
    expect(undone.exitCode, undone.stderr).toBe(0);
    expect(rows(home, 'parts')).toEqual(['now']);
  }, 180_000);
});

describe('snapshot records', () => {
  it('a damaged record is left out of the listing, refused by a restore, and can be removed; one naming a file outside its folder is refused', async () => {
    const home = scratch.daemonHome();
    const dir = app('records');
    expect((await cli(home, ['up', '-d', dir])).exitCode).toBe(0);
    sql(home, 'records', "create table notes (id integer primary key, body text); insert into notes (body) values ('one');");
    for (const name of ['good', 'broken', 'escape']) expect((await cli(home, ['db', 'snapshot', name], dir)).exitCode).toBe(0);
    const folder = (name: string) => join(home, 'snapshots', 'records', name);
    writeFileSync(join(folder('broken'), 'snapshot.json'), '{"app": "records", "na');
    const record = JSON.parse(readFileSync(join(folder('escape'), 'snapshot.json'), 'utf8')) as { services: Array<{ file: string }> };
    record.services[0]!.file = '../good/db.sqlite.gz';
    writeFileSync(join(folder('escape'), 'snapshot.json'), JSON.stringify(record));

    const listed = await cli(home, ['db', 'snapshots', '--json'], dir);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((row) => row.name)).toEqual(['good']);

    const escape = await cli(home, ['db', 'snapshot', 'restore', 'escape', '--yes'], dir);
    expect(escape.exitCode).toBe(1);
    expect(escape.stderr).toContain("snapshot escape's snapshot.json is not a snapshot record: services.0.file");
    const broken = await cli(home, ['db', 'snapshot', 'restore', 'broken', '--yes'], dir);
    expect(broken.exitCode).toBe(1);
    expect(broken.stderr).toContain("snapshot broken's snapshot.json cannot be read");

    expect((await cli(home, ['db', 'snapshot', 'rm', 'broken'], dir)).exitCode).toBe(1);
    const removed = await cli(home, ['db', 'snapshot', 'rm', 'broken', '--yes'], dir);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(existsSync(folder('broken'))).toBe(false);
    expect(existsSync(folder('good'))).toBe(true);
    // Written whole: no temporary record beside it.
    expect(readdirSync(folder('good')).sort()).toEqual(['db.sqlite.gz', 'files.tar.gz', 'snapshot.json']);
  }, 180_000);
});

describe('the data commands', () => {
  it('a dump the platform cannot even begin is answered with its error (it does not hang); -o FOLDER writes the default name in it', async () => {
    const home = scratch.daemonHome();
    const dir = app('edges');
    expect((await cli(home, ['up', '-d', dir])).exitCode).toBe(0);
    // Where the platform keeps dumps for download is not a folder.
    mkdirSync(join(home, 'dumps'), { recursive: true });
    writeFileSync(join(home, 'dumps', 'edges'), 'in the way');
    const blocked = await cli(home, ['db', 'dump'], dir);
    expect(blocked.exitCode).not.toBe(0);
    expect(blocked.stderr).toMatch(/EEXIST|ENOTDIR|file already exists|not a directory/);
    rmSync(join(home, 'dumps', 'edges'));

    mkdirSync(join(dir, 'backups'));
    const dumped = await cli(home, ['db', 'dump', '-o', 'backups'], dir);
    expect(dumped.exitCode, dumped.stderr).toBe(0);
    expect(readdirSync(join(dir, 'backups'))).toEqual([expect.stringMatching(/^edges-db-\d{8}-\d{6}\.sqlite\.gz$/)]);
  }, 180_000);

  it('db restore without --yes names the service it would replace: the first whose plugin can dump (not a mail catcher)', async () => {
    const home = scratch.home();
    const dir = app('mailer', ['  outbox:', '    plugin: mail']);
    writeFileSync(join(dir, 'x.sqlite.gz'), gzipSync(Buffer.from('not used')));
    const refused = await cli(home, ['db', 'restore', 'x.sqlite.gz'], dir);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("replaces the data of mailer's service db (its first that keeps data)");
  }, 60_000);
});

describe('what a platform that died left behind', () => {
  it('restore uploads, snapshots and dumps being made or sent are removed as the next platform starts; a dump kept for download stays', async () => {
    const home = scratch.daemonHome();
    // A process that is gone: its pid names the uploads it left.
    const gone = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)']).toString().trim());
    const upload = join(home, 'tmp', `restore-${gone}-0a1b2c3d4e5f`);
    mkdirSync(upload, { recursive: true });
    writeFileSync(join(upload, 'dump'), 'half');
    const body = join(home, 'tmp', `upload-${gone}-0a1b2c3d4e5f`);
    writeFileSync(body, 'half');
    const snapshot = join(home, 'snapshots', 'shop', '.before.partial-mx1-dead00');
    mkdirSync(snapshot, { recursive: true });
    const dumps = join(home, 'dumps', 'shop');
    mkdirSync(dumps, { recursive: true });
    for (const name of ['.mx2-dead01.db.sqlite.gz.partial', 'mx3-dead02.db.sqlite.gz.sending-0a1b2c3d', 'mx4-dead03.db.sqlite.gz']) writeFileSync(join(dumps, name), 'x');
    const started = await cli(home, ['daemon', 'start']);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(existsSync(upload)).toBe(false);
    expect(existsSync(body)).toBe(false);
    expect(existsSync(snapshot)).toBe(false);
    expect(readdirSync(dumps)).toEqual(['mx4-dead03.db.sqlite.gz']);
  }, 60_000);
});
