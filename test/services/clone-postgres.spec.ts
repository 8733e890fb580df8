import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/manifest/index.js';
import { findBinary, Services } from '../../src/services/index.js';
import type { Credentials } from '../../src/services/index.js';
import { until } from '../helpers/cli.js';
import { commitAll, git, initRepo, tempFolder } from '../helpers/git-repo.js';
import { serviceContext } from '../helpers/service-context.js';

// The platform's own PostgreSQL cluster, and a real git repository whose branches get databases of their own.
const missing = ['initdb', 'postgres', 'psql', 'pg_dump'].filter((binary) => !findBinary([binary]));
const skip = missing.length > 0 && process.env.CI !== 'true';
if (skip) console.warn(`skipping PostgreSQL clone tests: install ${missing.join(', ')} (apt install postgresql)`);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sql = (credentials: Credentials, query: string) => execFileSync('psql', [credentials.url!, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf8' }).trim();

describe.skipIf(skip)('a database per branch, copied from main', () => {
  it('is made from an idle main by CREATE DATABASE … TEMPLATE, owned by its own role; from a busy one through a dump', async () => {
    const sandbox = serviceContext();
    const services = new Services(sandbox.context);
    cleanups.push(async () => {
      await services.close();
      await sandbox.close();
    });
    const dir = initRepo(join(tempFolder('pm-clone-', cleanups), 'shop'));
    commitAll(dir, { 'paasmaker.yml': 'application:\n  name: shop\ninstances:\n  web:\n    command: sleep 60\nservices:\n  db:\n    plugin: postgres\n    per_branch: true\n    clone_from: main\n' }, 'shop');
    const provision = async () => (await services.provision(loadManifest(dir)))[0]!.credentials;

    const main = await provision();
    sql(main, "CREATE TABLE items (name text); INSERT INTO items VALUES ('from main')");

    // Nothing connected to main's database: the server copies it.
    git(dir, ['checkout', '-q', '-b', 'feature-a']);
    const copied = sandbox.lines.length;
    const a = await provision();
    expect(sandbox.lines.slice(copied).join('\n')).toMatch(/copied PostgreSQL database "shop__db__main" as a template in/);
    expect(a.database).not.toBe(main.database);
    // The copy is the branch role's to change, and main's database is still main's.
    expect(sql(a, "INSERT INTO items VALUES ('from a'); ALTER TABLE items ADD COLUMN n int; SELECT string_agg(name, ',' ORDER BY name) FROM items")).toBe('from a,from main');
    expect(sql(main, 'SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()')).toBe(main.username);
    expect(sql(main, "INSERT INTO items VALUES ('main again'); SELECT string_agg(name, ',' ORDER BY name) FROM items")).toBe('from main,main again');

    // A session holds main's database open: the dump path copies it instead, with the same result.
    const holder = spawn('psql', [main.url!, '-X', '-c', 'SELECT pg_sleep(120)'], { stdio: 'ignore' });
    cleanups.push(() => void holder.kill('SIGKILL'));
    await until(() => sql(main, 'SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()') !== '0', 20_000, 'the session on main');
    git(dir, ['checkout', '-q', '-b', 'feature-b']);
    const dumped = sandbox.lines.length;
    const b = await provision();
    expect(sandbox.lines.slice(dumped).join('\n')).not.toContain('as a template');
    expect(sql(b, "INSERT INTO items VALUES ('from b'); SELECT string_agg(name, ',' ORDER BY name) FROM items")).toBe('from b,from main,main again');
  }, 120_000);
});
