import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { psJson, runCli, Scratch, sleep, until, type PsRow } from '../helpers/cli.js';

const scratch = new Scratch();
const { project, home } = scratch;
afterEach(() => scratch.cleanup());

/** A web process that answers with what it found when it started: the release's marker, or "none". */
const WEB = "const fs = require('fs'); const found = fs.existsSync('migrated') ? fs.readFileSync('migrated', 'utf8').trim() : 'none'; fs.writeFileSync('web-started', ''); require('http').createServer((q, r) => r.end(found)).listen(process.env.PORT, '127.0.0.1');\n";
/** A migration that takes a moment, counts its runs and leaves a marker. */
const MIGRATE = "const fs = require('fs'); setTimeout(() => { fs.appendFileSync('runs', 'run\\n'); fs.writeFileSync('migrated', 'migrated'); console.log('migrated'); }, 500);\n";

const up = (dir: string, pmHome: string, ready: RegExp) => scratch.up([dir], { home: pmHome }, ready);
const row = (rows: PsRow[], instance: string) => rows.find((candidate) => candidate.instance === instance);
const answerOf = async (port: number) => (await fetch(`http://127.0.0.1:${port}/`)).text();

describe('restart policies and one-shots', () => {
  it("a Heroku Procfile's release line runs once, before web; ps shows it exited (0), not restarting", async () => {
    const dir = project({ Procfile: 'web: node web.js\nrelease: node migrate.js\n', 'web.js': WEB, 'migrate.js': MIGRATE });
    const pmHome = home();
    const app = dir.split('/').pop()!.toLowerCase();
    const started = await up(dir, pmHome, new RegExp(`${app} is up`));
    expect(started.output).toContain('release.0 exited (0)');
    const rows = await psJson(pmHome);
    expect(row(rows, 'release')).toMatchObject({ state: 'exited', exitCode: 0, restarts: 0, pid: null });
    // web started after the release phase had finished
    expect(await answerOf(row(rows, 'web')!.port!)).toBe('migrated');
    await sleep(2500); // past the first two backoffs a restart would take
    expect(row(await psJson(pmHome), 'release')).toMatchObject({ state: 'exited', restarts: 0 });
    expect(readFileSync(join(dir, 'runs'), 'utf8')).toBe('run\n');
    const ps = await runCli(['ps', app], { home: pmHome });
    expect(ps.stdout).toMatch(/release\.0\s+exited \(0\)/);
    expect(ps.stdout).toMatch(/web\.0\s+running/);
  }, 60_000);

  it('depends_on with condition: completed waits for the one-shot to finish', async () => {
    const dir = project({
      'paasmaker.yml': [
        'application: {name: waits}',
        'instances:',
        '  migrate: {command: node migrate.js, oneshot: true}',
        '  web:',
        '    command: node web.js',
        '    depends_on:',
        '      migrate: {condition: completed}',
        '',
      ].join('\n'),
      'web.js': WEB,
      'migrate.js': MIGRATE,
    });
    const pmHome = home();
    await up(dir, pmHome, /waits is up/);
    const rows = await psJson(pmHome);
    expect(await answerOf(row(rows, 'web')!.port!)).toBe('migrated');
    expect(row(rows, 'migrate')).toMatchObject({ state: 'exited', exitCode: 0 });
  }, 60_000);

  it('a failed one-shot keeps what depends on it from starting, and says which and why', async () => {
    const dir = project({
      Procfile: 'web: node web.js\nrelease: node migrate.js\n',
      'web.js': WEB,
      'migrate.js': "console.error('relation \"users\" does not exist'); process.exit(2);\n",
    });
    const result = await runCli(['up', '--no-tui', '--no-watch', dir], { home: home() });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('web was not started: it depends on the one-shot "release", which exited with code 2');
    expect(result.stderr).toContain('relation "users" does not exist');
    expect(result.stderr).toContain('hint: fix release (`node migrate.js`), then run paasmaker up again');
    expect(existsSync(join(dir, 'web-started'))).toBe(false);
  }, 60_000);

  it('restart: never ends crashed and stays; a clean exit under on-failure ends exited; max_restarts reached ends crashed', async () => {
    const dir = project({
      'paasmaker.yml': [
        'application: {name: policies}',
        'instances:',
        '  web: {command: node web.js}',
        '  once: {command: "echo giving up; exit 3", standalone: true, restart: never}',
        '  done: {command: "echo finished", standalone: true}',
        '  flaky: {command: "echo failing; exit 1", standalone: true, max_restarts: 2}',
        '',
      ].join('\n'),
      'web.js': WEB,
    });
    const pmHome = home();
    await up(dir, pmHome, /policies is up/);
    // flaky: three runs, one second then two seconds of backoff between them
    const rows = await until(async () => {
      const all = await psJson(pmHome);
      return row(all, 'flaky')?.state === 'crashed' ? all : undefined;
    }, 15_000, 'flaky to end crashed');
    expect(row(rows, 'flaky')).toMatchObject({ state: 'crashed', exitCode: 1, restarts: 2, pid: null });
    expect(row(rows, 'once')).toMatchObject({ state: 'crashed', exitCode: 3, restarts: 0 });
    expect(row(rows, 'done')).toMatchObject({ state: 'exited', exitCode: 0, restarts: 0 });
    expect(row(rows, 'web')).toMatchObject({ state: 'running' });
    await sleep(2000);
    const later = await psJson(pmHome);
    expect(['once', 'done', 'flaky'].map((name) => [name, row(later, name)!.state, row(later, name)!.restarts])).toEqual([
      ['once', 'crashed', 0],
      ['done', 'exited', 0],
      ['flaky', 'crashed', 2],
    ]);
    const ps = await runCli(['ps', 'policies'], { home: pmHome });
    expect(ps.stdout).toMatch(/once\.0\s+crashed \(3\)/);
    expect(ps.stdout).toMatch(/flaky\.0\s+crashed \(1\)/);
    const logs = await runCli(['logs', 'policies'], { home: pmHome });
    expect(logs.stdout).toContain('exited with code 1; not restarting: 2 restarts in a row (max_restarts)');
  }, 60_000);
});
