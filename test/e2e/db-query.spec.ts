import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest, plainManifest, runCli, Scratch } from '../helpers/cli.js';

// paasmaker db query and db describe, as a user types them, on a SQLite
// app: through the daemon that runs it, and with no platform running.

const scratch = new Scratch();
afterEach(() => scratch.cleanup());

const dbFile = (home: string, app: string) => join(home, 'data', app, 'db.sqlite');

/** SQL run on the app's database as the app would (WAL, as most SQLite apps set it). */
function sql(home: string, app: string, text: string): void {
  const db = new Database(dbFile(home, app));
  db.pragma('journal_mode = WAL');
  db.exec(text);
  db.close();
}

function count(home: string, app: string): number {
  const db = new Database(dbFile(home, app), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM notes').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function cli(home: string, args: string[], cwd?: string) {
  const result = await runCli(args, { home, cwd });
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const SEED = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, seen INTEGER); INSERT INTO notes (body, seen) VALUES ('hello', 1), ('two\nlines', NULL), ('third', 0);";

describe('paasmaker db query and db describe', () => {
  it('through the daemon: rows as a table, the limit said, --json, a DROP refused with the rows unchanged, the tables described', async () => {
    const home = scratch.daemonHome();
    const dir = scratch.project({ 'paasmaker.yml': plainManifest('jotter', ['  settings:', '    plugin: parameters', '    greeting: hi', '  db:', '    plugin: sqlite']) });
    expect((await cli(home, ['up', '-d', dir])).exitCode).toBe(0);
    sql(home, 'jotter', SEED);

    // The default service is the first that can be read (parameters cannot).
    const read = await cli(home, ['db', 'query', 'SELECT id, body, seen FROM notes ORDER BY id'], dir);
    expect(read.exitCode, read.stderr).toBe(0);
    expect(read.stdout).toMatch(/^ID\s+BODY\s+SEEN\n1\s+hello\s+1\n2\s+two\\nlines\s+NULL\n3\s+third\s+0\n\(3 rows, \d+ ms\)$/);

    const limited = await cli(home, ['db', 'query', 'db', 'SELECT id FROM notes ORDER BY id', '--limit', '2'], dir);
    expect(limited.stdout).toBe('ID\n1\n2\n(2 rows shown; more rows not shown: raise --limit, at most 1000, or narrow the query)');

    const json = await cli(home, ['db', 'query', 'SELECT body FROM notes WHERE id = 1', '--json', '-C', dir]);
    expect(JSON.parse(json.stdout)).toMatchObject({ columns: ['body'], rows: [['hello']], truncated: false });

    for (const text of ['DROP TABLE notes', "INSERT INTO notes (body) VALUES ('x')", 'COMMIT; DROP TABLE notes']) {
      const refused = await cli(home, ['db', 'query', text], dir);
      expect(refused.exitCode, text).toBe(1);
      expect(refused.stderr).toMatch(/^error: SQLite( refused|: the text holds more than one statement)/);
      expect(count(home, 'jotter')).toBe(3);
    }
    const endless = await cli(home, ['db', 'query', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c', '--timeout', '1000'], dir);
    expect(endless.stderr).toContain('error: SQLite: the query ran past its time limit of 1000 ms and was cancelled');
    expect((await cli(home, ['db', 'query', 'settings', 'SELECT 1'], dir)).stderr).toContain('the parameters plugin cannot be queried');
    expect((await cli(home, ['db', 'query', 'SELECT 1', '--limit', '5000'], dir)).stderr).toContain('--limit takes a whole number from 1 to 1000');

    const described = await cli(home, ['db', 'describe'], dir);
    expect(described.exitCode, described.stderr).toBe(0);
    expect(described.stdout).toMatch(/^notes \(table, ~3 rows\)\n  COLUMN\s+TYPE\s+NULL\s+KEY\n  id\s+INTEGER\s+not null\s+primary\n  body\s+TEXT\s+not null\n  seen\s+INTEGER\s+null$/);
    // The CLI and the API answer alike.
    const api = await apiRequest(join(home, 'paasmaker.sock'), 'GET', '/api/v1/services/jotter/db/schema');
    expect(JSON.parse((await cli(home, ['db', 'describe', '--json'], dir)).stdout)).toEqual(api.json);
  }, 90_000);

  it('with no platform running, a platform of the command’s own reads; an app never started is named', async () => {
    const home = scratch.daemonHome();
    const dir = scratch.project({ 'paasmaker.yml': plainManifest('quiet', ['  db:', '    plugin: sqlite']) });
    const never = await cli(home, ['db', 'query', 'SELECT 1'], dir);
    expect(never.exitCode).toBe(1);
    expect(never.stderr).toContain('error: service quiet/db is not provisioned yet\nhint: start the app once (paasmaker up) so its services are made');

    expect((await cli(home, ['up', '-d', dir])).exitCode).toBe(0);
    sql(home, 'quiet', SEED);
    expect((await cli(home, ['daemon', 'stop'])).exitCode).toBe(0);
    const read = await cli(home, ['db', 'query', 'SELECT COUNT(*) AS n FROM notes'], dir);
    expect(read.exitCode, read.stderr).toBe(0);
    expect(read.stdout).toMatch(/^N\n3\n/);
    const drop = await cli(home, ['db', 'query', 'DROP TABLE notes'], dir);
    expect(drop.exitCode).toBe(1);
    expect(count(home, 'quiet')).toBe(3);
  }, 90_000);
});
