import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findBinary } from '../../src/services/binaries.js';
import { apiRequest, getByHost, psJson, runCli, stopDaemonAndRemove, tempHome, until } from '../helpers/cli.js';
import { commitAll, git, initRepo, tempFolder } from '../helpers/git-repo.js';

// Real git worktrees, the real daemon with one router, a real managed PostgreSQL.
const missing = ['initdb', 'postgres', 'psql', 'pg_dump'].filter((binary) => !findBinary([binary]));
const skip = missing.length > 0 && process.env.CI !== 'true';
if (skip) console.warn(`skipping worktree tests: install ${missing.join(', ')} (apt install postgresql)`);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Worktrees run apart: the suite turns that off for this repository's own examples (vitest.config.ts). */
const ENV = { PAASMAKER_WORKTREES: '1' };

/**
 * A notes app on PostgreSQL: GET /add/WORD stores a word, GET / lists the
 * words its database holds, and the hostname the request came by.
 */
const SERVER = `
const { execFileSync } = require('child_process');
const sql = (text) => execFileSync('psql', [process.env.DATABASE_URL, '-qtAc', text], { encoding: 'utf8' }).trim();
require('http').createServer((q, s) => {
  const add = /^\\/add\\/([a-z-]+)$/.exec(q.url);
  if (add) sql("insert into notes values ('" + add[1] + "')");
  s.end(process.env.PAASMAKER_APP + ' ' + q.headers.host.split(':')[0] + ' [' + sql('select string_agg(word, \\',\\' order by word) from notes') + ']');
}).listen(process.env.PORT, '127.0.0.1');
`;

const MANIFEST = [
  'application:',
  '  name: notes',
  'instances:',
  '  web:',
  '    startup: [psql "$DATABASE_URL" -qc "create table if not exists notes (word text)"]',
  '    command: node server.js',
  '    hostnames: [notes.example.test]',
  'services:',
  '  db:',
  '    plugin: postgres',
  '    per_branch: true',
  '    clone_from: main',
  '  cache:',
  '    plugin: sqlite',
  '',
].join('\n');

async function ok(args: string[], home: string, cwd?: string) {
  const result = await runCli(args, { home, env: ENV, cwd });
  expect(result.exitCode, `paasmaker ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

describe.skipIf(skip)('git worktrees side by side', () => {
  it('runs two worktrees of one app at once, each on its own name and database; prune drops exactly the removed one', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(() => stopDaemonAndRemove(home, cleanup));
    const root = tempFolder('pm-worktrees-', cleanups);
    const main = initRepo(join(root, 'notes'));
    commitAll(main, { 'paasmaker.yml': MANIFEST, 'server.js': SERVER }, 'notes');
    const feature = join(root, 'feature-x');
    git(main, ['worktree', 'add', '-q', '-b', 'feature/x', feature]);

    const first = await ok(['up', main, '-d'], home);
    expect(first.stdout).toMatch(/^notes is up in \d+ ms/m);
    const { proxyPort } = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { proxyPort: number };
    expect(await getByHost(proxyPort, 'notes.localhost', '/add/apple')).toBe('notes notes.localhost [apple]');

    // The second checkout starts beside the first: its own name, main's data copied on first use.
    const second = await ok(['up', feature, '-d'], home);
    expect(second.stdout).toContain('this worktree (branch feature/x) runs as notes@feature-x, on feature-x.notes.localhost');
    expect(second.stdout).toMatch(/^notes@feature-x is up in \d+ ms: https?:\/\/feature-x\.notes\.localhost:\d+\//m);
    expect(await getByHost(proxyPort, 'feature-x.notes.localhost', '/add/banana')).toBe('notes@feature-x feature-x.notes.localhost [apple,banana]');
    expect(await getByHost(proxyPort, 'notes.localhost', '/add/cherry')).toBe('notes notes.localhost [apple,cherry]');
    expect(await getByHost(proxyPort, 'feature-x.notes.localhost')).toBe('notes@feature-x feature-x.notes.localhost [apple,banana]');
    // The manifest's own hostname, with the checkout in front; *.local.paasmaker too.
    expect(await getByHost(proxyPort, 'notes.example.test')).toBe('notes notes.example.test [apple,cherry]');
    expect(await getByHost(proxyPort, 'feature-x.notes.example.test')).toBe('notes@feature-x feature-x.notes.example.test [apple,banana]');
    expect(await getByHost(proxyPort, 'feature-x.notes.local.paasmaker')).toContain('[apple,banana]');

    // ps shows both checkouts running; the shared sqlite service stays one, the database is one per branch.
    const rows = await psJson(home);
    expect(rows.filter((row) => row.state === 'running').map((row) => row.app).sort()).toEqual(['notes', 'notes@feature-x']);
    const table = await ok(['ps'], home);
    expect(table.stdout).toContain('notes@feature-x');
    const services = JSON.parse((await ok(['services', '--json'], home)).stdout) as Array<{ kind: string; name: string; branch: string | null; resource: string }>;
    expect(services.filter((row) => row.kind === 'service').map((row) => `${row.name}@${row.branch ?? ''}`).sort()).toEqual(['notes/cache@', 'notes/db@feature/x', 'notes/db@main']);

    // The API answers for the checkout by its key: its URL, and its app's shared services with its own branch's.
    const { socket } = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { socket: string };
    const record = await apiRequest(socket, 'GET', `/api/v1/apps/${encodeURIComponent('notes@feature-x')}`);
    expect(record.json).toMatchObject({ name: 'notes@feature-x', directory: feature, state: 'running' });
    expect(record.json.url).toMatch(/^http:\/\/feature-x\.notes\.localhost:\d+\/$/);
    const own = await apiRequest(socket, 'GET', `/api/v1/services?app=${encodeURIComponent('notes@feature-x')}`);
    expect((own.json as Array<{ name: string; branch: string | null }>).map((row) => `${row.name}@${row.branch ?? ''}`).sort()).toEqual(['notes/cache@', 'notes/db@feature/x']);

    // down takes APP@branch; the main worktree goes on.
    expect((await ok(['down', 'notes@feature-x'], home)).stdout).toContain('stopped notes@feature-x');
    expect(await getByHost(proxyPort, 'notes.localhost')).toBe('notes notes.localhost [apple,cherry]');

    // The worktree goes: up names its database as stale, prune drops it and nothing else.
    git(main, ['worktree', 'remove', '--force', feature]);
    const again = await ok(['up', main, '-d'], home);
    expect(again.stdout).toContain('1 database(s) of checkouts that no longer exist (notes/db@feature/x): paasmaker services prune drops them');
    const listed = await ok(['services', 'prune'], home);
    expect(listed.stdout).toContain('notes/db@feature/x');
    const pruned = await ok(['services', 'prune', '--yes'], home);
    expect(pruned.stdout).toContain('destroyed notes/db@feature/x');
    const after = JSON.parse((await ok(['services', '--json'], home)).stdout) as Array<{ kind: string; name: string; branch: string | null }>;
    expect(after.filter((row) => row.kind === 'service').map((row) => `${row.name}@${row.branch ?? ''}`).sort()).toEqual(['notes/cache@', 'notes/db@main']);
    const databases = await ok(['run', main, '--', 'psql', '$DATABASE_URL', '-qtAc', "select string_agg(datname, ',' order by datname) from pg_database where datname like 'notes%'"], home);
    expect(databases.stdout.trim()).toBe('notes__db__main');
    expect(await until(async () => (await getByHost(proxyPort, 'notes.localhost')).includes('[apple,cherry]'), 20_000, 'main still answers')).toBe(true);
  }, 240_000);

  it('names a detached HEAD by its short commit, and says so', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(() => stopDaemonAndRemove(home, cleanup));
    const root = tempFolder('pm-worktrees-', cleanups);
    const main = initRepo(join(root, 'plain'));
    const commit = commitAll(main, { 'paasmaker.yml': 'application:\n  name: plain\ninstances:\n  web:\n    command: node -e "require(\'http\').createServer((q, s) => s.end(process.env.PAASMAKER_APP)).listen(process.env.PORT, \'127.0.0.1\')"\n' }, 'plain');
    const detached = join(root, 'review');
    git(main, ['worktree', 'add', '-q', '--detach', detached, commit]);
    const short = git(main, ['rev-parse', '--short', commit]).trim();
    await ok(['up', main, '-d'], home);
    const result = await ok(['up', detached, '-d'], home);
    expect(result.stdout).toContain(`this worktree (a detached HEAD at ${short}, named by its short commit) runs as plain@${short}`);
    const { proxyPort } = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { proxyPort: number };
    expect(await getByHost(proxyPort, `${short}.plain.localhost`)).toBe(`plain@${short}`);
    expect(await getByHost(proxyPort, 'plain.localhost')).toBe('plain');
  }, 120_000);
});
