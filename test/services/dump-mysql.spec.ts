import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../src/services/binaries.js';
import { externalMysql, managedMysql } from '../../src/services/plugins/mysql.js';
import { runClient } from '../../src/services/run-client.js';
import type { Credentials, ServicePlugin } from '../../src/services/types.js';
import { PaasmakerError } from '../../src/shared/errors.js';
import { dataStep, provisionService, refusal, serviceContext, serviceRequest } from '../helpers/service-context.js';
import { until } from '../helpers/cli.js';
import { mountTmpfs } from '../helpers/tmpfs.js';

// Real servers: the platform's own MariaDB (mysql) and the system's on 3306 (mysql-external).
const missing = ['mariadb-install-db', 'mariadbd', 'mariadb', 'mariadb-dump'].filter((binary) => !findBinary([binary]));
const skip = missing.length > 0 && process.env.CI !== 'true';
if (skip) console.warn(`skipping MySQL dump tests: install ${missing.join(', ')} (apt install mariadb-server)`);

const probe = mountTmpfs(1);
if ('skip' in probe) console.warn(`skipping the full-disk dump test: ${probe.skip}`);
else probe.unmount();

let sandbox: ReturnType<typeof serviceContext>;
let managed: ServicePlugin;
let external: ServicePlugin;
const app = `dm${process.pid}`;
const ownRequest = serviceRequest(app, 'db', 'mysql');
const sharedRequest = serviceRequest(app, 'shared', 'my-shared', { admin_url: 'mysql://root@127.0.0.1:3306' });
let own: Credentials;
let shared: Credentials;

beforeAll(async () => {
  if (skip) return;
  sandbox = serviceContext();
  managed = sandbox.use(managedMysql(sandbox.context));
  external = sandbox.use(externalMysql(sandbox.context));
  own = await provisionService(sandbox.context, managed, ownRequest);
  shared = await provisionService(sandbox.context, external, sharedRequest);
}, 120_000);

afterAll(async () => {
  if (skip) return;
  await external.destroy(sharedRequest, sandbox.context).catch(() => {});
  await sandbox.close();
}, 60_000);

/** SQL as the app: its own credentials, over TCP, as the app's driver would connect. */
function asApp(credentials: Credentials, text: string): Promise<string> {
  return runClient('mariadb', ['--no-defaults', '--batch', '--skip-column-names', '-h', credentials.hostname!, '-P', String(credentials.port), '-u', credentials.username!, credentials.database!], {
    input: text,
    env: { MYSQL_PWD: credentials.password! },
    what: 'a query as the app',
  });
}

/** Databases on a server whose names start with the service's, and rights on them: a restore leaves none of its own behind. */
async function leftovers(credentials: Credentials, admin: string[]): Promise<string[]> {
  const like = `'${credentials.database}\\_\\_%'`;
  const out = await runClient('mariadb', ['--no-defaults', '--batch', '--skip-column-names', ...admin], { input: `SHOW DATABASES LIKE ${like};\nSELECT Db, User FROM mysql.db WHERE Db LIKE ${like};\n`, what: 'listing databases' });
  return out.split('\n').filter(Boolean);
}

/** A session of the app's that stays open, as one in `paasmaker db shell` does, having run `text`; end() commits it and closes it. */
async function openSession(credentials: Credentials, text: string): Promise<{ end: () => Promise<void> }> {
  const child = spawn('mariadb', ['--no-defaults', '--batch', '--unbuffered', '--skip-column-names', '-h', credentials.hostname!, '-P', String(credentials.port), '-u', credentials.username!, credentials.database!], {
    env: { ...process.env, MYSQL_PWD: credentials.password! },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.stdin.write(`${text}\nSELECT 'session-ready';\n`);
  await until(() => out.includes('session-ready'), 20_000, 'the session to be open');
  let ended = false;
  return {
    end: async () => {
      if (!ended) child.stdin.end('COMMIT;\n');
      ended = true;
      await exited;
    },
  };
}

const ownSocket = () => ['--socket', join(sandbox.context.home, 'services', 'mysql', 'run', 'mysqld.sock'), '-u', 'root'];

const SEED = [
  'CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL);',
  'CREATE TABLE orders (id INT PRIMARY KEY, customer INT NOT NULL, total DECIMAL(8,2), note BLOB, FOREIGN KEY (customer) REFERENCES customers(id));',
  "INSERT INTO customers VALUES (1, 'ada'), (2, 'grace');",
  'CREATE TABLE `Line-Items` (id INT PRIMARY KEY);', // a name Paasmaker would never make, as apps' frameworks do
  'INSERT INTO `Line-Items` VALUES (5);',
  "INSERT INTO orders VALUES (10, 1, 12.50, X'00ff10'), (11, 2, 99.99, NULL);",
  'CREATE VIEW big_orders AS SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer WHERE o.total > 50;',
  'CREATE TRIGGER shout BEFORE INSERT ON customers FOR EACH ROW SET NEW.name = UPPER(NEW.name);',
  'CREATE FUNCTION double_it(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;',
  '',
].join('\n');

const READ = 'SELECT id, name FROM customers ORDER BY id; SELECT id, total, HEX(note) FROM orders ORDER BY id; SELECT * FROM big_orders; SELECT double_it(21); SELECT id FROM `Line-Items`;';
const ORIGINAL = ['1\tada', '2\tgrace', '10\t12.50\t00FF10', '11\t99.99\tNULL', '11\tgrace', '42', '5'];

describe.skipIf(skip)('mysql dump and restore', () => {
  it('dumps the managed database to a 0600 gzip file and restores it over changed data: rows, the view and the trigger, the app still connects', async () => {
    await asApp(own, SEED);
    const file = join(sandbox.context.home, 'own.sql.gz');
    const dumping = dataStep();
    await managed.dump!(ownRequest, file, dumping);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = gunzipSync(readFileSync(file)).toString('utf8');
    expect(text).toMatch(/^-- (MariaDB|MySQL) dump/m);
    expect(text).not.toMatch(/CREATE DATABASE/);
    expect(dumping.lines.join('\n')).toMatch(/dumped MySQL database ".*": .* \(gzip\)/);

    await asApp(own, "DELETE FROM orders WHERE id = 11; UPDATE customers SET name = 'changed'; DROP VIEW big_orders; CREATE TABLE extra (x INT); CREATE VIEW extra_view AS SELECT 1 AS one; CREATE PROCEDURE extra_proc() SELECT 1;\n");
    const restoring = dataStep();
    await managed.restore!(ownRequest, file, restoring);
    expect((await asApp(own, READ)).trim().split('\n')).toEqual(ORIGINAL);
    // What the restore replaced is gone; the trigger fires; the app may still write; nothing of the restore is left over.
    expect((await asApp(own, 'SHOW FULL TABLES;')).trim().split('\n').sort()).toEqual(['Line-Items\tBASE TABLE', 'big_orders\tVIEW', 'customers\tBASE TABLE', 'orders\tBASE TABLE']);
    expect((await asApp(own, "INSERT INTO customers VALUES (3, 'linus'); SELECT name FROM customers WHERE id = 3;")).trim()).toBe('LINUS');
    await asApp(own, 'DELETE FROM customers WHERE id = 3;\n');
    expect((await asApp(own, 'SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE();')).trim()).toBe('double_it');
    expect(await leftovers(own, ['--socket', join(sandbox.context.home, 'services', 'mysql', 'run', 'mysqld.sock'), '-u', 'root'])).toEqual([]);
    expect(restoring.lines.join('\n')).toContain('swapped 3 restored table(s)');
  }, 120_000);

  it('restores a dump of the managed server into mysql-external, and that one\'s dump back into the managed server', async () => {
    const file = join(sandbox.context.home, 'across.sql.gz');
    await managed.dump!(ownRequest, file, dataStep());
    await external.restore!(sharedRequest, file, dataStep());
    expect((await asApp(shared, READ)).trim().split('\n')).toEqual(ORIGINAL);
    expect((await asApp(shared, "INSERT INTO customers VALUES (4, 'edsger'); SELECT name FROM customers WHERE id = 4;")).trim()).toBe('EDSGER');

    const back = join(sandbox.context.home, 'back.sql.gz');
    await external.dump!(sharedRequest, back, dataStep());
    await asApp(own, 'DELETE FROM orders; \n');
    await managed.restore!(ownRequest, back, dataStep());
    expect((await asApp(own, 'SELECT name FROM customers ORDER BY id; SELECT COUNT(*) FROM big_orders;')).trim().split('\n')).toEqual(['ada', 'grace', 'EDSGER', '1']);
    expect(await leftovers(shared, ['-h', '127.0.0.1', '-P', '3306', '-u', 'root'])).toEqual([]);
  }, 120_000);

  it('refuses a cut-short dump and a file of another kind with a clear error, and changes nothing', async () => {
    const file = join(sandbox.context.home, 'whole.sql.gz');
    await external.dump!(sharedRequest, file, dataStep());
    const before = await asApp(shared, READ);
    const whole = readFileSync(file);

    const cut = join(sandbox.context.home, 'cut.sql.gz');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const truncated = await refusal(external.restore!(sharedRequest, cut, dataStep()));
    expect(truncated.code).toBe('DUMP_INVALID');
    expect(truncated.message).toMatch(/cut\.sql\.gz is not a whole dump: it is damaged or cut short: unexpected end of file/);

    const redis = join(sandbox.context.home, 'dump.rdb');
    writeFileSync(redis, Buffer.concat([Buffer.from('REDIS0011'), Buffer.alloc(40)]));
    const foreign = await refusal(external.restore!(sharedRequest, redis, dataStep()));
    expect(foreign.code).toBe('DUMP_INVALID');
    expect(foreign.message).toMatch(/dump\.rdb is not a MySQL dump \(mariadb-dump, gzip\): it is a Redis dump/);
    expect(foreign.hint).toBeTruthy();

    // gzip, whole, but not a dump; and a dump whose end is missing (a dump stopped half-way, compressed whole).
    const notSql = join(sandbox.context.home, 'notes.gz');
    writeFileSync(notSql, gzipSync('hello\n'));
    expect((await refusal(external.restore!(sharedRequest, notSql, dataStep()))).message).toMatch(/notes\.gz is not a whole dump: it is a gzip file, but not a MySQL dump/);
    const text = gunzipSync(whole).toString('utf8');
    const unfinished = join(sandbox.context.home, 'unfinished.sql.gz');
    writeFileSync(unfinished, gzipSync(text.slice(0, text.indexOf('-- Dump completed'))));
    expect((await refusal(external.restore!(sharedRequest, unfinished, dataStep()))).message).toMatch(/does not end/);
    // A dump made with --databases would load into the live database by name, piece by piece: refused.
    const everything = join(sandbox.context.home, 'databases.sql.gz');
    writeFileSync(everything, gzipSync(text.replace(/^(\/\*!40101 SET NAMES)/m, `CREATE DATABASE IF NOT EXISTS \`${shared.database}\`;\nUSE \`${shared.database}\`;\n$1`)));
    const several = await refusal(external.restore!(sharedRequest, everything, dataStep()));
    expect(several.message).toMatch(/is a dump of more than one database's tables: it has "CREATE DATABASE/);

    expect(await asApp(shared, READ)).toBe(before);
    expect(await leftovers(shared, ['-h', '127.0.0.1', '-P', '3306', '-u', 'root'])).toEqual([]);
  }, 120_000);

  it('leaves the data as it was when the dump does not load, and drops the fresh database', async () => {
    const before = await asApp(own, READ);
    const bad = join(sandbox.context.home, 'bad.sql.gz');
    writeFileSync(bad, gzipSync('-- MariaDB dump 10.19\nCREATE TABLE customers (id INT PRIMARY KEY);\nINSERT INTO customers VALUES (1), (1);\n-- Dump completed on 2026-11-30\n'));
    const failed = await refusal(managed.restore!(ownRequest, bad, dataStep()));
    expect(failed.code).toBe('SERVICE_FAILED');
    expect(failed.detail).toMatch(/Duplicate entry/);
    expect(await asApp(own, READ)).toBe(before);
    expect(await leftovers(own, ['--socket', join(sandbox.context.home, 'services', 'mysql', 'run', 'mysqld.sock'), '-u', 'root'])).toEqual([]);
  }, 120_000);

  it('stops a dump when its job is aborted, leaving no file', async () => {
    const file = join(sandbox.context.home, 'aborted.sql.gz');
    const controller = new AbortController();
    controller.abort(new PaasmakerError('SERVICE_FAILED', 'aborted by the user'));
    const stopped = await refusal(managed.dump!(ownRequest, file, { say: () => {}, signal: controller.signal }));
    expect(stopped.message).toBe('aborted by the user');
    expect(() => statSync(file)).toThrow();
  }, 60_000);

  it('stops a restore when its job is aborted while the dump loads: the data as it was, the fresh database dropped', async () => {
    const file = join(sandbox.context.home, 'to-abort.sql.gz');
    await managed.dump!(ownRequest, file, dataStep());
    await asApp(own, "UPDATE customers SET name = 'during';\n");
    const before = await asApp(own, READ);
    const controller = new AbortController();
    const stopped = await refusal(
      managed.restore!(ownRequest, file, {
        say: (line) => {
          if (line.startsWith('loading')) controller.abort(new PaasmakerError('SERVICE_FAILED', 'aborted by the user'));
        },
        signal: controller.signal,
      }),
    );
    expect(stopped.message).toBe('aborted by the user');
    expect(await asApp(own, READ)).toBe(before);
    expect(await leftovers(own, ['--socket', join(sandbox.context.home, 'services', 'mysql', 'run', 'mysqld.sock'), '-u', 'root'])).toEqual([]);
  }, 60_000);
  it('gives up a swap an open transaction blocks (lock wait) and leaves the data, its triggers and views as they were', async () => {
    const file = join(sandbox.context.home, 'blocked.sql.gz');
    await managed.dump!(ownRequest, file, dataStep());
    await asApp(own, "UPDATE customers SET name = 'before-blocked' WHERE id = 1;\n");
    const before = await asApp(own, READ);
    // A db shell with a transaction that read a table: RENAME TABLE (and DROP TRIGGER on it) must wait for its end.
    const session = await openSession(own, 'BEGIN; SELECT COUNT(*) FROM customers;');
    let failed: PaasmakerError;
    try {
      failed = await refusal(managed.restore!(ownRequest, file, dataStep()));
    } finally {
      await session.end();
    }
    expect(failed.code).toBe('SERVICE_FAILED');
    expect(failed.message).toMatch(/failed at the swap; ".*" is unchanged/);
    expect(failed.hint).toMatch(/another session holds a table/);
    expect(await asApp(own, READ)).toBe(before);
    expect((await asApp(own, "INSERT INTO customers VALUES (7, 'kay'); SELECT name FROM customers WHERE id = 7; DELETE FROM customers WHERE id = 7;")).trim()).toBe('KAY');
    expect(await leftovers(own, ownSocket())).toEqual([]);
  }, 120_000);

  it('puts the old tables, views, triggers and routines back when the dump\'s cannot be made after the swap', async () => {
    const file = join(sandbox.context.home, 'rolled-back.sql.gz');
    await managed.dump!(ownRequest, file, dataStep());
    await asApp(own, "UPDATE customers SET name = 'before-rollback' WHERE id = 1;\n");
    const before = await asApp(own, READ);
    // A transaction that called the function holds it: the swap goes through (no table is held), replacing the function cannot.
    const session = await openSession(own, 'BEGIN; SELECT double_it(1);');
    const restoring = dataStep();
    const failed = await refusal(
      managed.restore!(ownRequest, file, {
        say: (line) => {
          restoring.say(line);
          if (line.includes('putting the old tables back')) void session.end();
        },
      }),
    ).finally(() => session.end());
    expect(failed.code).toBe('SERVICE_FAILED');
    expect(failed.message).toMatch(/views, triggers or routines could not be made; ".*" is as it was/);
    expect(restoring.lines.join('\n')).toContain('swapped 3 restored table(s)');
    // The rows from before the restore, the view, the function and the trigger: all there.
    expect(await asApp(own, READ)).toBe(before);
    expect((await asApp(own, "INSERT INTO customers VALUES (8, 'ole'); SELECT name FROM customers WHERE id = 8; DELETE FROM customers WHERE id = 8;")).trim()).toBe('OLE');
    expect(await leftovers(own, ownSocket())).toEqual([]);
  }, 120_000);

  it('drops what an interrupted restore left at the next provision, but keeps a throwaway database that holds tables', async () => {
    const admin = ['-h', '127.0.0.1', '-P', '3306', '-u', 'root'];
    const [fresh, empty, holding] = [`${shared.database}__new_0123abcd`, `${shared.database}__old_0123abcd`, `${shared.database}__old_89abcdef`];
    const grant = (database: string) => `GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${shared.username}'@'%', '${shared.username}'@'localhost';`;
    await runClient('mariadb', ['--no-defaults', ...admin], {
      input: `CREATE DATABASE \`${fresh}\`; CREATE TABLE \`${fresh}\`.t (x INT); ${grant(fresh)} CREATE DATABASE \`${empty}\`; CREATE DATABASE \`${holding}\`; CREATE TABLE \`${holding}\`.kept (x INT); CREATE DATABASE \`${shared.database}__other\`;\n`,
      what: 'making leftovers',
    });
    try {
      sandbox.lines.length = 0;
      await external.provision(sharedRequest, sandbox.context);
      expect(sandbox.lines.join('\n')).toContain(`"${holding}" holds tables from before an interrupted restore`);
      // Only exact side names: the kept one and a database of another name stay.
      expect((await leftovers(shared, admin)).sort()).toEqual([`${shared.database}__other`, holding].sort());
    } finally {
      await runClient('mariadb', ['--no-defaults', ...admin], { input: `DROP DATABASE IF EXISTS \`${holding}\`; DROP DATABASE IF EXISTS \`${shared.database}__other\`;\n`, what: 'cleaning up' });
    }
  }, 120_000);

  it.skipIf('skip' in probe)('a dump onto a full disk fails with DISK_FULL and leaves no part of the file', async () => {
    const { dir, unmount } = mountTmpfs(1) as { dir: string; unmount: () => void };
    try {
      // Hex digests: a few MB once compressed, several times the disk.
      await asApp(own, 'CREATE TABLE digests AS SELECT seq, MD5(seq) AS a, SHA2(seq, 256) AS b FROM seq_1_to_60000;\n');
      const file = join(dir, 'full.sql.gz');
      const error = await refusal(managed.dump!(ownRequest, file, dataStep()));
      expect(error.code).toBe('DISK_FULL');
      expect(error.message).toMatch(/no space left on the disk holding full\.sql\.gz/);
      expect(() => statSync(file)).toThrow();
    } finally {
      await asApp(own, 'DROP TABLE IF EXISTS digests;\n');
      unmount();
    }
  }, 120_000);
});
