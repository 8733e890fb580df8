import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { PaasmakerError } from '../../shared/errors.js';
import { selfCommand } from '../../shared/executable.js';
import { BYTE_BUDGET, CELL_LIMIT, jsonSafe, ONE_STATEMENT, queryFailed, queryText, queryTimedOut, readOnlyError } from '../query.js';
import type { QueryRequest, QueryResult, ServiceSchema } from '../types.js';

/** What the reader is asked: a query of the file, or its description. */
interface Ask {
  mode: 'query' | 'describe';
  path: string;
  text?: string;
  limit?: number;
  /** The most bytes of a blob shown. */
  bytes: number;
  /** The most characters of a text kept (the rest is counted, not sent). */
  chars: number;
  /** The most bytes read over all rows: past it the reading stops and the answer says it was cut. */
  budget: number;
}

/** A text the reader cut: its first characters and how many more there were. */
type CutText = { $cut: string; more: number };
/** Tables counted up to this many rows in describe; a larger one is said to have at least that many. */
const COUNT_CAP = 100_000;

type ChildAnswer = { columns?: string[]; rows?: unknown[][]; cut?: boolean; tables?: ServiceSchema['tables']; refused?: boolean; error?: string; code?: string; prepare?: boolean };

/**
 * The reader, run in a process of its own: the file opened read-only (it
 * must exist), one statement prepared (better-sqlite3 refuses a text with
 * two), refused unless it reads (stmt.reader), and at most limit + 1 rows
 * read. Integers beyond 2^53 come as text, bytes as "\x<hex>". It uses
 * nothing but its arguments: run from sources, its own text is the script.
 */
function readSqlite(Database: typeof import('better-sqlite3'), ask: Ask): ChildAnswer {
  let size = 0;
  const value = (v: unknown): unknown => {
    size += typeof v === 'string' || Buffer.isBuffer(v) ? v.length : 8;
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (typeof v === 'string' && v.length > ask.chars) return { $cut: v.slice(0, ask.chars), more: v.length - ask.chars };
    if (Buffer.isBuffer(v)) {
      const shown = v.subarray(0, ask.bytes);
      return '\\x' + shown.toString('hex') + (v.length > shown.length ? '… (' + v.length + ' bytes)' : '');
    }
    return v;
  };
  let db: import('better-sqlite3').Database | undefined;
  try {
    db = new Database(ask.path, { readonly: true, fileMustExist: true });
    db.defaultSafeIntegers(true);
    if (ask.mode === 'describe') {
      const open = db;
      const tables = open.prepare("SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").all() as Array<{ name: string; type: 'table' | 'view' }>;
      return {
        tables: tables.map((table) => {
          const quoted = '"' + table.name.replace(/"/g, '""') + '"';
          const columns = open.prepare('SELECT name, type, "notnull" AS nn, pk FROM pragma_table_info(?)').all(table.name) as Array<{ name: string; type: string; nn: bigint; pk: bigint }>;
          const count = table.type === 'table' ? Number((open.prepare('SELECT COUNT(*) AS n FROM (SELECT 1 FROM ' + quoted + ' LIMIT ' + ask.budget + ')').get() as { n: bigint }).n) : null;
          return { name: table.name, kind: table.type, rowEstimate: count, columns: columns.map((c) => ({ name: c.name, type: c.type || '', nullable: Number(c.nn) === 0 && Number(c.pk) === 0, primaryKey: Number(c.pk) > 0 })) };
        }),
      };
    }
    let statement: import('better-sqlite3').Statement;
    try {
      statement = db.prepare(ask.text!);
    } catch (error) {
      return { error: (error as Error).message, code: (error as { code?: string }).code, prepare: true };
    }
    if (!statement.reader) return { refused: true };
    statement.raw(true);
    const columns = statement.columns().map((c) => c.name);
    const rows: unknown[][] = [];
    let cut = false;
    for (const row of statement.iterate() as IterableIterator<unknown[]>) {
      rows.push(row.map(value));
      if (rows.length > ask.limit!) break;
      if (size > ask.budget) {
        cut = true;
        break;
      }
    }
    return { columns, rows, cut };
  } catch (error) {
    return { error: (error as Error).message, code: (error as { code?: string }).code };
  } finally {
    db?.close();
  }
}

/** The hidden command (`paasmaker __sqlite-read`) a built Paasmaker runs the reader with: the ask on stdin, the answer a line of JSON on stdout. */
export const SQLITE_READ_COMMAND = '__sqlite-read';

export async function serveSqliteRead(): Promise<number> {
  const Database = (await import('better-sqlite3')).default;
  const ask = JSON.parse(readFileSync(0, 'utf8')) as Ask;
  process.stdout.write(`${JSON.stringify(readSqlite(Database, ask))}\n`);
  return 0;
}

/**
 * How the reader is started: this same Paasmaker with the hidden command (the
 * npm package's node and script, or the single executable); from TypeScript
 * sources (the unit tests), node with the reader's own text.
 */
function readerCommand(): string[] {
  if (!import.meta.url.endsWith('.ts')) return [...selfCommand(), SQLITE_READ_COMMAND];
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `process.stdout.write(JSON.stringify((${readSqlite.toString()})(require(${JSON.stringify(module)}), JSON.parse(require('node:fs').readFileSync(0, 'utf8')))) + '\\n')`;
  return [process.execPath, '-e', script];
}

/** Runs the reader on `ask` in a process of its own, killed at timeoutMs: a query SQLite runs in this process could not be stopped. */
function inChild(ask: Omit<Ask, 'bytes' | 'chars' | 'budget'>, timeoutMs: number): Promise<ChildAnswer> {
  const [command, ...args] = readerCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(command!, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(process.env.PAASMAKER_HOME ? { PAASMAKER_HOME: process.env.PAASMAKER_HOME } : {}) } });
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
    child.stdin.end(JSON.stringify({ ...ask, bytes: CELL_LIMIT / 2, chars: CELL_LIMIT, budget: ask.mode === 'describe' ? COUNT_CAP : BYTE_BUDGET } satisfies Ask));
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

const isCut = (cell: unknown): cell is CutText => typeof cell === 'object' && cell !== null && typeof (cell as CutText).$cut === 'string';

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
    rows: rows.slice(0, query.limit).map((row) => row.map((cell) => (isCut(cell) ? `${cell.$cut}… (${cell.more} more characters)` : jsonSafe(cell)))),
    truncated: rows.length > query.limit || answer.cut === true,
    elapsedMs: Date.now() - started,
  };
}

/** The file's tables and views, their columns (PRAGMA table_info) and COUNT(*) of each table, counted up to COUNT_CAP rows. */
export async function describeSqlite(path: string): Promise<ServiceSchema> {
  requireFile(path);
  const answer = await inChild({ mode: 'describe', path }, 30_000);
  if (answer.error !== undefined) throw queryFailed('SQLite', answer.error);
  return { protocol: 'sqlite', tables: answer.tables ?? [] };
}
