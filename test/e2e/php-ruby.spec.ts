import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { execFileSync } from 'node:child_process';
import { onPath } from '../../runtimes/versions.js';
import { findBinary } from '../../src/services/binaries.js';
import { RuntimeSchema } from '../../src/shared/views.js';
import { CliProcess, examples, runCli, sleep, tempHome } from '../helpers/cli.js';
import { processesUnder } from '../helpers/processes.js';

// The PHP and Ruby examples, run as a user would: paasmaker up, then requests through the router.
const hasPhp = onPath('php', process.env) !== undefined;
const hasRuby = onPath('ruby', process.env) !== undefined && onPath('bundle', process.env) !== undefined;
const ci = process.env.CI === 'true';
const phpModules = hasPhp ? execFileSync('php', ['-m'], { encoding: 'utf8' }).split('\n') : [];
// MariaDB is the machine's to have or not (the services' tests say the same): without it, the MariaDB variant is skipped.
const hasMariadb = ['mariadbd', 'mariadb-install-db', 'mariadb'].every((name) => findBinary([name, name.replace('mariadb', 'mysql')])) && phpModules.includes('pdo_mysql');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function home(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(cleanup);
  return home;
}

/** A copy of an example in a fresh PAASMAKER_HOME (so nothing the run writes lands in the repository), its manifest edited. */
function copyExample(pmHome: string, example: string, edit: (manifest: string) => string = (text) => text): string {
  const project = join(pmHome, 'projects', example);
  mkdirSync(join(pmHome, 'projects'), { recursive: true });
  cpSync(join(examples, example), project, { recursive: true });
  const manifest = join(project, 'paasmaker.yml');
  writeFileSync(manifest, edit(readFileSync(manifest, 'utf8')));
  return project;
}

async function up(pmHome: string, project: string): Promise<{ port: number; up: CliProcess }> {
  const running = new CliProcess(['up', project], { home: pmHome });
  cleanups.push(async () => {
    running.signal('SIGINT');
    await running.wait(20_000).catch(() => running.kill());
    // The app's processes and the managed servers (MariaDB) all run from under PAASMAKER_HOME.
    for (let i = 0; i < 100 && processesUnder(pmHome).length > 0; i++) await sleep(50);
    expect(processesUnder(pmHome)).toEqual([]);
  });
  // `open https://NAME:TLS/ (or http://NAME:PORT/)` with TLS on, `open http://NAME:PORT/` without: the plain port is the one after http://.
  await running.waitForOutput(/open https?:\/\/[a-z0-9-]+\.localhost:\d+\//, 120_000);
  return { port: Number(/http:\/\/[a-z0-9-]+\.localhost:(\d+)\//.exec(running.output)?.[1]), up: running };
}

function call(port: number, host: string, path: string, options: { method?: string; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host, 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe.skipIf(!hasPhp && !ci)('php', () => {
  it('php-notes: the built-in server behind the router writes a note to the sqlite service and reads it back', async () => {
    const pmHome = home();
    const project = copyExample(pmHome, 'php-notes');
    const { port, up: running } = await up(pmHome, project);
    const created = await call(port, 'php-notes.localhost', '/notes', { method: 'POST', body: JSON.stringify({ body: 'buy milk' }) });
    expect(created.status, created.body).toBe(201);
    const list = JSON.parse((await call(port, 'php-notes.localhost', '/notes.json')).body) as Array<{ body: string }>;
    expect(list.map((note) => note.body)).toEqual(['buy milk']);
    // The database is the one DATABASE_URL names, under PAASMAKER_HOME: the app wrote nothing beside itself.
    expect(existsSync(join(project, 'notes.sqlite'))).toBe(false);
    expect(running.output).toMatch(/PHP \d+\.\d+\.\d+ Development Server/);
  }, 180_000);

  it.skipIf(!hasMariadb)('php-notes on the managed MariaDB: the same code reads mysql:// from DATABASE_URL', async () => {
    const pmHome = home();
    const project = copyExample(pmHome, 'php-notes', (text) => text.replace('plugin: sqlite', 'plugin: mysql'));
    const { port } = await up(pmHome, project);
    const created = await call(port, 'php-notes.localhost', '/notes', { method: 'POST', body: JSON.stringify({ body: 'in mariadb' }) });
    expect(created.status, created.body).toBe(201);
    const list = JSON.parse((await call(port, 'php-notes.localhost', '/notes.json')).body) as Array<{ body: string }>;
    expect(list.map((note) => note.body)).toEqual(['in mariadb']);
  }, 240_000);

  it('quantity: 2 starts two PHP processes, and the router shares the requests between them', async () => {
    const pmHome = home();
    const project = copyExample(pmHome, 'php-notes', (text) => text.replace('    health: {path: /health}', '    health: {path: /health}\n    quantity: 2'));
    const { port } = await up(pmHome, project);
    const pids = new Set<number>();
    for (let i = 0; i < 6; i++) pids.add((JSON.parse((await call(port, 'php-notes.localhost', '/health')).body) as { pid: number }).pid);
    expect(pids.size).toBe(2);
  }, 180_000);

  it.skipIf(!onPath('composer', process.env) && !ci)('a composer.json project without a command: composer install prepares it, the built-in server serves public/', async () => {
    const pmHome = home();
    const project = join(pmHome, 'composed');
    mkdirSync(join(project, 'public'), { recursive: true });
    mkdirSync(join(project, 'src'));
    writeFileSync(join(project, 'paasmaker.yml'), 'application: {name: composed}\ninstances:\n  web:\n    runtime: php\n');
    writeFileSync(join(project, 'composer.json'), JSON.stringify({ name: 'example/composed', require: { php: '>=8.1' }, autoload: { 'psr-4': { 'App\\': 'src/' } } }));
    writeFileSync(join(project, 'src', 'Greeting.php'), '<?php\nnamespace App;\nfinal class Greeting { public static function text(): string { return "hello from the autoloader"; } }\n');
    writeFileSync(join(project, 'public', 'index.php'), "<?php\nrequire __DIR__ . '/../vendor/autoload.php';\necho App\\Greeting::text();\n");
    const { port, up: running } = await up(pmHome, project);
    expect(running.output).toContain('composer install --no-interaction');
    expect(await call(port, 'composed.localhost', '/')).toEqual({ status: 200, body: 'hello from the autoloader' });
  }, 180_000);

  it('a runtime option php does not take is a positioned error with the keys it takes', async () => {
    const pmHome = home();
    const project = join(pmHome, 'bogus');
    mkdirSync(project);
    writeFileSync(join(project, 'paasmaker.yml'), 'application: {name: bogus}\ninstances:\n  web:\n    runtime: {name: php, bogus: 1}\n');
    const result = await runCli(['up', project], { home: pmHome });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('paasmaker.yml:4:26: unknown key "bogus" in instances.web.runtime');
    expect(result.stderr).toContain('instances.web.runtime takes: name, version, document_root, router, workers');
  });

  it('a php version nobody has installed: RUNTIME_VERSION, with the package that brings it', async () => {
    const pmHome = home();
    const project = join(pmHome, 'old');
    mkdirSync(join(project, 'public'), { recursive: true });
    writeFileSync(join(project, 'paasmaker.yml'), 'application: {name: old}\ninstances:\n  web:\n    runtime: {name: php, version: "5.6"}\n');
    const result = await runCli(['up', project], { home: pmHome });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/needs php 5\.6 \(paasmaker\.yml:3:3\), but the php found is \d+\.\d+\.\d+/);
    expect(result.stderr).toMatch(process.platform === 'darwin' ? /hint: .*brew install php@5\.6/ : /hint: .*apt-get install php5\.6-cli/);
  });
});

describe.skipIf(!hasRuby && !ci)('ruby', () => {
  it('ruby-hello: bundle install into PAASMAKER_HOME (offline, from the system gems), then rackup behind the router', async () => {
    const pmHome = home();
    const project = copyExample(pmHome, 'ruby-hello');
    const { port } = await up(pmHome, project);
    const answer = await call(port, 'ruby-hello.localhost', '/?name=Ada');
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ message: 'Hello, Ada!', visits: 1 });
    // Gems go under PAASMAKER_HOME; the project gains its lockfile and nothing else.
    expect(readdirSync(join(pmHome, 'gems'))).toEqual([expect.stringMatching(/^ruby-hello-[0-9a-f]{8}$/)]);
    expect(readdirSync(project).sort()).toEqual(['.gitignore', 'Gemfile', 'Gemfile.lock', 'README.md', 'config.ru', 'paasmaker.yml']);
  }, 180_000);
});

describe.skipIf((!hasPhp || !hasRuby) && !ci)('paasmaker runtimes', () => {
  it('lists php and ruby with the versions installed here', async () => {
    const pmHome = home();
    const rows = z.array(RuntimeSchema).parse(JSON.parse((await runCli(['runtimes', '--json'], { home: pmHome })).stdout));
    for (const name of ['php', 'ruby']) {
      const row = rows.find((candidate) => candidate.name === name);
      expect(row?.installed.length, name).toBeGreaterThan(0);
      expect(row!.installed[0]).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/), source: 'PATH' });
    }
    // One line per binary, however many names it has (php and php8.2).
    const php = rows.find((row) => row.name === 'php')!;
    expect(new Set(php.installed.map((found) => found.version)).size).toBe(php.installed.length);
  });
});
