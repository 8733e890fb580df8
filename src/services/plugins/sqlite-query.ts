import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { PaasmakerError } from '../../shared/errors.js';
import { CELL_LIMIT, jsonSafe, ONE_STATEMENT, queryFailed, queryText, queryTimedOut, readOnlyError } from '../query.js';
import type { QueryRequest, QueryResult, ServiceSchema } from '../types.js';

/**
 * What runs in the child: the file opened read-only (it must exist), one
 * statement prepared (better-sqlite3 refuses a text with two), refused
 * unless it reads (stmt.reader), and at most limit + 1 rows read. Integers
 * beyond 2^53 come as text, bytes as "\x<hex>". Its answer is one line of
 * JSON on stdout.
 */
const CHILD = String.raw`
const Database = require(process.argv[1]);
const ask = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const value = (v) => {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Buffer.isBuffer(v)) {
    const shown = v.subarray(0, ask.bytes);
    return '\\x' + shown.toString('hex') + (v.length > shown.length ? '… (' + v.length + ' bytes)' : '');
  }
  return v;
};
const answer = (what) => process.stdout.write(JSON.stringify(what) + '\n');
let db;
try {
  db = new Database(ask.path, { readonly: true, fileMustExist: true });
  db.defaultSafeIntegers(true);
  if (ask.mode === 'describe') {
    const tables = db.prepare("SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").all();
    answer({ tables: tables.map((t) => {
      const quoted = '"' + t.name.replace(/"/g, '""') + '"';
      const columns = db.prepare('SELECT name, type, "notnull" AS nn, pk FROM pragma_table_info(?)').all(t.name);
      const count = t.type === 'table' ? Number(db.prepare('SELECT COUNT(*) AS n FROM ' + quoted).get().n) : null;
      return { name: t.name, kind: t.type, rowEstimate: count, columns: columns.map((c) => ({ name: c.name, type: c.type || '', nullable: Number(c.nn) === 0 && Number(c.pk) === 0, primaryKey: Number(c.pk) > 0 })) };
    }) });
  } else {
    let statement;
    try {
      statement = db.prepare(ask.text);
    } catch (error) {
      answer({ error: error.message, code: error.code, prepare: true });
      process.exit(0);
    }
    if (!statement.reader) {
      answer({ refused: true });
    } else {
      statement.raw(true);
      const columns = statement.columns().map((c) => c.name);
      const rows = [];
      for (const row of statement.iterate()) {
        rows.push(row.map(value));
        if (rows.length > ask.limit) break;
      }
      answer({ columns, rows });
    }
  }
} catch (error) {
  answer({ error: error.message, code: error.code });
} finally {
  if (db) db.close();
}
`;

type ChildAnswer = { columns?: string[]; rows?: unknown[][]; tables?: ServiceSchema['tables']; refused?: boolean; error?: string; code?: string; prepare?: boolean };

/** Runs CHILD on `ask` in a node process of its own, killed at timeoutMs: a query SQLite runs in this process could not be stopped. */
function inChild(ask: Record<string, unknown>, timeoutMs: number): Promise<ChildAnswer> {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD, module], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    let out = '';
    let errors = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors = (errors + chunk).slice(-4000)));
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify({ ...ask, bytes: CELL_LIMIT / 2 }));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', () => {
      clearTimeout(timer);
      if (timedOut) return reject(queryTimedOut('SQLite', timeoutMs));
      try {
        resolve(JSON.parse(out) as ChildAnswer);
      } catch {
        reject(new PaasmakerError('SERVICE_FAILED', `reading SQLite failed: ${errors.trim().split('\n').slice(-3).join('\n') || 'no answer'}`));
      }
    });
  });
}

function requireFile(path: string): void {
  if (!existsSync(path)) {
    throw new PaasmakerError('SERVICE_NOT_FOUND', `the SQLite file ${basename(path)} does not exist`, { hint: 'start the app once (paasmaker up) so its services are made' });
  }
}

/** One statement on the file opened read-only; a statement that would write is refused before it runs (READ_ONLY). */
export async function querySqlite(path: string, query: QueryRequest): Promise<QueryResult> {
  const text = queryText(query);
  requireFile(path);
  const started = Date.now();
  const answer = await inChild({ mode: 'query', path, text, limit: query.limit }, query.timeoutMs);
  if (answer.refused) throw readOnlyError('SQLite', text, 'the statement would write, and the database is opened read-only');
  if (answer.error !== undefined) {
    if (answer.code === 'SQLITE_READONLY') throw readOnlyError('SQLite', text, `${answer.error} (the database is opened read-only)`);
    if (answer.prepare && /more than one statement/.test(answer.error)) throw queryFailed('SQLite', 'the text holds more than one statement', ONE_STATEMENT);
    throw queryFailed('SQLite', answer.error);
  }
  const rows = answer.rows ?? [];
  return {
    columns: answer.columns ?? [],
    rows: rows.slice(0, query.limit).map((row) => row.map(jsonSafe)),
    truncated: rows.length > query.limit,
    elapsedMs: Date.now() - started,
  };
}

/** The file's tables and views, their columns (PRAGMA table_info) and COUNT(*) of each table. */
export async function describeSqlite(path: string): Promise<ServiceSchema> {
  requireFile(path);
  const answer = await inChild({ mode: 'describe', path }, 30_000);
  if (answer.error !== undefined) throw queryFailed('SQLite', answer.error);
  return { protocol: 'sqlite', tables: answer.tables ?? [] };
}
