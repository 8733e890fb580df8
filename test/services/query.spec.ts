import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifest } from '../../src/manifest/index.js';
import { findBinary, Services, type QueryResult } from '../../src/services/index.js';
import { redisCommands } from '../../src/services/resp.js';
import { refusal, serviceContext } from '../helpers/service-context.js';

// Read-only queries on real servers: the system's PostgreSQL (5432) and
// MariaDB (3306) as -external services, the platform's own PostgreSQL,
// MariaDB and Redis as managed ones, and a SQLite file. Each write is refused by the
// database itself, and the data is read again afterwards to be sure.
const missing = ['psql', 'mariadb', 'initdb', 'postgres', 'mariadb-install-db', 'mariadbd', 'redis-server'].filter((binary) => !findBinary([binary]));
const skip = missing.length > 0 && process.env.CI !== 'true';
if (skip) console.warn(`skipping query tests: install ${missing.join(', ')}`);

const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const MY_ADMIN = 'mysql://root@127.0.0.1:3306';
const app = `dq${process.pid}`;

let sandbox: ReturnType<typeof serviceContext>;
let services: Services;
let project: string;

/** The rows a query reads through the API's path: Services.provisioned, then query. */
async function query(service: string, text: string, options: { limit?: number; timeoutMs?: number } = {}): Promise<QueryResult> {
  const manifest = loadManifest(project);
  return services.query(services.provisioned(app, service, { manifest }), { text, limit: options.limit ?? 100, timeoutMs: options.timeoutMs ?? 5000 });
}

async function describeService(service: string) {
  return services.describe(services.provisioned(app, service, { manifest: loadManifest(project) }));
}

/** SQL on a SQLite file as the app would run it (better-sqlite3): a query's rows as the sqlite3 shell prints them ("1|ada"). */
function sqlite(path: string, text: string): string {
  const db = new Database(path);
  try {
    if (!/^\s*SELECT/i.test(text)) return (db.exec(text), '');
    return (db.prepare(text).raw(true).all() as unknown[][]).map((row) => row.join('|')).join('\n');
  } finally {
    db.close();
  }
}

/** SQL run as the app would, through its own credentials, for setting up and for checking what is there afterwards. */
const asApp: Record<string, (text: string) => string> = {};
/** The app's own credentials for a service. */
let credentialsOf: (service: string) => { url?: string; hostname?: string; port?: number; username?: string; password?: string; database?: string };

beforeAll(async () => {
  if (skip) return;
  sandbox = serviceContext();
  writeFileSync(
    join(sandbox.context.home, 'config.yml'),
    `services:\n  pg-shared:\n    plugin: postgres-external\n    admin_url: ${PG_ADMIN}\n  my-shared:\n    plugin: mysql-external\n    admin_url: ${MY_ADMIN}\n`,
  );
  services = new Services(sandbox.context);
  project = mkdtempSync(join(tmpdir(), 'pm-query-'));
  writeFileSync(
    join(project, 'paasmaker.yml'),
    [
      'application:',
      `  name: ${app}`,
      'instances:',
      '  web:',
      '    command: sleep 60',
      'services:',
      '  pg: {plugin: pg-shared}',
      '  my: {plugin: my-shared}',
      '  lite: {plugin: sqlite}',
      '  own: {plugin: postgres}',
      '  ownmy: {plugin: mysql}',
      '  cache: {plugin: redis}',
      '  settings: {plugin: parameters, greeting: hello}',
      '',
    ].join('\n'),
  );
  const provisioned = await services.provision(loadManifest(project));
  const credentials = (name: string) => provisioned.find((each) => each.name === name)!.credentials;
  credentialsOf = credentials;
  const psql = (url: string) => (text: string) => execFileSync('psql', [url, '-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-c', text], { encoding: 'utf8' }).trim();
  asApp.pg = psql(credentials('pg').url!);
  asApp.own = psql(credentials('own').url!);
  const mariadb = (my: ReturnType<typeof credentials>) => (text: string) =>
    execFileSync('mariadb', ['--no-defaults', '--batch', '--skip-column-names', '-h', my.hostname!, '-P', String(my.port), '-u', my.username!, my.database!, '-e', text], { encoding: 'utf8', env: { ...process.env, MYSQL_PWD: my.password! } }).trim();
  asApp.my = mariadb(credentials('my'));
  asApp.ownmy = mariadb(credentials('ownmy'));
  asApp.lite = (text) => sqlite(credentials('lite').path!, text);
  const seed = `CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, note TEXT);
INSERT INTO t (id, name, note) VALUES (1, 'ada', NULL), (2, 'grace', 'x'), (3, 'edsger', 'y');
CREATE VIEW named AS SELECT name FROM t;`;
  for (const each of ['pg', 'own', 'my', 'ownmy']) asApp[each]!(seed);
  asApp.lite(seed);
  const cache = credentials('cache');
  const replies = await redisCommands({ host: cache.hostname!, port: cache.port! }, [
    ['AUTH', cache.username!, cache.password!],
    ['SELECT', cache.database!],
    ['SET', 'greeting', 'hello'],
    ['HSET', 'user:1', 'name', 'ada', 'lang', 'en'],
    ['RPUSH', 'queue', 'a', 'b', 'c'],
    ['SET', 'bytes', Buffer.from([0xff, 0x00, 0x01]) as unknown as string],
  ]);
  expect(replies.slice(0, 3)).toEqual(['OK', 'OK', 'OK']);
}, 120_000);

afterAll(async () => {
  if (skip) return;
  for (const record of services.list(app)) await services.destroy(record).catch(() => {});
  await services.close();
  await sandbox.close();
  rmSync(project, { recursive: true, force: true });
}, 60_000);

/** The table's rows as the app sees them, checked after every refusal. */
const rowsOf = (service: string) => asApp[service]!('SELECT id, name FROM t ORDER BY id').replace(/\|/g, '\t');
const SEEDED = '1\tada\n2\tgrace\n3\tedsger';

describe.skipIf(skip).each([
  { service: 'pg', title: 'PostgreSQL (external)', sleep: 'SELECT pg_sleep(20)', syntax: /syntax error at or near "SELEC"/ },
  { service: 'own', title: 'PostgreSQL (managed)', sleep: 'SELECT pg_sleep(20)', syntax: /syntax error at or near "SELEC"/ },
  { service: 'my', title: 'MariaDB (external)', sleep: 'SELECT SLEEP(20)', syntax: /You have an error in your SQL syntax/ },
  { service: 'ownmy', title: 'MariaDB (managed)', sleep: 'SELECT SLEEP(20)', syntax: /You have an error in your SQL syntax/ },
  { service: 'lite', title: 'SQLite', sleep: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c', syntax: /near "SELEC": syntax error/ },
])('db query on $title', ({ service, sleep, syntax }) => {
  it('a SELECT reads rows, in its columns', async () => {
    const result = await query(service, 'SELECT id, name, note FROM t ORDER BY id;');
    expect(result).toMatchObject({ columns: ['id', 'name', 'note'], rows: [[1, 'ada', null], [2, 'grace', 'x'], [3, 'edsger', 'y']], truncated: false });
    expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it.each(['DROP TABLE t', "INSERT INTO t (id, name) VALUES (4, 'barbara')", "UPDATE t SET name = 'x'", 'DELETE FROM t', 'CREATE TABLE u (id INTEGER)'])('refuses %s (READ_ONLY) and changes nothing', async (text) => {
    const error = await refusal(query(service, text));
    expect(error.code, error.message).toBe('READ_ONLY');
    expect(error.message).toContain(text.split(' ').slice(0, 2).join(' '));
    expect(rowsOf(service)).toBe(SEEDED);
  });

  it.each(['COMMIT; DROP TABLE t', 'ROLLBACK; DELETE FROM t', 'SELECT 1; DROP TABLE t'])('refuses "%s": one statement only, nothing escapes the read-only transaction', async (text) => {
    const error = await refusal(query(service, text));
    expect(['QUERY_FAILED', 'READ_ONLY']).toContain(error.code);
    expect(rowsOf(service)).toBe(SEEDED);
  });

  it('stops at the row limit and says more rows exist', async () => {
    expect(await query(service, 'SELECT id FROM t ORDER BY id', { limit: 2 })).toMatchObject({ rows: [[1], [2]], truncated: true });
    expect(await query(service, 'SELECT id FROM t ORDER BY id', { limit: 3 })).toMatchObject({ rows: [[1], [2], [3]], truncated: false });
  });

  it("a syntax error is QUERY_FAILED with the database's words", async () => {
    const error = await refusal(query(service, 'SELEC * FROM t'));
    expect(error.code).toBe('QUERY_FAILED');
    expect(error.message).toMatch(syntax);
  });

  it('a query past its time limit is cancelled (QUERY_FAILED)', async () => {
    const started = Date.now();
    const error = await refusal(query(service, sleep, { timeoutMs: 500 }));
    expect(error.code).toBe('QUERY_FAILED');
    expect(error.message).toContain('time limit of 500 ms');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('an empty result keeps its columns; EXPLAIN reads', async () => {
    expect(await query(service, 'SELECT id, name FROM t WHERE id < 0')).toMatchObject({ columns: ['id', 'name'], rows: [], truncated: false });
    const plan = await query(service, `EXPLAIN ${service === 'lite' ? 'QUERY PLAN ' : ''}SELECT * FROM t WHERE id = 1`);
    expect(plan.rows.length).toBeGreaterThan(0);
  });

  it('describe lists the table and the view with their columns', async () => {
    const schema = await describeService(service);
    const table = schema.tables.find((each) => each.name === 't');
    expect(table).toMatchObject({ kind: 'table' });
    expect(table!.columns.map((column) => [column.name, column.nullable, column.primaryKey])).toEqual([
      ['id', false, true],
      ['name', false, false],
      ['note', true, false],
    ]);
    expect(table!.columns[1]!.type).toMatch(/char/i);
    expect(schema.tables.find((each) => each.name === 'named')).toMatchObject({ kind: 'view', columns: [{ name: 'name' }] });
    if (service === 'lite') expect(table!.rowEstimate).toBe(3);
  });
});

describe.skipIf(skip)('db query values and refusals', () => {
  it('values are JSON-safe: big integers as text, bytes as hex, long texts cut', async () => {
    const result = await query('pg', "SELECT 9007199254740993::int8 AS big, 42::int8 AS small, '\\xdeadbeef'::bytea AS bytes, repeat('x', 5000) AS long, '{\"a\": 1}'::jsonb AS doc, DATE '2026-01-02' AS day");
    const [big, small, bytes, long, doc, day] = result.rows[0]!;
    expect([big, small, bytes, doc, day]).toEqual(['9007199254740993', 42, '\\xdeadbeef', { a: 1 }, '2026-01-02']);
    expect(long).toMatch(/^x{2000}… \(3000 more characters\)$/);
    const lite = await query('lite', "SELECT 9007199254740993 AS big, X'DEADBEEF' AS bytes");
    expect(lite.rows).toEqual([['9007199254740993', '\\xdeadbeef']]);
  });

  it('a write hidden in a function or a CTE is refused by PostgreSQL itself', async () => {
    const error = await refusal(query('pg', 'WITH gone AS (DELETE FROM t RETURNING id) SELECT * FROM gone'));
    expect(error.code).toBe('READ_ONLY');
    expect(rowsOf('pg')).toBe(SEEDED);
    expect((await refusal(query('pg', "SELECT set_config('transaction_read_only', 'off', false)"))).code).toMatch(/QUERY_FAILED|READ_ONLY/);
  });

  it('SHOW reads on PostgreSQL and MariaDB; COPY TO STDOUT is refused without hanging', async () => {
    expect((await query('pg', 'SHOW transaction_read_only')).rows).toEqual([['on']]);
    expect((await query('my', 'SHOW TABLES')).rows).toEqual([['named'], ['t']]);
    expect((await query('my', 'SELECT @@session.tx_read_only AS ro')).rows).toEqual([[1]]);
    const copy = await refusal(query('pg', 'COPY t TO STDOUT'));
    expect(copy.code).toBe('QUERY_FAILED');
  });

  it('a SQLite write with RETURNING, which reads, is refused all the same', async () => {
    expect((await refusal(query('lite', "INSERT INTO t (id, name) VALUES (9, 'x') RETURNING id"))).code).toBe('READ_ONLY');
    expect(rowsOf('lite')).toBe(SEEDED);
  });

  it('a service whose plugin cannot be queried is named; an unknown one is SERVICE_NOT_FOUND', async () => {
    const error = await refusal(query('settings', 'SELECT 1'));
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('the parameters plugin cannot be queried');
    const unknown = await refusal(query('nosuch', 'SELECT 1'));
    expect(unknown.code).toBe('SERVICE_NOT_FOUND');
  });
});

describe.skipIf(skip)('db query on Redis (managed)', () => {
  it('read commands answer as rows', async () => {
    expect((await query('cache', 'GET greeting')).rows).toEqual([['hello']]);
    expect(await query('cache', 'HGETALL user:1')).toMatchObject({ columns: ['field', 'value'], rows: [['name', 'ada'], ['lang', 'en']] });
    expect(await query('cache', 'LRANGE queue 0 -1', { limit: 2 })).toMatchObject({ rows: [['a'], ['b']], truncated: true });
    expect((await query('cache', 'KEYS *')).rows.map((row) => row[0]).sort()).toEqual(['bytes', 'greeting', 'queue', 'user:1']);
    expect((await query('cache', 'GET bytes')).rows).toEqual([['\\xff0001']]);
    expect((await query('cache', 'TYPE "user:1"')).rows).toEqual([['hash']]);
  });

  it.each(['SET greeting bye', 'DEL greeting', 'FLUSHALL', 'FLUSHDB', 'EVAL "return 1" 0', 'CONFIG SET dir /tmp'])('refuses %s (READ_ONLY) and sends nothing', async (text) => {
    const error = await refusal(query('cache', text));
    expect(error.code).toBe('READ_ONLY');
    expect(error.message).toContain(text.split(' ')[0]);
    expect((await query('cache', 'GET greeting')).rows).toEqual([['hello']]);
    expect((await query('cache', 'DBSIZE')).rows).toEqual([[4]]);
  });

  it('describe counts the keys by type', async () => {
    const schema = await describeService('cache');
    expect(schema.protocol).toBe('redis');
    expect(schema.tables.map((table) => [table.name, table.kind, table.rowEstimate])).toEqual([
      ['hash', 'keys', 1],
      ['list', 'keys', 1],
      ['string', 'keys', 2],
    ]);
  });
});

describe.skipIf(skip)('db query on a database per branch', () => {
  it("reads the project folder's branch unless one is named; a branch never provisioned is named with those that are", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-query-branch-'));
    try {
      execFileSync('git', ['init', '-q', '-b', 'feature', dir]);
      execFileSync('git', ['-C', dir, '-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', 'commit', '-q', '--allow-empty', '-m', 'start']);
      writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: ${app}b\ninstances:\n  web:\n    command: sleep 60\nservices:\n  notes: {plugin: sqlite, per_branch: true}\n`);
      const manifest = loadManifest(dir);
      const [provisioned] = await services.provision(manifest);
      expect(provisioned!.branch).toBe('feature');
      sqlite(provisioned!.credentials.path!, "CREATE TABLE n (body TEXT); INSERT INTO n VALUES ('on feature');");
      const target = services.provisioned(`${app}b`, 'notes', { manifest });
      expect(target.request.branch).toBe('feature');
      expect((await services.query(target, { text: 'SELECT body FROM n', limit: 10, timeoutMs: 5000 })).rows).toEqual([['on feature']]);
      expect(services.provisioned(`${app}b`, 'notes', { manifest, branch: 'feature' }).request.branch).toBe('feature');
      const other = await refusal(Promise.resolve().then(() => services.provisioned(`${app}b`, 'notes', { manifest, branch: 'main' })));
      expect({ code: other.code, message: other.message, hint: other.hint }).toEqual({ code: 'SERVICE_NOT_FOUND', message: `service ${app}b/notes (branch main) is not provisioned yet`, hint: 'its branches: feature' });
    } finally {
      for (const record of services.list(`${app}b`)) await services.destroy(record);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Polls until check() holds (or the deadline passes), returning its last answer. */
async function until<T>(check: () => T | Promise<T>, ok: (value: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(skip)('db query runs as a read-only user of its own', () => {
  /** The system MariaDB's sessions of a user, as its root sees them. */
  const sessionsOf = (user: string) =>
    execFileSync('mariadb', ['--no-defaults', '--batch', '--skip-column-names', '-h', '127.0.0.1', '-P', '3306', '-u', 'root', '-e', `SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '${user}' AND COMMAND <> 'Sleep'`], { encoding: 'utf8' }).trim();

  it.each(['pg', 'own'])('PostgreSQL (%s): the query runs as a role that is not the app\'s, may only SELECT, and sees tables made after it was', async (service) => {
    const [[user, superuser]] = (await query(service, 'SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)')).rows as [[string, boolean]];
    expect(user).toMatch(/-ro$/);
    expect(superuser).toBe(false);
    asApp[service]!('CREATE SCHEMA IF NOT EXISTS later; CREATE TABLE IF NOT EXISTS later.made (v int); INSERT INTO later.made VALUES (7)');
    expect((await query(service, 'SELECT v FROM later.made')).rows).toEqual([[7]]);
    asApp[service]!('DROP SCHEMA later CASCADE');
  });

  it.each(['my', 'ownmy'])('MariaDB (%s): the query runs as a user with SELECT and SHOW VIEW only', async (service) => {
    const grants = (await query(service, 'SHOW GRANTS')).rows.map((row) => String(row[0]));
    expect(grants.join('\n')).toMatch(/GRANT SELECT, SHOW VIEW ON `[a-z0-9_]+`\.\* TO `[a-z0-9_]+-ro`/);
    expect(grants.join('\n')).not.toMatch(/ALL PRIVILEGES|INSERT|DROP|EXECUTE|LOCK/);
  });

  it.each(['my', 'ownmy'])('MariaDB (%s): SET STATEMENT tx_read_only=0 FOR DROP TABLE leaves the table', async (service) => {
    const error = await refusal(query(service, 'SET STATEMENT tx_read_only=0 FOR DROP TABLE t'));
    expect(error.code).toBe('READ_ONLY');
    expect(rowsOf(service)).toBe(SEEDED);
  });

  it.each(['my', 'ownmy'])('MariaDB (%s): a compound statement or a CALL writes nothing', async (service) => {
    for (const text of [
      "BEGIN NOT ATOMIC START TRANSACTION READ WRITE; INSERT INTO t (id, name) VALUES (8, 'x'); COMMIT; END",
      'BEGIN NOT ATOMIC SET SESSION TRANSACTION READ WRITE; DROP TABLE t; END',
    ]) {
      const error = await refusal(query(service, text));
      expect(error.code, error.message).toBe('READ_ONLY');
      expect(rowsOf(service)).toBe(SEEDED);
    }
    const credentials = credentialsOf(service);
    const appConnection = await mysql.createConnection({ host: credentials.hostname, port: credentials.port, user: credentials.username, password: credentials.password, database: credentials.database });
    try {
      await appConnection.query("CREATE PROCEDURE w() BEGIN INSERT INTO t (id, name) VALUES (9, 'y'); COMMIT; END");
      const error = await refusal(query(service, 'CALL w()'));
      expect(error.code, error.message).toBe('READ_ONLY');
      expect(rowsOf(service)).toBe(SEEDED);
    } finally {
      await appConnection.query('DROP PROCEDURE IF EXISTS w');
      await appConnection.end();
    }
  });

  it('MariaDB: a statement the server limit does not stop is killed on the server at the time limit', async () => {
    const text = `BEGIN NOT ATOMIC ${'DO SLEEP(0.9); '.repeat(10)}END`;
    const started = Date.now();
    const error = await refusal(query('my', text, { timeoutMs: 1000 }));
    expect(error.code).toBe('QUERY_FAILED');
    expect(error.message).toContain('time limit of 1000 ms');
    expect(Date.now() - started).toBeLessThan(5000);
    const reader = (await query('my', 'SELECT current_user()')).rows[0]![0] as string;
    expect(await until(() => sessionsOf(reader.split('@')[0]!), (count) => count === '0', 3000)).toBe('0');
  });

  it('MariaDB: SET STATEMENT max_statement_time=0 does not lift the time limit', async () => {
    const started = Date.now();
    await refusal(query('my', 'SET STATEMENT max_statement_time=0 FOR SELECT SLEEP(7)', { timeoutMs: 1000 }));
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it.each(['pg', 'own'])("PostgreSQL (%s): pg_terminate_backend of the app's session is refused and the app's connection lives on", async (service) => {
    const credentials = credentialsOf(service);
    const appClient = new pg.Client({ connectionString: credentials.url });
    await appClient.connect();
    try {
      const error = await refusal(query(service, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${credentials.username}'`));
      expect(error.code, error.message).toBe('READ_ONLY');
      expect((await appClient.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await appClient.end();
    }
  });

  it.each(['my', 'ownmy'])("MariaDB (%s): KILL of the app's session is refused and the app's connection lives on", async (service) => {
    const credentials = credentialsOf(service);
    const appConnection = await mysql.createConnection({ host: credentials.hostname, port: credentials.port, user: credentials.username, password: credentials.password, database: credentials.database });
    try {
      const error = await refusal(query(service, `KILL ${appConnection.threadId}`));
      expect(error.code, error.message).toBe('READ_ONLY');
      expect((await appConnection.query('SELECT 1 AS one'))[0]).toEqual([{ one: 1 }]);
    } finally {
      await appConnection.end();
    }
  });

  it.each(['pg', 'own'])('PostgreSQL (%s): a LOCK TABLE is refused at once, and a lock the app holds is waited for a second at most', async (service) => {
    const started = Date.now();
    const error = await refusal(query(service, 'DO $d$BEGIN LOCK TABLE t IN ACCESS EXCLUSIVE MODE; PERFORM pg_sleep(60); END$d$', { timeoutMs: 20_000 }));
    expect(error.code, error.message).toBe('READ_ONLY');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(rowsOf(service)).toBe(SEEDED); // the app reads
    const appClient = new pg.Client({ connectionString: credentialsOf(service).url });
    await appClient.connect();
    try {
      await appClient.query('BEGIN');
      await appClient.query('LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
      const waited = Date.now();
      const blocked = await refusal(query(service, 'SELECT * FROM t', { timeoutMs: 20_000 }));
      expect(blocked.code).toBe('QUERY_FAILED');
      expect(blocked.message).toContain('lock timeout');
      expect(Date.now() - waited).toBeLessThan(5000);
    } finally {
      await appClient.query('ROLLBACK').catch(() => {});
      await appClient.end();
    }
  });

  it.each(['pg', 'own', 'my', 'ownmy'])('%s: huge cells stop at the byte budget, the result cut and said to be', async (service) => {
    const text = service.includes('my') ? "SELECT REPEAT('x', 5000000) AS big FROM t, t AS u LIMIT 8" : "SELECT repeat('x', 20000000) AS big FROM generate_series(1, 10)";
    const result = await query(service, text, { limit: 100, timeoutMs: 20_000 });
    expect(result.truncated).toBe(true);
    expect(result.rows.length).toBeLessThanOrEqual(3);
    expect(JSON.stringify(result).length).toBeLessThan(100_000);
    if (service === 'my') {
      // The statement stopped on the server too: no session of the reader goes on sending rows (and holding the table).
      const reader = ((await query(service, 'SELECT current_user()')).rows[0]![0] as string).split('@')[0]!;
      expect(await until(() => sessionsOf(reader), (count) => count === '0', 3000)).toBe('0');
    }
  }, 60_000);

  it('destroy drops the read-only role and user with the service', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-query-ro-'));
    const name = `${app}ro`;
    try {
      writeFileSync(join(dir, 'paasmaker.yml'), `application:\n  name: ${name}\ninstances:\n  web:\n    command: sleep 60\nservices:\n  p: {plugin: pg-shared}\n  m: {plugin: my-shared}\n`);
      const manifest = loadManifest(dir);
      await services.provision(manifest);
      for (const service of ['p', 'm']) await services.query(services.provisioned(name, service, { manifest }), { text: 'SELECT 1', limit: 1, timeoutMs: 5000 });
      const roles = () => execFileSync('psql', [PG_ADMIN, '-X', '-t', '-A', '-c', `SELECT rolname FROM pg_roles WHERE rolname LIKE '${name}%-ro'`], { encoding: 'utf8' }).trim();
      const users = () => execFileSync('mariadb', ['--no-defaults', '--batch', '--skip-column-names', '-h', '127.0.0.1', '-P', '3306', '-u', 'root', '-e', `SELECT COUNT(*) FROM mysql.user WHERE User LIKE '${name}%-ro'`], { encoding: 'utf8' }).trim();
      expect(roles()).toMatch(/-ro$/);
      expect(users()).toBe('2');
      for (const record of services.list(name)) await services.destroy(record);
      expect(roles()).toBe('');
      expect(users()).toBe('0');
    } finally {
      for (const record of services.list(name)) await services.destroy(record).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(skip)('db query reads a bounded number of bytes', () => {
  it('SQLite: 8 cells of 20 MB stop at the byte budget, cut in the reader', async () => {
    const result = await query('lite', "SELECT printf('%.*c', 20000000, 'x') AS big FROM t, t AS u LIMIT 8", { timeoutMs: 20_000 });
    expect(result.truncated).toBe(true);
    expect(result.rows.length).toBe(1);
    expect(result.rows[0]![0]).toMatch(/^x{2000}… \(19998000 more characters\)$/);
  }, 60_000);

  it('SQLite: describe counts a large table up to 100 000 rows, not all of them', async () => {
    asApp.lite!('CREATE TABLE wide AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 150000) SELECT x FROM c');
    try {
      const schema = await describeService('lite');
      expect(schema.tables.find((table) => table.name === 'wide')!.rowEstimate).toBe(100_000);
      expect(schema.tables.find((table) => table.name === 't')!.rowEstimate).toBe(3);
    } finally {
      asApp.lite!('DROP TABLE wide');
    }
  });

  it('Redis: a 12 MB string, a large set and hash, a full LRANGE are read bounded; SCAN COUNT is capped; INFO only names safe sections', async () => {
    const cache = credentialsOf('cache');
    const members = Array.from({ length: 3000 }, (_, i) => `m${i}`);
    await redisCommands({ host: cache.hostname!, port: cache.port! }, [
      ['AUTH', cache.username!, cache.password!],
      ['SELECT', cache.database!],
      ['SET', 'huge', 'x'.repeat(12 * 1024 * 1024)],
      ['SADD', 'many', ...members],
      ['HSET', 'wide', ...members.flatMap((member) => [member, 'v'])],
      ['RPUSH', 'long', ...members],
    ]);
    try {
      const huge = await query('cache', 'GET huge');
      expect(huge.truncated).toBe(true);
      expect(JSON.stringify(huge).length).toBeLessThan(10_000);
      for (const text of ['SMEMBERS many', 'HGETALL wide', 'HKEYS wide', 'LRANGE long 0 -1', 'LRANGE long -3000 -1', 'ZRANGEBYSCORE nothing -inf +inf']) {
        const result = await query('cache', text, { limit: 10 });
        expect(result.rows.length, text).toBeLessThanOrEqual(10);
        if (text !== 'ZRANGEBYSCORE nothing -inf +inf') expect(result.truncated, text).toBe(true);
      }
      expect((await query('cache', 'SCAN 0 COUNT 100000000', { limit: 1000 })).rows.length).toBeLessThanOrEqual(1000);
      for (const text of ['INFO', 'INFO keyspace', 'INFO all', 'INFO server']) expect((await refusal(query('cache', text))).code, text).toBe('READ_ONLY');
      expect((await query('cache', 'INFO memory')).rows.map((row) => row[0])).toContain('used_memory');
    } finally {
      await redisCommands({ host: cache.hostname!, port: cache.port! }, [['AUTH', cache.username!, cache.password!], ['SELECT', cache.database!], ['DEL', 'huge', 'many', 'wide', 'long']]);
    }
  }, 60_000);
});
