import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { CliProcess, cliEnv, repoRoot, runCli, tempHome } from '../helpers/cli.js';

// What foreman, compose, docker and Heroku users expect of a command line:
// ps shows what runs, an unknown name exits 1, secrets stay masked, stats and
// logs follow and filter as docker's do, and init writes a first manifest.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const SERVER = "console.log('hello from web'); require('http').createServer((req, res) => res.end('ok')).listen(process.env.PORT, '127.0.0.1');\n";

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-conventions-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const app = (name: string, extra: Record<string, string> = {}) =>
  folder({ 'paasmaker.yml': `application:\n  name: ${name}\ninstances:\n  web:\n    command: node server.js\n`, 'server.js': SERVER, ...extra });

function home(): string {
  const made = tempHome();
  cleanups.push(made.cleanup);
  return made.home;
}

async function up(dir: string, pmHome: string, name: string): Promise<CliProcess> {
  const process = new CliProcess(['up', dir, '--no-tui', '--no-watch'], { home: pmHome });
  cleanups.push(async () => {
    process.signal('SIGINT');
    await process.wait(15_000).catch(() => process.kill());
  });
  await process.waitForOutput(`${name} is up`, 30_000);
  return process;
}

describe('ps, stats and logs', () => {
  it('ps lists the apps that run, -a the stopped ones too; an unknown app exits 1 for ps, stats and logs, naming the known ones', async () => {
    const pmHome = home();
    const gone = await up(app('gone'), pmHome, 'gone');
    gone.signal('SIGINT');
    expect(await gone.wait()).toBe(130);
    await up(app('live'), pmHome, 'live');

    const ps = await runCli(['ps'], { home: pmHome });
    expect(ps.exitCode, ps.stderr).toBe(0);
    expect(ps.stdout).toMatch(/^live\s+web\.0\s+running/m);
    expect(ps.stdout).not.toContain('gone');
    const all = await runCli(['ps', '-a'], { home: pmHome });
    // A stopped app keeps no port: it went back to the pool.
    expect(all.stdout).toMatch(/^gone\s+web\.0\s+stopped\s+-\s+-\s/m);
    expect(all.stdout).toMatch(/^live\s+web\.0\s+running/m);
    expect((await runCli(['ps', 'gone'], { home: pmHome })).stdout).toContain('App "gone" is not running (paasmaker ps -a shows stopped apps too)');

    for (const args of [['ps', 'nope'], ['stats', 'nope'], ['ps', 'nope', '--json']]) {
      const result = await runCli(args, { home: pmHome });
      expect(result.exitCode, args.join(' ')).toBe(1);
      expect(result.stderr).toContain('no app named "nope"');
      expect(result.stderr).toMatch(/hint: known apps: (gone, live|live, gone)/);
    }
    const logs = await runCli(['logs', 'nope'], { home: pmHome });
    expect(logs.exitCode).toBe(1);
    expect(logs.stderr).toMatch(/hint: name one: paasmaker logs APP\[\/INSTANCE\] \(known: .*live/);
    const instance = await runCli(['logs', 'live/nope'], { home: pmHome });
    expect(instance.exitCode).toBe(1);
    expect(instance.stderr).toContain('hint: instances of live: web; apps:');
  }, 90_000);

  it('stats -f refreshes every second until Ctrl-C; --window has no short form any more', async () => {
    const pmHome = home();
    await up(app('counted'), pmHome, 'counted');
    const follow = new CliProcess(['stats', '-f', '--json', '--window', '30'], { home: pmHome });
    cleanups.push(() => follow.kill());
    const started = Date.now();
    await follow.waitForOutput(/^\[.*\]\n\[.*\]\n\[.*\]\n/s, 10_000);
    expect(Date.now() - started).toBeGreaterThan(1500);
    follow.signal('SIGINT');
    expect(await follow.wait()).toBe(0);
    for (const line of follow.output.trim().split('\n')) expect(Array.isArray(JSON.parse(line))).toBe(true);

    const short = await runCli(['stats', '-w', '30'], { home: pmHome });
    expect(short.exitCode).not.toBe(0);
    expect(short.stderr).toMatch(/unknown option '-w'/);
  }, 60_000);

  it('logs --since keeps the recent lines and -t prints their time, from the running platform and from the files', async () => {
    const pmHome = home();
    const dir = app('stamped');
    const running = await up(dir, pmHome, 'stamped');
    const stamp = /^web\.0 \| (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) hello from web$/m;
    for (const live of [true, false]) {
      const recent = await runCli(['logs', 'stamped', '--since', '10m', '-t'], { home: pmHome });
      expect(recent.exitCode, recent.stderr).toBe(0);
      const time = Date.parse(stamp.exec(recent.stdout)?.[1] ?? '');
      expect(Math.abs(Date.now() - time), `${live ? 'running' : 'stopped'}:\n${recent.stdout}`).toBeLessThan(60_000);
      const later = await runCli(['logs', 'stamped', '--since', new Date(Date.now() + 60_000).toISOString()], { home: pmHome });
      expect(later.exitCode).toBe(0);
      expect(later.stdout).not.toContain('hello from web');
      expect((await runCli(['logs', 'stamped'], { home: pmHome })).stdout).toMatch(/^web\.0 \| hello from web$/m);
      if (live) {
        running.signal('SIGTERM');
        expect(await running.wait()).toBe(143);
      }
    }
    const bad = await runCli(['logs', 'stamped', '--since', 'soon'], { home: pmHome });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--since takes a duration (30s, 10m, 1h, 2d) or an ISO time');
  }, 60_000);
});

describe('paasmaker env', () => {
  it('masks secrets in --json unless --show-secrets, and shows the PORT the processes get instead of the .env one', async () => {
    const pmHome = home();
    const dir = app('secretive', { '.env': 'PORT=5000\nAPI_PASSWORD=hunter2-secret\n' });
    const masked = await runCli(['env', dir, '--json'], { home: pmHome });
    expect(masked.exitCode, masked.stderr).toBe(0);
    expect(JSON.parse(masked.stdout)).toMatchObject({ API_PASSWORD: '********', PORT: '<given at start, one per process>' });
    expect(masked.stdout).not.toContain('hunter2-secret');
    const shown = await runCli(['env', dir, '--json', '--show-secrets'], { home: pmHome });
    expect(JSON.parse(shown.stdout)).toMatchObject({ API_PASSWORD: 'hunter2-secret' });

    await up(dir, pmHome, 'secretive');
    const port = (JSON.parse((await runCli(['ps', 'secretive', '--json'], { home: pmHome })).stdout) as Array<{ port: number }>)[0]!.port;
    const live = await runCli(['env', dir], { home: pmHome });
    expect(live.stdout).toMatch(new RegExp(`^PORT=${port}$`, 'm'));
    expect(live.stdout).not.toContain('5000');
    expect(live.stdout).toContain("API_PASSWORD='********'");
  }, 90_000);
});

describe('paasmaker init', () => {
  it('writes a commented paasmaker.yml from package.json that up runs, and refuses to overwrite it without --force', async () => {
    const pmHome = home();
    const dir = folder({ 'package.json': JSON.stringify({ name: 'shop', scripts: { start: 'node server.js' } }), 'server.js': SERVER });
    const init = await runCli(['init', dir, '--name', 'shop'], { home: pmHome });
    expect(init.exitCode, init.stderr).toBe(0);
    expect(init.stdout).toContain('guessed from package.json (scripts.start)');
    const written = readFileSync(join(dir, 'paasmaker.yml'), 'utf8');
    expect(written).toMatch(/^# /);
    expect(written).toContain('    runtime: node\n    command: npm start\n');
    expect(written).toContain('# services:');

    const again = await runCli(['init', dir], { home: pmHome });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('paasmaker.yml exists');
    expect(again.stderr).toContain('--force');
    expect(readFileSync(join(dir, 'paasmaker.yml'), 'utf8')).toBe(written);
    expect((await runCli(['init', dir, '--force', '--name', 'shop'], { home: pmHome })).exitCode).toBe(0);

    await up(dir, pmHome, 'shop');
  }, 90_000);

  it('guesses Python, PHP and Ruby projects, keeps a Procfile unless --force, and says what it looks for in an empty folder', async () => {
    const pmHome = home();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ 'requirements.txt': 'gunicorn==22.0\n', 'app.py': '' }, /runtime: python\n {4}command: gunicorn app:app --bind 127\.0\.0\.1:\$PORT\n/],
      [{ 'requirements.txt': 'flask\n', 'main.py': '' }, /runtime: python\n {4}command: python3 main\.py\n/],
      [{ 'composer.json': '{}', 'public/index.php': '' }, /serves public on \$PORT[^\n]*\n {4}runtime: php\n(?! {4}command)/],
      [{ 'composer.json': '{}', 'web/index.php': '' }, /runtime: \{name: php, document_root: web\}\n/],
      [{ Gemfile: "source 'https://rubygems.org'\n", 'config.ru': '' }, /runtime: ruby\n {4}command: bundle exec rackup -o 127\.0\.0\.1 -p \$PORT\n(?![^]*prepare:)/],
    ];
    for (const [files, expected] of cases) {
      const dir = folder(files);
      const result = await runCli(['init', dir], { home: pmHome });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(readFileSync(join(dir, 'paasmaker.yml'), 'utf8')).toMatch(expected);
    }
    const procfile = folder({ Procfile: 'web: node server.js\n', 'package.json': '{}' });
    const kept = await runCli(['init', procfile], { home: pmHome });
    expect(kept.exitCode).toBe(1);
    expect(kept.stderr).toContain('Procfile exists');
    const empty = await runCli(['init', folder({ 'notes.txt': '' })], { home: pmHome });
    expect(empty.exitCode).toBe(1);
    expect(empty.stderr).toContain('init looks for package.json, requirements.txt, composer.json, Gemfile or index.html');
  }, 60_000);
});

describe('the paasmaker command', () => {
  it('runs through the symlinks npm link and npm install -g make', async () => {
    const prefix = mkdtempSync(join(tmpdir(), 'pm-prefix-'));
    cleanups.push(() => rmSync(prefix, { recursive: true, force: true }));
    // npm link: PREFIX/lib/node_modules/paasmaker → the clone, PREFIX/bin/paasmaker → ../lib/node_modules/paasmaker/bin/paasmaker.
    mkdirSync(join(prefix, 'lib', 'node_modules'), { recursive: true });
    mkdirSync(join(prefix, 'bin'));
    symlinkSync(repoRoot, join(prefix, 'lib', 'node_modules', 'paasmaker'));
    symlinkSync(join('..', 'lib', 'node_modules', 'paasmaker', 'bin', 'paasmaker'), join(prefix, 'bin', 'paasmaker'));
    const pmHome = home();
    const env = { ...cliEnv(pmHome), PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
    const version = await execa('paasmaker', ['--version'], { env, cwd: prefix, reject: false });
    expect(version.exitCode, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
    const ps = await execa('paasmaker', ['ps'], { env, cwd: prefix, reject: false });
    expect(ps.exitCode, ps.stderr).toBe(0);
    expect(ps.stdout).toContain('No app is running');
  });
});
