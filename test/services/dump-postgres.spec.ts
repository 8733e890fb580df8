import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/manifest/index.js';
import { findBinary, Services } from '../../src/services/index.js';
import type { Credentials, DataStep, ServicePlugin } from '../../src/services/index.js';
import type { ServiceRequest } from '../../src/services/types.js';
import { PaasmakerError } from '../../src/shared/errors.js';
import { until } from '../helpers/cli.js';
import { dataStep, refusal, serviceContext } from '../helpers/service-context.js';
import { mountTmpfs } from '../helpers/tmpfs.js';

// Real servers: the platform's own PostgreSQL cluster (managed) and the system's on 5432 (external).
const missing = ['initdb', 'postgres', 'psql', 'pg_dump', 'pg_restore'].filter((binary) => !findBinary([binary]));
const skip = missing.length > 0 && process.env.CI !== 'true';
if (skip) console.warn(`skipping PostgreSQL dump tests: install ${missing.join(', ')} (apt install postgresql)`);

const probe = mountTmpfs(1);
if ('skip' in probe) console.warn(`skipping the full-disk dump test: ${probe.skip}`);
else probe.unmount();

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A platform's services, as the engine makes them, in a fresh PAASMAKER_HOME whose config.yml names the system server. */
function platformServices(): Services {
  const sandbox = serviceContext();
  writeFileSync(join(sandbox.context.home, 'config.yml'), `services:\n  pg-shared:\n    plugin: postgres-external\n    admin_url: ${ADMIN_URL}\n`);
  const services = new Services(sandbox.context);
  cleanups.push(async () => {
    await services.close();
    await sandbox.close();
  });
  return services;
}

interface Service {
  /** The project folder. */
  dir: string;
  plugin: ServicePlugin;
  request: ServiceRequest;
  credentials: Credentials;
}

/** Provisions one app's `db` through Services, as `paasmaker up` does: its plugin, request and credentials. */
async function provision(services: Services, app: string, symbolic: 'postgres' | 'pg-shared'): Promise<Service> {
  const dir = mkdtempSync(join(tmpdir(), 'pm-project-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: ${app}\ninstances:\n  web:\n    command: sleep 60\nservices:\n  db:\n    plugin: ${symbolic}\n`);
  const manifest = loadManifest(dir);
  const [provisioned] = await services.provision(manifest);
  const binding = services.bind(manifest, manifest.services[0]!);
  const request: ServiceRequest = { app, service: 'db', branch: '', symbolic, options: binding.options };
  if (symbolic === 'pg-shared') cleanups.push(() => services.destroy({ ...services.list(app)[0]! }));
  return { dir, plugin: services.plugin(binding.plugin), request, credentials: provisioned!.credentials };
}

/** A query through the app's own credentials (its DATABASE_URL). */
function sql(service: Service, query: string): string {
  return execFileSync('psql', [service.credentials.url!, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf8' }).trim();
}

/** The same query as the server's administrator (to see databases the app cannot). */
function asAdmin(service: Service, query: string): string {
  if (service.request.symbolic === 'pg-shared') return execFileSync('psql', [ADMIN_URL, '-X', '-tAc', query], { encoding: 'utf8' }).trim();
  const url = `postgresql://${service.credentials.username}:${service.credentials.password}@127.0.0.1:${service.credentials.port}/postgres`;
  return execFileSync('psql', [url, '-X', '-tAc', query], { encoding: 'utf8' }).trim();
}

function dumpFile(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-dump-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}

const seed = (service: Service, rows = 3) =>
  sql(service, `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, ${rows}) g; CREATE INDEX items_name ON items (name)`);
const items = (service: Service) => sql(service, 'SELECT count(*) || \' \' || coalesce(max(name), \'-\') FROM items');

/** Databases a restore leaves beside the service's own, when it should leave none. */
const sideDatabases = (service: Service) => asAdmin(service, `SELECT datname FROM pg_database WHERE datname LIKE '${service.credentials.database}\\_\\_%' ORDER BY 1`);

/** A step whose job is aborted (as a user's abort does) once `when` holds: what the work threw. */
async function abortedWhen(work: (step: DataStep) => Promise<void>, when: () => boolean): Promise<PaasmakerError> {
  const controller = new AbortController();
  const running = refusal(work({ ...dataStep(), signal: controller.signal }));
  await until(when, 20_000, 'the work to begin');
  controller.abort(new PaasmakerError('SERVICE_FAILED', 'aborted by the user'));
  return running;
}

describe.skipIf(skip)('PostgreSQL dump and restore', () => {
  for (const symbolic of ['postgres', 'pg-shared'] as const) {
    const kind = symbolic === 'postgres' ? 'managed' : 'external';
    it(`${kind}: rows written, dumped, changed, restored: the original rows are back, and the app's credentials still work`, async () => {
      const services = platformServices();
      const db = await provision(services, `dump${kind}${process.pid}`, symbolic);
      expect(db.plugin.dumpFormat).toBe('postgresql');
      seed(db);
      const file = dumpFile('db.pgdump');
      const dumping = dataStep();
      await db.plugin.dump!(db.request, file, dumping);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file).subarray(0, 5).toString()).toBe('PGDMP');
      expect(dumping.lines.at(-1)).toMatch(new RegExp(`^dumped PostgreSQL database "${db.credentials.database}": \\d+K in \\d+\\.\\d s$`));

      sql(db, "UPDATE items SET name = 'changed'; INSERT INTO items VALUES (4, 'new'); CREATE TABLE extra (x int)");
      expect(items(db)).toBe('4 new');
      // An app holding a connection to the old data (busy in a query): the restore ends its session.
      const held = spawn('psql', [db.credentials.url!, '-X', '-c', 'SELECT pg_sleep(600)'], { stdio: 'ignore' });
      const heldExit = new Promise((resolve) => held.once('exit', resolve));
      cleanups.push(() => void held.kill('SIGKILL'));
      await until(() => asAdmin(db, `SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND datname = '${db.credentials.database}'`) === '1', 10_000, 'the held query');

      const restoring = dataStep();
      await db.plugin.restore!(db.request, file, restoring);
      expect(restoring.lines.at(-1)).toContain(`restored "${db.credentials.database}" from ${basename(file)}`);
      await heldExit;
      // The same DATABASE_URL: the original rows, without what came after the dump, and writable by the app (it owns everything).
      expect(items(db)).toBe('3 item 3');
      expect(sql(db, "SELECT count(*) FROM pg_tables WHERE tablename = 'extra'")).toBe('0');
      expect(sql(db, "INSERT INTO items VALUES (5, 'after'); SELECT count(*) FROM items")).toBe('4');
      expect(sql(db, "SELECT tableowner FROM pg_tables WHERE tablename = 'items'")).toBe(db.credentials.username);
      expect(sql(db, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")).toBe(db.credentials.username);
      expect(sideDatabases(db)).toBe('');
      // Provisioning again hands over the same credentials.
      const [again] = await services.provision(loadManifest(db.dir));
      expect(again!.credentials.url).toBe(db.credentials.url);
    });
  }

  it('a managed dump restores into an external service, and back', async () => {
    const services = platformServices();
    const managed = await provision(services, `crossm${process.pid}`, 'postgres');
    const external = await provision(services, `crossx${process.pid}`, 'pg-shared');
    seed(managed, 10);
    const there = dumpFile('managed.pgdump');
    await managed.plugin.dump!(managed.request, there, dataStep());
    await external.plugin.restore!(external.request, there, dataStep());
    expect(items(external)).toBe('10 item 9');
    expect(sql(external, "SELECT tableowner FROM pg_tables WHERE tablename = 'items'")).toBe(external.credentials.username);

    sql(external, "INSERT INTO items VALUES (11, 'from external')");
    const back = dumpFile('external.pgdump');
    await external.plugin.dump!(external.request, back, dataStep());
    await managed.plugin.restore!(managed.request, back, dataStep());
    expect(items(managed)).toBe('11 item 9');
    expect(sql(managed, "SELECT name FROM items WHERE id = 11")).toBe('from external');
  });

  for (const symbolic of ['postgres', 'pg-shared'] as const) {
    const kind = symbolic === 'postgres' ? 'managed' : 'external';
    it(`${kind}: a dump cut in half and a file that is not a dump are refused with DUMP_INVALID, and the data is unchanged`, async () => {
      const services = platformServices();
      const db = await provision(services, `bad${kind}${process.pid}`, symbolic);
      seed(db, 50_000); // data well past the table of contents, which comes first
      const file = dumpFile('db.pgdump');
      await db.plugin.dump!(db.request, file, dataStep());
      sql(db, "UPDATE items SET name = 'kept' WHERE id = 1");

      const half = dumpFile('half.pgdump');
      writeFileSync(half, readFileSync(file));
      truncateSync(half, Math.floor(statSync(file).size / 2));
      const cut = await refusal(db.plugin.restore!(db.request, half, dataStep()));
      expect(cut.code).toBe('DUMP_INVALID');
      expect(cut.message).toBe('half.pgdump is not a whole dump: pg_restore could not read it to its end (cut short or damaged)');
      expect(cut.detail).toMatch(/end of file|could not read/);
      expect(cut.hint).toBeTruthy();

      const text = dumpFile('notes.sql');
      writeFileSync(text, 'CREATE TABLE items (id int);\n');
      const foreign = await refusal(db.plugin.restore!(db.request, text, dataStep()));
      expect(foreign).toMatchObject({ code: 'DUMP_INVALID', message: 'notes.sql is not a PostgreSQL dump (pg_dump -Fc): it is SQL text' });
      expect(foreign.hint).toContain('paasmaker db dump');

      const nothing = await refusal(db.plugin.restore!(db.request, join(tmpdir(), `no-such-dump-${process.pid}`), dataStep()));
      expect(nothing.code).toBe('DUMP_INVALID');

      // The data as it was, through the same credentials, and no half-filled copy left beside it.
      expect(items(db)).toBe('50000 kept');
      expect(sideDatabases(db)).toBe('');
    });
  }

  it('a dump stopped by its job leaves no file behind; a restore stopped part-way leaves the data as it was', async () => {
    const services = platformServices();
    const db = await provision(services, `abort${process.pid}`, 'postgres');
    seed(db, 300_000);
    const partial = dumpFile('stopped.pgdump');
    const dumpError = await abortedWhen((dumping) => db.plugin.dump!(db.request, partial, dumping), () => existsSync(partial));
    expect(dumpError.message).toBe('aborted by the user');
    expect(existsSync(partial)).toBe(false);

    const file = dumpFile('whole.pgdump');
    await db.plugin.dump!(db.request, file, dataStep());
    sql(db, "UPDATE items SET name = 'kept' WHERE id = 1");
    // Stopped once the fresh copy is being filled.
    const restoreError = await abortedWhen((restoring) => db.plugin.restore!(db.request, file, restoring), () => sideDatabases(db) !== '');
    expect(restoreError.message).toBe('aborted by the user');
    expect(items(db)).toBe('300000 kept');
    expect(sideDatabases(db)).toBe('');
  });

  it('drops at the next provision the databases an interrupted restore left beside the service, and no other', async () => {
    const services = platformServices();
    const db = await provision(services, `swept${process.pid}`, 'pg-shared');
    const name = db.credentials.database!;
    for (const database of [`${name}__new_0123abcd`, `${name}__old_89abcdef`, `${name}__other`]) asAdmin(db, `CREATE DATABASE "${database}"`);
    cleanups.push(() => void asAdmin(db, `DROP DATABASE IF EXISTS "${name}__other"`));
    await services.provision(loadManifest(db.dir));
    expect(sideDatabases(db)).toBe(`${name}__other`);
  });

  it.skipIf('skip' in probe)('a dump onto a full disk fails with DISK_FULL and leaves no part of the file', async () => {
    const disk = mountTmpfs(1) as { dir: string; unmount: () => void };
    cleanups.push(disk.unmount);
    const services = platformServices();
    const db = await provision(services, `full${process.pid}`, 'pg-shared');
    // Hex digests: about 3 MB once compressed, three times the disk.
    sql(db, 'CREATE TABLE digests AS SELECT md5(g::text) || md5((g * 7)::text) AS v FROM generate_series(1, 100000) g');
    const file = join(disk.dir, 'db.pgdump');
    const error = await refusal(db.plugin.dump!(db.request, file, dataStep()));
    expect(error.code).toBe('DISK_FULL');
    expect(error.message).toBe(`dumping PostgreSQL database "${db.credentials.database}": no space left on the disk holding db.pgdump`);
    expect(existsSync(file)).toBe(false);
  });
});
