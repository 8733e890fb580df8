import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findBinary } from '../../src/services/binaries.js';
import { CliProcess, runCli, sleep, tempHome, until } from '../helpers/cli.js';
import { processesUnder } from '../helpers/processes.js';

// Real servers from the system's binaries, each test in its own PAASMAKER_HOME.
// A missing binary skips these tests with what to install — except in CI, where it fails.
const NEEDED = { postgres: ['initdb', 'postgres', 'psql'], mysql: ['mariadb-install-db', 'mariadbd', 'mariadb'], redis: ['redis-server', 'redis-cli'] };
const missing = Object.values(NEEDED)
  .flat()
  .filter((binary) => !findBinary([binary]));
const skip = missing.length > 0 && process.env.CI !== 'true';
if (skip) console.warn(`skipping service tests: install ${missing.join(', ')} (apt install postgresql mariadb-server redis-server)`);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function home(): string {
  const { home, cleanup } = tempHome();
  cleanups.push(async () => {
    // Servers die with their platform; wait for them before removing their data.
    const deadline = Date.now() + 10_000;
    while (processesUnder(home).length > 0 && Date.now() < deadline) await sleep(50);
    for (const pid of processesUnder(home)) process.kill(pid, 'SIGKILL');
    cleanup();
  });
  return home;
}

function project(name: string, services: string, extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-project-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'paasmaker.yml'),
    `application:\n  name: ${name}\ninstances:\n  web:\n    command: node -e "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT)"\n${extra}services:\n${services}`,
  );
  return dir;
}

async function envJson(dir: string, pmHome: string): Promise<Record<string, string>> {
  const result = await runCli(['env', dir, '--json', '--show-secrets'], { home: pmHome });
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, string>;
}

describe.skipIf(skip)('managed services', () => {
  it('provisions PostgreSQL, Redis, MariaDB and SQLite, and hands over credentials that connect', async () => {
    const pmHome = home();
    const dir = project('shop', '  db:\n    plugin: postgres\n  cache:\n    plugin: redis\n  my:\n    plugin: mysql\n  notes: {}\n');
    const env = await envJson(dir, pmHome);
    expect(env.DATABASE_URL).toMatch(/^postgresql:\/\/shop__db:[0-9a-f]{64}@127\.0\.0\.1:\d+\/shop__db$/);
    expect(env.REDIS_URL).toMatch(/^redis:\/\/shop__cache:[0-9a-f]{64}@127\.0\.0\.1:\d+\/1$/);
    expect(env.MY_URL).toMatch(/^mysql:\/\/shop__my:/);
    expect(env).toMatchObject({ MY_HOST: '127.0.0.1', MY_USER: 'shop__my', MY_DATABASE: 'shop__my' });
    expect(env.MY_PASSWORD).toHaveLength(64);
    expect(env.NOTES_URL).toBe(`sqlite://${join(pmHome, 'data', 'shop', 'notes.sqlite')}`);
    const pm = JSON.parse(env.PM_SERVICES!);
    expect(pm.db).toMatchObject({ protocol: 'pgsql', hostname: '127.0.0.1', username: 'shop__db', database: 'shop__db', password: env.DB_PASSWORD });
    expect(pm.cache).toMatchObject({ protocol: 'redis', database: '1' });
    expect(JSON.parse(env.PM_METADATA!).application.name).toBe('shop');

    // The same credentials, the second time: provisioning is idempotent.
    expect((await envJson(dir, pmHome)).DATABASE_URL).toBe(env.DATABASE_URL);

    const psql = await runCli(['run', dir, '--', 'psql', '$DATABASE_URL', '-tAc', 'select current_user'], { home: pmHome });
    expect(psql.stdout.trim(), psql.stderr).toBe('shop__db');
    const redis = await runCli(['run', dir, '--', 'redis-cli', '--no-auth-warning', '-u', '$REDIS_URL', 'ping'], { home: pmHome });
    expect(redis.stdout.trim(), redis.stderr).toBe('PONG');
    const maria = await runCli(['run', dir, '--', 'sh', '-c', 'mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" -p"$MY_PASSWORD" "$MY_DATABASE" -Nse "select database()"'], { home: pmHome });
    expect(maria.stdout.trim(), maria.stderr).toBe('shop__my');

    // Secrets: files only the owner reads, masked in plain `env`.
    const secrets = join(pmHome, 'secrets', 'postgres', 'shop__db');
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    const plain = await runCli(['env', dir], { home: pmHome });
    expect(plain.stdout).not.toContain(env.DB_PASSWORD!);
    expect(plain.stdout).toContain('DB_PASSWORD=');
    // Every server stopped with the command that started it.
    await until(() => processesUnder(pmHome).length === 0, 10_000, 'servers to stop');
  });

  it('keeps data across kill -9 of paasmaker up, and leaves no server running', async () => {
    const pmHome = home();
    const dir = project('keep', '  db:\n    plugin: postgres\n  cache:\n    plugin: redis\n');
    const up = new CliProcess(['up', dir], { home: pmHome });
    cleanups.push(() => up.kill());
    await up.waitForOutput(/keep is up/, 30_000);
    const write = await runCli(['run', dir, '--', 'sh', '-c', 'psql "$DATABASE_URL" -qc "create table t (x int); insert into t values (42)" && redis-cli --no-auth-warning -u "$REDIS_URL" set answer 42'], { home: pmHome });
    expect(write.exitCode, write.stderr).toBe(0);
    up.kill();
    await until(() => processesUnder(pmHome).length === 0, 5000, 'every server to die with paasmaker');

    const again = new CliProcess(['up', dir], { home: pmHome });
    cleanups.push(() => again.kill());
    await again.waitForOutput(/keep is up/, 30_000);
    const read = await runCli(['run', dir, '--', 'sh', '-c', 'psql "$DATABASE_URL" -tAc "select x from t" && redis-cli --no-auth-warning -u "$REDIS_URL" get answer'], { home: pmHome });
    expect(read.stdout.trim().split('\n'), read.stderr).toEqual(['42', '42']);
    again.signal('SIGINT');
    expect(await again.wait()).toBe(130);
  });

  it('keeps apps out of each other\'s databases', async () => {
    const pmHome = home();
    const a = await envJson(project('alpha', '  db:\n    plugin: postgres\n  my:\n    plugin: mysql\n'), pmHome);
    const b = await envJson(project('beta', '  db:\n    plugin: postgres\n  my:\n    plugin: mysql\n'), pmHome);
    const bDir = project('beta', '  db:\n    plugin: postgres\n  my:\n    plugin: mysql\n');
    // Beta's own run keeps the servers up; alpha's credentials try beta's databases.
    const pg = await runCli(['run', bDir, '--', 'psql', `postgresql://alpha__db:${a.DB_PASSWORD}@127.0.0.1:$DB_PORT/beta__db`, '-c', 'select 1'], { home: pmHome });
    expect(pg.exitCode).not.toBe(0);
    expect(pg.stderr).toMatch(/permission denied for database "beta__db"/);
    const my = await runCli(['run', bDir, '--', 'sh', '-c', `mariadb -h 127.0.0.1 -P "$MY_PORT" -u alpha__my -p${a.MY_PASSWORD} beta__my -e "select 1"`], { home: pmHome });
    expect(my.exitCode).not.toBe(0);
    expect(my.stderr).toMatch(/Access denied for user 'alpha__my'/);
    expect(b.DATABASE_URL).not.toBe(a.DATABASE_URL);
  });

  it('destroys a service through the daemon, only when asked with --yes', async () => {
    const pmHome = home();
    const dir = project('gone', '  db:\n    plugin: postgres\n');
    cleanups.push(async () => void (await runCli(['daemon', 'stop'], { home: pmHome })));
    const up = await runCli(['up', '-d', dir], { home: pmHome });
    expect(up.exitCode, up.stderr).toBe(0);
    const refused = await runCli(['services', 'destroy', 'gone/db'], { home: pmHome });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('--yes');
    const listed = JSON.parse((await runCli(['services', '--json'], { home: pmHome })).stdout) as Array<{ name: string; kind: string }>;
    expect(listed.map((row) => row.name)).toContain('gone/db');
    const destroyed = await runCli(['services', 'destroy', 'gone/db', '--yes'], { home: pmHome });
    expect(destroyed.exitCode, destroyed.stderr).toBe(0);
    const after = JSON.parse((await runCli(['services', '--json'], { home: pmHome })).stdout) as Array<{ name: string }>;
    expect(after.map((row) => row.name)).not.toContain('gone/db');
  });

  it('gives each git branch its own database when per_branch is set, copied from main with clone_from', async () => {
    const pmHome = home();
    const dir = project('branchy', '  db:\n    plugin: postgres\n    per_branch: true\n    clone_from: main\n  notes:\n    plugin: sqlite\n    per_branch: true\n');
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('commit', '-q', '--allow-empty', '-m', 'first');
    const main = await envJson(dir, pmHome);
    const seed = await runCli(['run', dir, '--', 'psql', '$DATABASE_URL', '-qc', 'create table t (x int); insert into t values (7)'], { home: pmHome });
    expect(seed.exitCode, seed.stderr).toBe(0);
    git('checkout', '-q', '-b', 'feature/login');
    const feature = await envJson(dir, pmHome);
    expect(main.DB_DATABASE).toBe('branchy__db__main');
    expect(feature.DB_DATABASE).toMatch(/^branchy__db__feature_login/);
    expect(feature.NOTES_PATH).not.toBe(main.NOTES_PATH);
    // The branch's copy has main's rows and belongs to the branch's role: it can write.
    const copy = await runCli(['run', dir, '--', 'psql', '$DATABASE_URL', '-qtAc', 'insert into t values (8); select sum(x) from t'], { home: pmHome });
    expect(copy.stdout.trim(), copy.stderr).toBe('15');
    const listed = JSON.parse((await runCli(['services', '--json'], { home: pmHome })).stdout) as Array<{ name: string; branch: string | null }>;
    expect(listed.filter((row) => row.name === 'branchy/db').map((row) => row.branch).sort()).toEqual(['feature/login', 'main']);
  });
});

describe.skipIf(skip)('external services (the system servers)', () => {
  it('provisions into existing PostgreSQL, MariaDB and Redis named in config.yml, and cleans up', async () => {
    const pmHome = home();
    mkdirSync(pmHome, { recursive: true });
    writeFileSync(
      join(pmHome, 'config.yml'),
      'services:\n  pg-shared:\n    plugin: postgres-external\n    admin_url: postgres://postgres@127.0.0.1:5432/postgres\n  my-shared:\n    plugin: mysql-external\n    admin_url: mysql://root@127.0.0.1:3306\n  redis-shared:\n    plugin: redis-external\n    admin_url: redis://127.0.0.1:6379\n',
    );
    const app = `ext${process.pid}`;
    const dir = project(app, '  db:\n    plugin: pg-shared\n  my:\n    plugin: my-shared\n  cache:\n    plugin: redis-shared\n');
    cleanups.push(async () => {
      for (const service of ['db', 'my', 'cache']) await runCli(['services', 'destroy', `${app}/${service}`, '--yes'], { home: pmHome });
    });
    const env = await envJson(dir, pmHome);
    expect(env.DB_PORT).toBe('5432');
    expect(env.MY_PORT).toBe('3306');
    expect(env.CACHE_PORT).toBe('6379');
    const check = await runCli(['run', dir, '--', 'sh', '-c', 'psql "$DATABASE_URL" -tAc "select current_database()" && mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" -p"$MY_PASSWORD" "$MY_DATABASE" -Nse "select database()" && redis-cli -u "$REDIS_URL" ping'], { home: pmHome });
    expect(check.stdout.trim().split('\n'), check.stderr).toEqual([`${app}__db`, `${app}__my`, 'PONG']);
  });
});

describe('service configuration errors', () => {
  it('points at an unknown service name in the manifest, with a suggestion', async () => {
    const pmHome = home();
    const dir = project('typo', '  db:\n    plugin: postgress\n');
    const result = await runCli(['env', dir], { home: pmHome });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/paasmaker\.yml:\d+:\d+: services\.db asks for "postgress", which is not a service here — did you mean "postgres"\?/);
  });

  it('points at a bad plugin in config.yml', async () => {
    const pmHome = home();
    writeFileSync(join(pmHome, 'config.yml'), 'services:\n  pg:\n    plugin: postgres-externl\n');
    const result = await runCli(['env', project('cfg', '  db:\n    plugin: pg\n')], { home: pmHome });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/config\.yml:3:13: unknown plugin "postgres-externl" — did you mean "postgres-external"\?/);
  });

  it('refuses a hostile service name before it reaches SQL or a shell', async () => {
    const pmHome = home();
    const result = await runCli(['env', project('evil', '  "db\\"; DROP DATABASE postgres; --":\n    plugin: sqlite\n')], { home: pmHome });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/service name .* must start with a-z/);
  });

  for (const plugin of ['postgres', 'redis', 'mysql'] as const) {
    it(`a managed ${plugin} server restarted by the platform after kill -9 is recorded running with its new pid, and shared`, async () => {
      const pmHome = home();
      const dir = project('phoenix', `  db:\n    plugin: ${plugin}\n`);
      const up = new CliProcess(['up', dir, '--no-watch'], { home: pmHome });
      cleanups.push(() => up.kill());
      await up.waitForOutput(/phoenix is up/, 60_000);
      const server = async () => {
        const result = await runCli(['services', '--json'], { home: pmHome });
        expect(result.exitCode, result.stderr).toBe(0);
        return (JSON.parse(result.stdout) as Array<{ kind: string; plugin: string; state: string; pid: number | null; port: number | null }>).find((row) => row.kind === 'server' && row.plugin === plugin)!;
      };
      const before = await server();
      expect(before).toMatchObject({ state: 'running' });
      const url = (await envJson(dir, pmHome)).DB_URL;

      process.kill(before.pid!, 'SIGKILL');
      const during = runCli(['env', dir, '--json', '--show-secrets'], { home: pmHome }); // while the platform restarts it
      const after = await until(async () => {
        const now = await server();
        return now.state === 'running' && now.pid !== before.pid && now;
      }, 20_000, `${plugin} running again under a new pid`);
      expect(after.port).toBe(before.port);
      expect(readlinkSync(`/proc/${after.pid}/cwd`).startsWith(pmHome)).toBe(true); // the server of this home

      // Other paasmakers share the restarted server, during the restart and after, instead of starting another on its data.
      for (const env of [await during, await runCli(['env', dir, '--json', '--show-secrets'], { home: pmHome })]) {
        expect(env.exitCode, env.stderr).toBe(0);
        expect(JSON.parse(env.stdout).DB_URL).toBe(url);
        expect(env.stderr).not.toMatch(/stopping the server|lock file/);
      }
      expect((await server()).pid).toBe(after.pid);
      const check = { postgres: 'psql "$DB_URL" -tAc "select 42"', redis: 'redis-cli --no-auth-warning -u "$DB_URL" ping', mysql: 'mariadb -h "$DB_HOST" -P "$DB_PORT" -u "$DB_USER" -p"$DB_PASSWORD" -N -e "select 42" "$DB_DATABASE"' }[plugin];
      const query = await runCli(['run', dir, '--', 'sh', '-c', check], { home: pmHome });
      expect(query.stdout.trim(), query.stderr).toBe(plugin === 'redis' ? 'PONG' : '42');
      up.signal('SIGINT');
      expect(await up.wait()).toBe(130);
    }, 120_000);
  }
});
