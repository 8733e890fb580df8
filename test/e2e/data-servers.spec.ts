import { copyFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findBinary } from '../../src/services/binaries.js';
import { examples, getByHost, runCli, Scratch } from '../helpers/cli.js';

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
    const dir = scratch.project({
      'paasmaker.yml': [
        'application:',
        '  name: shop',
        'instances:',
        '  web:',
        `    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT, '127.0.0.1')"`,
        'services:',
        '  db:',
        '    plugin: postgres',
        '  cache:',
        '    plugin: redis',
        '',
      ].join('\n'),
    });
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
