import { copyFileSync, existsSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findBinary } from '../../src/services/binaries.js';
import { apiRequest, CliProcess, examples, getByHost, plainManifest, psJson, runCli, Scratch, until } from '../helpers/cli.js';

// paasmaker db dump, restore and snapshot on the managed database servers, as
// a user types them: the guestbook example on PostgreSQL, and an app with
// PostgreSQL and Redis restored after a destructive change.

const missing = ['initdb', 'postgres', 'psql', 'pg_dump', 'pg_restore', 'redis-server', 'redis-cli'].filter((binary) => !findBinary([binary]));
const skip = missing.length > 0 && process.env.CI !== 'true';

const scratch = new Scratch();
afterEach(() => scratch.cleanup());

async function cli(home: string, args: string[], cwd?: string) {
  const result = await runCli(args, { home, cwd });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** `paasmaker up -d DIR`, and the router's port from the URL it prints. */
async function upDetached(home: string, dir: string): Promise<number> {
  const up = await cli(home, ['up', '-d', dir]);
  expect(up.exitCode, up.stderr).toBe(0);
  return Number(/http:\/\/[a-z0-9-]+\.localhost:(\d+)\//.exec(up.stdout)?.[1]);
}

/** SQL through `paasmaker run -- psql '$DATABASE_URL'`, as the app's own user: the rows, one per line. */
async function psql(home: string, dir: string, sql: string): Promise<string[]> {
  const result = await cli(home, ['run', '--', 'psql', '$DATABASE_URL', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], dir);
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout.split('\n').filter(Boolean);
}

async function redis(home: string, dir: string, ...command: string[]): Promise<string> {
  const result = await cli(home, ['run', '--', 'redis-cli', '-u', '$REDIS_URL', '--no-auth-warning', ...command], dir);
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout.trim();
}

/** A project whose web process serves nothing of interest, with these lines under services:. */
function project(name: string, services: string[]): string {
  return scratch.project({ 'paasmaker.yml': plainManifest(name, services) });
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

/** A copy of the guestbook example (its node_modules made by the platform in the copy). */
function guestbook(name = 'guestbook-pg'): string {
  const dir = scratch.project({});
  // The example's files, under another app name when one is given.
  for (const file of ['package.json', 'package-lock.json', 'server.js']) copyFileSync(join(examples, 'guestbook-pg', file), join(dir, file));
  const manifest = `application:\n  name: ${name}\ninstances:\n  web:\n    runtime: node\n    command: node server.js\nservices:\n  db:\n    plugin: postgres\n`;
  writeFileSync(join(dir, 'paasmaker.yml'), manifest);
  return dir;
}

/** POST /entries through the router (fetch cannot set Host): the answer's status. */
function post(port: number, host: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/entries', method: 'POST', headers: { host, 'content-type': 'application/json' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe.skipIf(skip)('data tools on the managed servers', () => {
  it('guestbook-pg: entries added, snapshot before, deleted with psql, snapshot restore before --yes → the entries are back', async () => {
    const home = scratch.daemonHome();
    const dir = guestbook();
    const port = await upDetached(home, dir);
    for (const name of ['Ada', 'Grace']) expect(await post(port, 'guestbook-pg.localhost', { name, message: `hello from ${name}` })).toBe(201);
    const names = async () => (JSON.parse(await getByHost(port, 'guestbook-pg.localhost', '/entries.json')) as Array<{ name: string }>).map((entry) => entry.name).sort();
    expect(await names()).toEqual(['Ada', 'Grace']);

    const taken = await cli(home, ['db', 'snapshot', 'before'], dir);
    expect(taken.exitCode, taken.stderr).toBe(0);
    expect(taken.stdout).toMatch(/^snapshot before of guestbook-pg: db \(/m);

    await psql(home, dir, 'delete from entries');
    expect(await names()).toEqual([]);

    const restored = await cli(home, ['db', 'snapshot', 'restore', 'before', '--yes'], dir);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(await names()).toEqual(['Ada', 'Grace']);
  }, 300_000);

  it('db dump -o x.dump in one app and db restore x.dump --yes in another copies the data; a truncated dump is refused and nothing changes', async () => {
    const home = scratch.daemonHome();
    const one = guestbook('one');
    const two = guestbook('two');
    await upDetached(home, one);
    await upDetached(home, two);
    await psql(home, one, "insert into entries (name, message) values ('from one', 'a'), ('also from one', 'b')");
    await psql(home, two, "insert into entries (name, message) values ('from two', 'c')");

    const dumped = await cli(home, ['db', 'dump', '-o', 'x.dump'], one);
    expect(dumped.exitCode, dumped.stderr).toBe(0);
    const restored = await cli(home, ['db', 'restore', join(one, 'x.dump'), '--yes'], two);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(await psql(home, two, 'select name from entries order by name')).toEqual(['also from one', 'from one']);

    await psql(home, two, "insert into entries (name, message) values ('later', 'd')");
    truncateSync(join(one, 'x.dump'), Math.floor(statSync(join(one, 'x.dump')).size / 2));
    const refused = await cli(home, ['db', 'restore', join(one, 'x.dump'), '--yes'], two);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/could not restore two\/db: .*x\.dump/);
    expect(await psql(home, two, 'select name from entries order by name')).toEqual(['also from one', 'from one', 'later']);
    // The app still runs with the data it had.
    expect((await cli(home, ['ps', '--json'])).stdout).toContain('"running"');
  }, 300_000);

  it('a snapshot of an app with PostgreSQL and Redis brings both back after a destructive change', async () => {
    const home = scratch.daemonHome();
    const dir = project('shop', ['  db:', '    plugin: postgres', '  cache:', '    plugin: redis']);
    await upDetached(home, dir);
    await psql(home, dir, "create table orders (id serial primary key, item text); insert into orders (item) values ('tea'), ('cake')");
    await redis(home, dir, 'SET', 'visits', '41');
    await redis(home, dir, 'RPUSH', 'cart', 'tea', 'cake');

    const taken = await cli(home, ['db', 'snapshot', 'good'], dir);
    expect(taken.exitCode, taken.stderr).toBe(0);
    const [row] = JSON.parse((await cli(home, ['db', 'snapshots', '--json'], dir)).stdout) as Array<{ name: string; services: string[] }>;
    expect(row?.name).toBe('good');
    expect([...row!.services].sort()).toEqual(['cache', 'db']);

    await psql(home, dir, 'drop table orders');
    await redis(home, dir, 'FLUSHDB');
    await redis(home, dir, 'SET', 'visits', '0');

    const restored = await cli(home, ['db', 'snapshot', 'restore', 'good', '--yes'], dir);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(await psql(home, dir, 'select item from orders order by id')).toEqual(['tea', 'cake']);
    expect(await redis(home, dir, 'GET', 'visits')).toBe('41');
    expect(await redis(home, dir, 'LRANGE', 'cart', '0', '-1')).toBe('tea\ncake');
  }, 300_000);
});

describe.skipIf(skip)('one data job per app (a dump that waits on a lock)', () => {
  it('a restore and a snapshot rm during a dump are refused at once, naming the dump; nothing is stopped; the dump then ends whole', async () => {
    const home = scratch.daemonHome();
    const dir = project('busy', ['  db:', '    plugin: postgres']);
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
    const dir = project('halt', ['  db:', '    plugin: postgres']);
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
      // Nothing starts or stops the app's processes under a restore.
      const restart = await cli(home, ['restart', 'halt']);
      expect(restart.exitCode).toBe(1);
      expect(restart.stderr).toContain(`halt's data is being worked on: job ${root.id} "snapshot restore good" is running`);
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
