import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../src/services/binaries.js';
import { userToken } from '../helpers/auth.js';
import { bin, cliEnv, examples, plainManifest, runCli, stopDaemonAndRemove, tempHome } from '../helpers/cli.js';

// query_database and describe_database through `paasmaker mcp` over stdio:
// the guestbook example's PostgreSQL, and an app's MariaDB and SQLite. A
// write (INSERT, DROP TABLE) comes back as READ_ONLY and the rows stay.

const missing = ['initdb', 'postgres', 'mariadbd', 'mariadb'].filter((binary) => !findBinary([binary]));
const skip = missing.length > 0 && process.env.CI !== 'true';

let home: string;
let removeHome: () => void;
let ledger: string;
let client: Client;

async function call(name: string, args: Record<string, unknown>, as: Client = client): Promise<{ text: string; isError: boolean }> {
  const result = (await as.callTool({ name, arguments: args })) as CallToolResult;
  return { text: result.content.map((part) => (part.type === 'text' ? part.text : '')).join(''), isError: result.isError === true };
}

async function connect(args: string[] = []): Promise<Client> {
  const environment = Object.fromEntries(Object.entries(cliEnv(home)).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const connected = new Client({ name: 'paasmaker-test', version: '1.0.0' });
  await connected.connect(new StdioClientTransport({ command: bin, args: ['mcp', ...args], env: environment, stderr: 'pipe' }));
  return connected;
}

/** The rows of a query_database answer (its second line is {columns, rows}). */
function rowsOf(answer: { text: string; isError: boolean }): unknown[][] {
  expect(answer.isError, answer.text).toBe(false);
  return (JSON.parse(answer.text.split('\n')[1]!) as { rows: unknown[][] }).rows;
}

function post(port: number, host: string, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { host, 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(text) }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(text);
  });
}

beforeAll(async () => {
  if (skip) return;
  ({ home, cleanup: removeHome } = tempHome());
  const started = await runCli(['daemon', 'start', '--api-port', '0'], { home });
  expect(started.exitCode, started.stderr).toBe(0);
  const { proxyPort } = JSON.parse((await runCli(['daemon', 'status', '--json'], { home })).stdout) as { proxyPort: number };
  const guestbook = await runCli(['up', '-d', join(examples, 'guestbook-pg')], { home });
  expect(guestbook.exitCode, guestbook.stderr).toBe(0);
  for (const name of ['Ada', 'Grace']) expect(await post(proxyPort, 'guestbook-pg.localhost', '/entries', { name, message: 'hello' })).toBe(201);

  // An app with MariaDB and SQLite, each given a table of two rows with their own tools.
  ledger = mkdtempSync(join(tmpdir(), 'pm-ledger-'));
  writeFileSync(join(ledger, 'paasmaker.yml'), plainManifest('ledger', ['  my:', '    plugin: mysql', '  notes:', '    plugin: sqlite']));
  const up = await runCli(['up', '-d', ledger], { home });
  expect(up.exitCode, up.stderr).toBe(0);
  const maria = await runCli(['run', ledger, '--', 'sh', '-c', 'mariadb -h "$MY_HOST" -P "$MY_PORT" -u "$MY_USER" -p"$MY_PASSWORD" "$MY_DATABASE" -e "CREATE TABLE accounts (id INT PRIMARY KEY, name TEXT); INSERT INTO accounts VALUES (1, \'ana\'), (2, \'bo\')"'], { home });
  expect(maria.exitCode, maria.stderr).toBe(0);
  const env = JSON.parse((await runCli(['env', ledger, '--json', '--show-secrets'], { home })).stdout) as Record<string, string>;
  const sqlite = new Database(env.NOTES_PATH!);
  sqlite.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL); INSERT INTO notes (body) VALUES ('milk'), ('eggs')");
  sqlite.close();
  client = await connect();
}, 300_000);

afterAll(async () => {
  await client?.close().catch(() => undefined);
  if (home) await stopDaemonAndRemove(home, removeHome);
  if (ledger) rmSync(ledger, { recursive: true, force: true });
});

describe.skipIf(skip)('query_database and describe_database', () => {
  it("PostgreSQL (the guestbook): reads the rows, describes the table, refuses INSERT and DROP TABLE and the rows stay", async () => {
    const schema = await call('describe_database', { app: 'guestbook-pg', service: 'db' });
    expect(schema.isError, schema.text).toBe(false);
    expect(schema.text).toMatch(/^protocol: postgresql$/m);
    expect(schema.text).toMatch(/^table public\.entries/m);
    expect(schema.text).toMatch(/^ {2}id integer not null primary key$/m);

    expect(rowsOf(await call('query_database', { app: 'guestbook-pg', service: 'db', query: 'SELECT name FROM entries ORDER BY id' }))).toEqual([['Ada'], ['Grace']]);
    const limited = await call('query_database', { app: 'guestbook-pg', service: 'db', query: 'SELECT name FROM entries ORDER BY id', limit: 1 });
    expect(limited.text).toMatch(/^1 row in \d+ ms \(more rows exist/);

    for (const write of ["INSERT INTO entries (name, message) VALUES ('Eve', 'x')", 'DROP TABLE entries']) {
      const refused = await call('query_database', { app: 'guestbook-pg', service: 'db', query: write });
      expect(refused.isError, write).toBe(true);
      expect(refused.text).toMatch(/^READ_ONLY: .*nothing was changed\nhint: /);
    }
    expect(rowsOf(await call('query_database', { app: 'guestbook-pg', service: 'db', query: 'SELECT name FROM entries ORDER BY id' }))).toEqual([['Ada'], ['Grace']]);
  });

  it('MariaDB and SQLite: DROP TABLE is refused and the table keeps its rows', async () => {
    for (const [service, table] of [['my', 'accounts'], ['notes', 'notes']] as const) {
      const before = rowsOf(await call('query_database', { app: 'ledger', service, query: `SELECT * FROM ${table} ORDER BY id` }));
      expect(before, service).toHaveLength(2);
      const dropped = await call('query_database', { app: 'ledger', service, query: `DROP TABLE ${table}` });
      expect(dropped.isError, service).toBe(true);
      expect(dropped.text, service).toMatch(/^READ_ONLY: /);
      expect(rowsOf(await call('query_database', { app: 'ledger', service, query: `SELECT * FROM ${table} ORDER BY id` })), service).toEqual(before);
      expect((await call('describe_database', { app: 'ledger', service })).text, service).toMatch(new RegExp(`^table ${table} \\(~\\d+ rows\\)$`, 'm'));
    }
  });

  it("a viewer's token describes the database but may not query it (SERVICE_EXPORT)", async () => {
    const viewer = await connect(['--token', await userToken(home, 'vera', 'viewer')]);
    try {
      expect((await call('describe_database', { app: 'guestbook-pg', service: 'db' }, viewer)).text).toMatch(/^table public\.entries/m);
      expect((await call('query_database', { app: 'guestbook-pg', service: 'db', query: 'SELECT 1' }, viewer)).text).toMatch(/^FORBIDDEN: user "vera" lacks the permission SERVICE_EXPORT/);
    } finally {
      await viewer.close();
    }
  });
});
