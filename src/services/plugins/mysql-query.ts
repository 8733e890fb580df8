import mysql from 'mysql2';
import { PaasmakerError } from '../../shared/errors.js';
import { servicePassword } from '../names.js';
import { jsonSafe, ONE_STATEMENT, queryFailed, queryText, queryTimedOut, readOnlyError } from '../query.js';
import type { QueryRequest, QueryResult, ServiceContext, ServiceSchema } from '../types.js';

/** Where the server is, and the service's database (its user has the same name). */
export interface MyTarget {
  host: string;
  port: number;
  name: string;
  plugin: string;
}

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
 * A connection to the service's database as its own user, one statement a
 * message (no multipleStatements: a text with two is a syntax error at the
 * server), every transaction of the session read-only (SET SESSION
 * TRANSACTION READ ONLY: DDL, which commits what came before it, is refused
 * too) and each statement bounded by the server (max_statement_time).
 */
async function connect(target: MyTarget, context: ServiceContext, timeoutMs: number): Promise<mysql.Connection> {
  const connection = mysql.createConnection({
    host: target.host,
    port: target.port,
    user: target.name,
    password: servicePassword(context.home, target.plugin, target.name),
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
    throw new PaasmakerError('SERVICE_FAILED', `could not connect to MySQL database "${target.name}" on ${target.host}:${target.port}: ${(error as Error).message}`, {
      hint: 'is the service provisioned and its server running? (paasmaker services)',
    });
  }
  try {
    await run(connection, 'SET SESSION TRANSACTION READ ONLY');
    await run(connection, `SET SESSION max_statement_time = ${(Math.max(1, timeoutMs) / 1000).toFixed(3)}`).catch(async (error: MyError) => {
      if (error.errno !== UNKNOWN_VARIABLE) throw error;
      await run(connection, `SET SESSION max_execution_time = ${Math.max(1, Math.round(timeoutMs))}`); // MySQL: SELECTs only
    });
  } catch (error) {
    connection.destroy();
    throw queryFailed('MySQL', `setting up a read-only session: ${(error as MyError).sqlMessage ?? (error as Error).message}`);
  }
  return connection;
}

/** A MySQL error as Paasmaker's: a write refused → READ_ONLY; a timeout, anything else → QUERY_FAILED with the server's words. */
function myError(error: unknown, text: string, timeoutMs: number): Error {
  if (error instanceof PaasmakerError) return error;
  const failure = error as MyError;
  const words = failure.sqlMessage ?? failure.message;
  if (failure.errno === READ_ONLY_ERRNO) return readOnlyError('MySQL', text, words);
  if (failure.errno !== undefined && TIMED_OUT_ERRNOS.has(failure.errno)) return queryTimedOut('MySQL', timeoutMs);
  // A text with two statements is a syntax error "near" the second one.
  const several = failure.errno === 1064 && /;\s*\S/.test(text);
  return queryFailed('MySQL', words, several ? `${ONE_STATEMENT}; a text with several statements is a syntax error here` : undefined);
}

/** Runs fn, dropping the connection after it or once timeoutMs (plus a margin for the server's own limit) has passed. */
async function bounded<T>(connection: mysql.Connection, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      connection.destroy();
      reject(queryTimedOut('MySQL', timeoutMs));
    }, timeoutMs + 2000);
  });
  try {
    return await Promise.race([fn(), late]);
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
export async function queryIn(target: MyTarget, query: QueryRequest, context: ServiceContext): Promise<QueryResult> {
  const text = queryText(query);
  const started = Date.now();
  const connection = await connect(target, context, query.timeoutMs);
  return bounded(connection, query.timeoutMs, async () => {
    try {
      await run(connection, 'START TRANSACTION READ ONLY');
      const { columns, rows } = await new Promise<{ columns: string[]; rows: unknown[][] }>((resolve, reject) => {
        let columns: string[] = [];
        const rows: unknown[][] = [];
        let done = false;
        const stream = connection.query({ sql: text, rowsAsArray: true });
        stream.on('fields', (fields: Array<{ name: string }> | undefined) => {
          columns = (fields ?? []).map((field) => field.name);
        });
        stream.on('result', (row: unknown) => {
          if (done) return;
          // A statement without rows (SET, a USE) sends its result header instead.
          if (!Array.isArray(row)) return;
          rows.push(row as unknown[]);
          if (rows.length > query.limit) {
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
      return {
        columns,
        rows: rows.slice(0, query.limit).map((row) => row.map(jsonSafe)),
        truncated: rows.length > query.limit,
        elapsedMs: Date.now() - started,
      };
    } catch (error) {
      throw myError(error, text, query.timeoutMs);
    }
  });
}

/** The service's tables and views, their columns, and information_schema's row estimates. */
export async function describeIn(target: MyTarget, context: ServiceContext): Promise<ServiceSchema> {
  const connection = await connect(target, context, 15_000);
  return bounded(connection, 15_000, async () => {
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
