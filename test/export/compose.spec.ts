import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeExport } from '../../src/export/compose.js';
import { loadManifest } from '../../src/manifest/index.js';
import { loadConfig, pluginFor } from '../../src/services/index.js';
import { examples, runCli, tempHome } from '../helpers/cli.js';

// `paasmaker export compose`: a compose.yaml that parses, validates with
// docker compose when it is installed, comes out the same twice, and gives
// the app the variable names `paasmaker env` gives it locally.

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[]; retries: number };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas: number };
  restart?: string;
}
interface ComposeFile {
  name: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const EXAMPLES = ['hello-node', 'hello-python', 'php-notes', 'ruby-hello', 'static-site', 'notes', 'guestbook-pg', 'counter-redis', 'procfile-app'];

let home: ReturnType<typeof tempHome>;
let out: string;
let dockerCompose = false;

beforeAll(async () => {
  home = tempHome();
  out = mkdtempSync(join(tmpdir(), 'pm-compose-'));
  dockerCompose = (await execa('docker', ['compose', 'version'], { reject: false })).exitCode === 0;
});
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
  home.cleanup();
});

async function exportCompose(dir: string, file: string, extra: string[] = []) {
  const result = await runCli(['export', 'compose', dir, '-o', file, ...extra], { home: home.home });
  expect(result.exitCode, result.stderr).toBe(0);
  return { result, compose: parse(readFileSync(file, 'utf8')) as ComposeFile };
}

describe('paasmaker export compose', () => {
  it.each(EXAMPLES)('%s exports to a compose.yaml that parses, with a service per instance type built from its Dockerfile', async (example) => {
    const file = join(out, example, 'compose.yaml');
    const { compose, result } = await exportCompose(join(examples, example), file);
    expect(compose.name).toBe(example);
    const web = compose.services.web!;
    expect(web.build!.dockerfile).toMatch(/Dockerfile(\.web)?$/);
    expect(existsSync(join(out, example, web.build!.dockerfile.endsWith('.web') ? 'Dockerfile.web' : 'Dockerfile'))).toBe(true);
    expect(readFileSync(join(out, example, `${web.build!.dockerfile.split('/').pop()}.dockerignore`), 'utf8').split('\n')).toEqual(expect.arrayContaining(['.git', '.env', 'node_modules']));
    expect(web.environment!.PORT).toBe('8080');
    // Published on the host's loopback only, as Paasmaker serves.
    expect(web.ports).toEqual(['127.0.0.1:8080:8080']);
    expect(web.environment!.HOST).toBe('0.0.0.0');
    expect(web.deploy!.replicas).toBe(1);
    // It holds the databases' passwords.
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(result.stdout).toContain('docker build -f ');
    expect(result.stdout).toContain('(the export builds nothing)');
  });

  it('validates every export with `docker compose config -q` when docker compose is installed', async (ctx) => {
    if (!dockerCompose) {
      console.warn('skipped: `docker compose` is not installed here, so the exports were only parsed as YAML');
      ctx.skip();
    }
    for (const example of EXAMPLES) {
      const file = join(out, `valid-${example}`, 'compose.yaml');
      await exportCompose(join(examples, example), file);
      const check = await execa('docker', ['compose', '-f', file, 'config', '-q'], { reject: false });
      expect(check.exitCode, `${example}: ${check.stderr}`).toBe(0);
    }
  });

  it('writes the same bytes twice (the passwords it generated are kept)', async () => {
    const file = join(out, 'twice', 'compose.yaml');
    await exportCompose(join(examples, 'guestbook-pg'), file);
    const first = readFileSync(file, 'utf8');
    const dockerfile = readFileSync(join(out, 'twice', 'Dockerfile'), 'utf8');
    await exportCompose(join(examples, 'guestbook-pg'), file);
    expect(readFileSync(file, 'utf8')).toBe(first);
    expect(readFileSync(join(out, 'twice', 'Dockerfile'), 'utf8')).toBe(dockerfile);
    // Another export elsewhere makes passwords of its own.
    const { compose } = await exportCompose(join(examples, 'guestbook-pg'), join(out, 'elsewhere', 'compose.yaml'));
    expect(first).not.toContain(compose.services.db!.environment!.POSTGRES_PASSWORD);
  });

  it('runs the databases as official images with volumes and healthchecks, the app waiting for them', async () => {
    const { compose: pg } = await exportCompose(join(examples, 'guestbook-pg'), join(out, 'db-pg', 'compose.yaml'));
    const db = pg.services.db!;
    expect(db.image).toBe('postgres:15');
    expect(db.volumes).toEqual(['db-data:/var/lib/postgresql/data']);
    expect(db.healthcheck!.test.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    expect(pg.volumes).toEqual({ 'db-data': {} });
    expect(pg.services.web!.depends_on).toEqual({ db: { condition: 'service_healthy' } });
    const password = db.environment!.POSTGRES_PASSWORD!;
    expect(password).toMatch(/^[0-9a-f]{36}$/);
    expect(pg.services.web!.environment!.DATABASE_URL).toBe(`postgresql://guestbook_pg_db:${password}@db:5432/guestbook_pg_db`);
    expect(JSON.parse(pg.services.web!.environment!.PM_SERVICES!).db.hostname).toBe('db');

    const { compose: redis } = await exportCompose(join(examples, 'counter-redis'), join(out, 'db-redis', 'compose.yaml'));
    expect(redis.services.cache!.image).toBe('redis:7');
    expect(redis.services.web!.environment!.REDIS_URL).toMatch(/^redis:\/\/default:[0-9a-f]+@cache:6379\/0$/);

    // SQLite: a named volume mounted where the variables point.
    const { compose: notes } = await exportCompose(join(examples, 'notes'), join(out, 'db-sqlite', 'compose.yaml'));
    expect(notes.services.web!.volumes).toEqual(['db-data:/data/db']);
    expect(notes.services.web!.environment!.DB_PATH).toBe('/data/db/db.sqlite3');
    expect(Object.keys(notes.services)).toEqual(['web']);
  });

  it('maps a manifest with every feature: replicas, healthchecks, depends_on, startup, a standalone worker, crons in a comment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-compose-app-'));
    try {
      writeFileSync(join(dir, 'package.json'), '{}');
      writeFileSync(
        join(dir, 'paasmaker.yml'),
        [
          'application: {name: shop}',
          'instances:',
          '  migrate:',
          '    runtime: node',
          '    command: node migrate.js',
          '    oneshot: true',
          '  web:',
          '    runtime: node',
          '    command: node server.js',
          '    startup: [node warm.js]',
          '    quantity: 2',
          '    health: {path: /health, interval: 7, failures: 4}',
          '    depends_on: [migrate]',
          '    environment: {PRICE: "$5"}',
          '    crons:',
          '      - {name: nightly, schedule: "0 3 * * *", command: node nightly.js}',
          '      - {name: ping, schedule: "*/5 * * * *", uri: /ping}',
          '  worker:',
          '    runtime: node',
          '    command: node worker.js',
          '    standalone: true',
          '    depends_on: [web]',
          'services:',
          '  db: {plugin: postgres}',
          '  cache: {plugin: redis}',
          '  files: {plugin: filesystem}',
          '',
        ].join('\n'),
      );
      const file = join(out, 'shop', 'compose.yaml');
      const { compose, result } = await exportCompose(dir, file);
      expect(Object.keys(compose.services)).toEqual(['migrate', 'web', 'worker', 'db', 'cache']);
      const { web, worker, migrate } = compose.services as Record<string, ComposeService>;
      expect(web!.deploy!.replicas).toBe(2);
      // Several replicas: a host port each, chosen by docker.
      expect(web!.ports).toEqual(['127.0.0.1::8080']);
      expect(web!.healthcheck!.test[0]).toBe('CMD');
      expect(web!.healthcheck!.test.join(' ')).toContain('/health');
      expect(web!.healthcheck!.retries).toBe(4);
      expect(web!.command).toEqual(['/bin/sh', '-c', 'node warm.js && exec node server.js']);
      // A literal $, not compose's interpolation.
      expect(web!.environment!.PRICE).toBe('$$5');
      expect(web!.depends_on).toEqual({ db: { condition: 'service_healthy' }, cache: { condition: 'service_healthy' }, migrate: { condition: 'service_completed_successfully' } });
      expect(worker!.depends_on!.web).toEqual({ condition: 'service_healthy' });
      expect(worker!.ports).toBeUndefined();
      expect(worker!.environment!.PORT).toBeUndefined();
      expect(migrate!.restart).toBe('no');
      expect(web!.volumes).toEqual(['files-data:/data/files']);
      expect(web!.environment!.FILES_PATH).toBe('/data/files');
      const text = readFileSync(file, 'utf8');
      expect(text).toContain('#   nightly (web): 0 3 * * * node nightly.js');
      expect(text).toContain('#   ping (web): */5 * * * * GET /ping');
      expect(result.stderr).toContain('compose has no cron');
      // The build lines, once per Dockerfile.
      expect(result.stdout.match(/docker build/g)).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--image runs an instance type in the given image, with no Dockerfile for it', async () => {
    const dir = join(out, 'given');
    const { compose, result } = await exportCompose(join(examples, 'procfile-app'), join(dir, 'compose.yaml'), ['--image', 'worker=registry.example/worker:7', '--registry', 'ghcr.io/acme']);
    expect(compose.services.worker).toMatchObject({ image: 'registry.example/worker:7' });
    expect(compose.services.worker!.build).toBeUndefined();
    expect(compose.services.web!.image).toBe('ghcr.io/acme/procfile-app-web:latest');
    expect(existsSync(join(dir, 'Dockerfile'))).toBe(true);
    expect(existsSync(join(dir, 'Dockerfile.worker'))).toBe(false);
    expect(result.stdout).toContain('docker push ghcr.io/acme/procfile-app-web:latest');

    const wrong = await runCli(['export', 'compose', join(examples, 'procfile-app'), '-o', join(dir, 'compose.yaml'), '--image', 'db=postgres:16'], { home: home.home });
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toContain('no instance type "db"');
  });

  it('never replaces a compose file or Dockerfile of the user', async () => {
    const dir = join(out, 'mine');
    await exportCompose(join(examples, 'hello-node'), join(dir, 'compose.yaml'));
    writeFileSync(join(dir, 'compose.yaml'), 'services: {}\n');
    const refused = await runCli(['export', 'compose', join(examples, 'hello-node'), '-o', join(dir, 'compose.yaml')], { home: home.home });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('was not written by paasmaker export');
    expect(readFileSync(join(dir, 'compose.yaml'), 'utf8')).toBe('services: {}\n');

    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n');
    rmSync(join(dir, 'compose.yaml'));
    const kept = await runCli(['export', 'compose', join(examples, 'hello-node'), '-o', join(dir, 'compose.yaml')], { home: home.home });
    expect(kept.exitCode).not.toBe(0);
    expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    expect(existsSync(join(dir, 'compose.yaml'))).toBe(false);
  });

  it('warns of a command that listens on loopback (nothing outside its container reaches it), and writes the file still', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-compose-loop-'));
    try {
      writeFileSync(join(dir, 'paasmaker.yml'), 'application: {name: loop}\ninstances:\n  web:\n    command: gunicorn -b 127.0.0.1:$PORT app:app\n');
      const { result, compose } = await exportCompose(dir, join(out, 'loop', 'compose.yaml'));
      expect(result.stderr).toContain('warning: instances.web listens on loopback in its command (gunicorn -b 127.0.0.1:$PORT app:app): in a container nothing outside reaches it; listen on $HOST (the export sets HOST=0.0.0.0)');
      expect(compose.services.web!.environment!.HOST).toBe('0.0.0.0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Reviewed by eye; the passwords fixed (the command's are random, kept from the file it replaces).
  it('guestbook-pg as a compose.yaml in the project (snapshot)', async () => {
    const manifest = loadManifest(join(examples, 'guestbook-pg'));
    const config = loadConfig(home.home);
    const result = await composeExport(manifest, { images: {}, file: join(manifest.directory, 'compose.yaml'), pluginFor: (symbolic) => pluginFor(config, symbolic), password: () => '0123456789abcdef0123456789abcdef' });
    expect(result.warnings).toEqual([]);
    await expect(result.text).toMatchFileSnapshot('__snapshots__/guestbook-pg.compose.yaml');
  });

  it.each(['notes', 'procfile-app', 'counter-redis', 'guestbook-pg'])('%s: the web service gets exactly the variable names `paasmaker env --json` gives locally', async (example) => {
    const local = await runCli(['env', join(examples, example), '--json'], { home: home.home });
    expect(local.exitCode, local.stderr).toBe(0);
    const { compose } = await exportCompose(join(examples, example), join(out, `env-${example}`, 'compose.yaml'));
    expect(Object.keys(compose.services.web!.environment!).sort()).toEqual(Object.keys(JSON.parse(local.stdout) as Record<string, string>).sort());
  }, 180_000);
});
