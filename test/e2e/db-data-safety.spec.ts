import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { findBinary } from '../../src/services/binaries.js';
import { apiRequest, CliProcess, psJson, runCli, Scratch, until } from '../helpers/cli.js';

// What keeps an app's data safe while data jobs run, as a user meets it:
// one data job per app at a time, an abort that stops a restore before
// anything changes, a snapshot restore that checks its dumps first and says
// how to go back when it fails part-way, damaged snapshot records, and what
// a platform that died left behind.

const scratch = new Scratch();
afterEach(() => scratch.cleanup());

/** A project with a SQLite service `db` and a folder `files` (and whatever `more` services). */
function app(name: string, more: string[] = []): string {
  return scratch.project({
    'paasmaker.yml': [
      'application:',
      `  name: ${name}`,
      'instances:',
      '  web:',
      `    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"`,
      'services:',
      ...more,
      '  db:',
      '    plugin: sqlite',
      '  files:',
      '    plugin: filesystem',
      '',
    ].join('\n'),
  });
}

const dbFile = (home: string, app: string) => join(home, 'data', app, 'db.sqlite');

/** SQL on the app's SQLite database, as the app would run it. */
function sql(home: string, app: string, text: string): void {
  const db = new Database(dbFile(home, app));
  db.exec(text);
  db.close();
}

function rows(home: string, app: string): string[] {
  const db = new Database(dbFile(home, app), { readonly: true });
  try {
    return (db.prepare('select body from notes order by id').all() as Array<{ body: string }>).map((row) => row.body);
  } finally {
    db.close();
  }
}

async function cli(home: string, args: string[], cwd?: string) {
  const result = await runCli(args, { home, cwd });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

type JobRow = { id: string; parent: string | null; title: string; state: string; detail: string | null };

/** The daemon's job tree of a root job of the app titled `title`, once one runs with a step titled `step` running (the root when no step is given). */
async function runningJob(home: string, app: string, title: string, step?: string): Promise<{ root: JobRow; tree: JobRow[] }> {
  const socket = join(home, 'paasmaker.sock');
  return until(
    async () => {
      const roots = (await apiRequest(socket, 'GET', `/api/v1/jobs?app=${app}`)).json as JobRow[];
      const root = roots.find((job) => job.title === title && job.state === 'running');
      if (!root) return undefined;
      const tree = (await apiRequest(socket, 'GET', `/api/v1/jobs/${root.id}`)).json as JobRow[];
      return !step || tree.some((job) => job.title === step && job.state === 'running') ? { root, tree } : undefined;
    },
    60_000,
    `a running job "${title}"${step ? ` at its step "${step}"` : ''}`,
  );
}

const webPid = async (home: string, app: string) => (await psJson(home)).find((row) => row.app === app)!.pid;

/** A project with a managed PostgreSQL service `db`. */
function pgApp(name: string): string {
  return scratch.project({
    'paasmaker.yml': [
      'application:',
      `  name: ${name}`,
      'instances:',
      '  web:',
      `    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"`,
      'services:',
      '  db:',
      '    plugin: postgres',
      '',
    ].join('\n'),
  });
}

/** SQL through `paasmaker run -- psql '$DATABASE_URL'`, as the app's own user: the rows, one per line. */
async function psql(home: string, dir: string, text: string): Promise<string[]> {
  const result = await cli(home, ['run', '--', 'psql', '$DATABASE_URL', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', text], dir);
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout.split('\n').filter(Boolean);
}

/** A session of the app's that holds the table `notes` locked (a pg_dump of it waits meanwhile) until release(). */
async function holdNotes(home: string, dir: string): Promise<{ release: () => Promise<void> }> {
  const holder = new CliProcess(['run', '--', 'psql', '$DATABASE_URL', '-X', '-q', '-c', 'BEGIN; LOCK TABLE notes IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600);'], { home, cwd: dir });
  const release = async () => {
    await psql(home, dir, "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(600)%' and pid <> pg_backend_pid()");
    holder.kill();
  };
  try {
    await until(async () => (await psql(home, dir, "select count(*) from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 'notes' and l.mode = 'AccessExclusiveLock' and l.granted"))[0] === '1', 30_000, 'the lock on notes');
  } catch (error) {
    holder.kill();
    throw error;
  }
  return { release };
}

const pgMissing = ['initdb', 'postgres', 'psql', 'pg_dump', 'pg_restore'].filter((binary) => !findBinary([binary]));

describe.skipIf(pgMissing.length > 0 && process.env.CI !== 'true')('one data job per app (PostgreSQL: a dump that waits on a lock)', () => {
  it('a restore and a snapshot rm during a dump are refused at once, naming the dump; nothing is stopped; the dump then ends whole', async () => {
    const home = scratch.daemonHome();
    const dir = pgApp('busy');
    expect((await cli(home, ['up', '-d', dir])).exitCode).toBe(0);
    await psql(home, dir, "create table notes (id serial primary key, body text); insert into notes (body) values ('kept');");
    expect((await cli(home, ['db', 'dump', '-o', 'before.pgdump'], dir)).exitCode).toBe(0);
    expect((await cli(home, ['db', 'snapshot', 'old'], dir)).exitCode).toBe(0);
    const pid = await webPid(home, 'busy');

    const lock = await holdNotes(home, dir);
    const dumping = cli(home, ['db', 'dump', '-o', 'held.pgdump'], dir);
    try {
      const { root: dump } = await runningJob(home, 'busy', 'dump db');
      const restore = await cli(home, ['db', 'restore', 'before.pgdump', '--yes'], dir);
      expect(restore.exitCode).toBe(1);
      expect(restore.stderr).toContain(`busy's data is being worked on: job ${dump.id} "dump db" is running`);
      expect(restore.stderr).toContain(`paasmaker jobs abort ${dump.id}`);
      const remove = await cli(home, ['db', 'snapshot', 'rm', 'old', '--yes'], dir);
      expect(remove.exitCode).toBe(1);
      expect(remove.stderr).toContain(`job ${dump.id} "dump db" is running`);
      expect(existsSync(join(home, 'snapshots', 'busy', 'old'))).toBe(true);
      expect(await webPid(home, 'busy')).toBe(pid);
    } finally {
      await lock.release();
    }
    const dumped = await dumping;
    expect(dumped.exitCode, dumped.stderr).toBe(0);
    expect(existsSync(join(dir, 'held.pgdump'))).toBe(true);
    // Once it ended, the next one runs.
    expect((await cli(home, ['db', 'snapshot', 'rm', 'old', '--yes'], dir)).exitCode).toBe(0);
  }, 240_000);

  it('a snapshot restore aborted before the app stops changes nothing, and says it was aborted', async () => {
    const home = scratch.daemonHome();
    const dir = pgApp('halt');
    expect((await cli(home, ['up', '-d', dir])).exitCode).toBe(0);
    await psql(home, dir, "create table notes (id serial primary key, body text); insert into notes (body) values ('old');");
    expect((await cli(home, ['db', 'snapshot', 'good'], dir)).exitCode).toBe(0);
    await psql(home, dir, "update notes set body = 'new';");
    const pid = await webPid(home, 'halt');

    // The restore keeps the data as it is first: that dump waits on the lock while the job is aborted.
    const lock = await holdNotes(home, dir);
    const restoring = cli(home, ['db', 'snapshot', 'restore', 'good', '--yes'], dir);
    let root: JobRow;
    try {
      ({ root } = await runningJob(home, 'halt', 'snapshot restore good', 'dump db'));
      const aborted = await cli(home, ['jobs', 'abort', root.id]);
      expect(aborted.exitCode, aborted.stderr).toBe(0);
      const restored = await restoring;
      expect(restored.exitCode).toBe(1);
      expect(restored.stderr).toMatch(/was aborted/);
      expect(restored.stdout).not.toMatch(/stopping halt's processes/);
    } finally {
      await lock.release();
    }
    expect(await psql(home, dir, 'select body from notes')).toEqual(['new']);
    expect(await webPid(home, 'halt')).toBe(pid);
    const tree = (await apiRequest(join(home, 'paasmaker.sock'), 'GET', `/api/v1/jobs/${root.id}`)).json as JobRow[];
    expect(tree[0]!.state).toBe('aborted');
    expect(tree.map((job) => job.title)).not.toContain('restore db');
    // Nothing changed: no copy of the data as it was is kept.
    expect(readdirSync(join(home, 'snapshots', 'halt'))).toEqual(['good']);
  }, 240_000);
});

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
    expect(refused.stderr).toContain('files.tar.gz is damaged or cut short');
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
