import mysql from 'mysql2';
import { PaasmakerError } from '../../shared/errors.js';
import { BYTE_BUDGET, jsonSafe, ONE_STATEMENT, queryFailed, queryText, queryTimedOut, readOnlyError, sizeOf } from '../query.js';
import type { Reader } from '../readers.js';
import type { QueryRequest, QueryResult, ServiceSchema } from '../types.js';

/** Where the server is, the service's database, and its read-only user (which `ensure` makes, or gives a fresh password when `reset`). */
export interface MyTarget {
  host: string;
  port: number;
  name: string;
  reader: Reader;
  ensure: (reset: boolean) => Promise<void>;
}

/** ER_ACCESS_DENIED_ERROR: the reader's password is not the one kept (or the reader was dropped). */
const ACCESS_DENIED = 1045;
/** Rights the read-only user does not have: a table/column/database/routine command denied, a right only an administrator has, KILL of another user's session. */
const DENIED_ERRNOS = new Set([1142, 1143, 1044, 1227, 1370, 1095, 1211]);
/** How long past the limit the server's own max_statement_time stops a statement, should the KILL not reach it. */
const SERVER_MARGIN_MS = 1000;

/** ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION */
const READ_ONLY_ERRNO = 1792;
/** MariaDB's max_statement_time, MySQL's max_execution_time, a killed query. */
const TIMED_OUT_ERRNOS = new Set([1969, 3024, 1317]);
/** ER_UNKNOWN_SYSTEM_VARIABLE: MySQL has no max_statement_time. */
const UNKNOWN_VARIABLE = 1193;

type MyError = Error & { errno?: number; sqlMessage?: string };

/** One statement, promised: its rows (or its result header) and fields. */
function run(connection: mysql.Connection, sql: string): Promise<unknown> {
  return new Promise((resolve, reject) => connection.query(sql, (error, rows) => (error ? reject(error) : resolve(rows))));
}

/**
 * A connection to the service's database as its read-only user, one statement a
 * message (no multipleStatements: a text with two is a syntax error at the
 * server), every transaction of the session read-only (SET SESSION
 * TRANSACTION READ ONLY: DDL, which commits what came before it, is refused
 * too) and each statement bounded by the server (max_statement_time).
 */
async function connect(target: MyTarget, timeoutMs: number): Promise<mysql.Connection> {
  await target.ensure(false);
  try {
    return await open(target, timeoutMs);
  } catch (error) {
    if ((error as MyError).errno !== ACCESS_DENIED) throw error;
  }
  await target.ensure(true);
  return open(target, timeoutMs).catch((error: unknown) => {
    throw error instanceof PaasmakerError ? error : failedToConnect(target, error);
  });
}

function failedToConnect(target: MyTarget, error: unknown): PaasmakerError {
  return new PaasmakerError('SERVICE_FAILED', `could not connect to MySQL database "${target.name}" on ${target.host}:${target.port}: ${(error as Error).message}`, {
    hint: 'is the service provisioned and its server running? (paasmaker services)',
  });
}

/** A bare connection as the reader: no session settings. */
async function login(target: MyTarget): Promise<mysql.Connection> {
  const connection = mysql.createConnection({
    host: target.host,
    port: target.port,
    user: target.reader.user,
    password: target.reader.password,
    database: target.name,
    multipleStatements: false,
    connectTimeout: 5000,
    supportBigNumbers: true,
    bigNumberStrings: false, // a number when it is exact, else text
    dateStrings: true,
    charset: 'utf8mb4',
  });
  connection.on('error', () => {}); // a connection dropped under a query: the query's callback says so
  try {
    await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return connection;
}

/** The reader's session: its transactions read-only, its statements stopped by the server a little after the limit (the KILL at the limit comes first). */
async function open(target: MyTarget, timeoutMs: number): Promise<mysql.Connection> {
  let connection: mysql.Connection;
  try {
    connection = await login(target);
  } catch (error) {
    if ((error as MyError).errno === ACCESS_DENIED) throw error;
    throw failedToConnect(target, error);
  }
  const limit = Math.max(1, timeoutMs) + SERVER_MARGIN_MS;
  try {
    await run(connection, 'SET SESSION TRANSACTION READ ONLY');
    await run(connection, `SET SESSION max_statement_time = ${(limit / 1000).toFixed(3)}`).catch(async (error: MyError) => {
      if (error.errno !== UNKNOWN_VARIABLE) throw error;
      await run(connection, `SET SESSION max_execution_time = ${Math.round(limit)}`); // MySQL: SELECTs only
    });
  } catch (error) {
    connection.destroy();
    throw queryFailed('MySQL', `setting up a read-only session: ${(error as MyError).sqlMessage ?? (error as Error).message}`);
  }
  return connection;
}

/**
 * SET STATEMENT … FOR overrides a session setting for one statement (the
 * read-only transaction, max_statement_time): refused before anything is
 * sent, behind the read-only user's rights and the KILL at the time limit.
 */
function refuseOverrides(text: string): void {
  if (/\bSET\s+STATEMENT\b/i.test(text)) {
    throw new PaasmakerError('READ_ONLY', 'MySQL: SET STATEMENT … FOR is refused in a query (it would override the read-only session and its time limit); nothing was sent', {
      hint: 'send the statement alone: SELECT …',
    });
  }
}

/** A MySQL error as Paasmaker's: a write refused → READ_ONLY; a timeout, anything else → QUERY_FAILED with the server's words. */
function myError(error: unknown, text: string, timeoutMs: number): Error {
  if (error instanceof PaasmakerError) return error;
  const failure = error as MyError;
  const words = failure.sqlMessage ?? failure.message;
  if (failure.errno === READ_ONLY_ERRNO) return readOnlyError('MySQL', text, words);
  if (failure.errno !== undefined && DENIED_ERRNOS.has(failure.errno)) return readOnlyError('MySQL', text, `${words} (queries run as a read-only user that may only SELECT)`);
  if (failure.errno !== undefined && TIMED_OUT_ERRNOS.has(failure.errno)) return queryTimedOut('MySQL', timeoutMs);
  // A text with two statements is a syntax error "near" the second one.
  const several = failure.errno === 1064 && /;\s*\S/.test(text);
  return queryFailed('MySQL', words, several ? `${ONE_STATEMENT}; a text with several statements is a syntax error here` : undefined);
}

/**
 * Ends the session `connection` on the server: KILL from a second
 * connection as the same reader (a user may end its own sessions and no
 * other). Dropping the socket alone leaves the statement running there.
 */
async function kill(target: MyTarget, connection: mysql.Connection): Promise<void> {
  const id = connection.threadId;
  if (id === null || id === undefined) return;
  const killer = await login(target).catch(() => undefined);
  if (!killer) return;
  try {
    await Promise.race([run(killer, `KILL CONNECTION ${Number(id)}`).catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000))]);
  } finally {
    killer.destroy();
  }
}

/** Runs fn, dropping the connection after it; at timeoutMs the session is killed on the server and the query refused. */
async function bounded<T>(target: MyTarget, connection: mysql.Connection, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      expired = true;
      void kill(target, connection).finally(() => {
        connection.destroy();
        reject(queryTimedOut('MySQL', timeoutMs));
      });
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      fn().catch((error: unknown) => {
        throw expired ? queryTimedOut('MySQL', timeoutMs) : error;
      }),
      late,
    ]);
  } finally {
    clearTimeout(timer);
    connection.destroy();
  }
}

/**
 * One statement in START TRANSACTION READ ONLY, in a session whose every
 * transaction is read-only: rows are read as they come, and the
 * connection dropped (the transaction rolled back) after limit + 1.
 */
export async function queryIn(target: MyTarget, query: QueryRequest): Promise<QueryResult> {
  const text = queryText(query);
  refuseOverrides(text);
  const started = Date.now();
  const connection = await connect(target, query.timeoutMs);
  let cut = false;
  return bounded(target, connection, query.timeoutMs, async () => {
    try {
      await run(connection, 'START TRANSACTION READ ONLY');
      const { columns, rows } = await new Promise<{ columns: string[]; rows: unknown[][] }>((resolve, reject) => {
        let columns: string[] = [];
        const rows: unknown[][] = [];
        let done = false;
        let bytes = 0;
        const stream = connection.query({ sql: text, rowsAsArray: true });
        stream.on('fields', (fields: Array<{ name: string }> | undefined) => {
          columns = (fields ?? []).map((field) => field.name);
        });
        stream.on('result', (row: unknown) => {
          if (done) return;
          // A statement without rows (SET, a USE) sends its result header instead.
          if (!Array.isArray(row)) return;
          rows.push(row as unknown[]);
          bytes += sizeOf(row);
          if (bytes > BYTE_BUDGET && rows.length <= query.limit) cut = true;
          if (rows.length > query.limit || cut) {
            done = true;
            connection.pause();
            resolve({ columns, rows });
          }
        });
        stream.on('error', (error: Error) => {
          if (!done) reject(error);
          done = true;
        });
        stream.on('end', () => {
          if (!done) resolve({ columns, rows });
          done = true;
        });
      });
      // Stopped before its end: the statement is ended on the server too, which would go on sending (and holding its locks) otherwise.
      if (rows.length > query.limit || cut) await kill(target, connection);
      return {
        columns,
        rows: rows.slice(0, query.limit).map((row) => row.map(jsonSafe)),
        truncated: rows.length > query.limit || cut,
        elapsedMs: Date.now() - started,
      };
    } catch (error) {
      throw myError(error, text, query.timeoutMs);
    }
  });
}

/** The service's tables and views, their columns, and information_schema's row estimates. */
export async function describeIn(target: MyTarget): Promise<ServiceSchema> {
  const connection = await connect(target, 15_000);
  return bounded(target, connection, 15_000, async () => {
    try {
      const database = connection.escape(target.name);
      const tables = (await run(connection, `SELECT TABLE_NAME AS name, TABLE_TYPE AS type, TABLE_ROWS AS estimate FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${database} ORDER BY TABLE_NAME`)) as Array<{ name: string; type: string; estimate: string | number | null }>;
      const columns = (await run(
        connection,
        `SELECT TABLE_NAME AS tableName, COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_KEY AS columnKey FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${database} ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      )) as Array<{ tableName: string; name: string; type: string; nullable: string; columnKey: string }>;
      return {
        protocol: 'mysql',
        tables: tables.map((table) => {
          const view = table.type === 'VIEW';
          return {
            name: table.name,
            kind: view ? ('view' as const) : ('table' as const),
            rowEstimate: view || table.estimate === null ? null : Number(table.estimate),
            columns: columns
              .filter((column) => column.tableName === table.name)
              .map((column) => ({ name: column.name, type: String(column.type), nullable: column.nullable === 'YES', primaryKey: column.columnKey === 'PRI' })),
          };
        }),
      };
    } catch (error) {
      throw myError(error, 'describe', 15_000);
    }
  });
}
