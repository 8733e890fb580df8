import pg from 'pg';
import Cursor from 'pg-cursor';
import { PaasmakerError } from '../../shared/errors.js';
import { pgIdent, resourceName, sqlString } from '../names.js';
import { BYTE_BUDGET, jsonSafe, ONE_STATEMENT, queryFailed, queryText, queryTimedOut, readOnlyError, sizeOf } from '../query.js';
import { oneAtATime, pgReader, readerOf, type Reader } from '../readers.js';
import type { QueryRequest, QueryResult, ServiceContext, ServiceRequest, ServiceSchema } from '../types.js';
import { PG_NAME_MAX, psql, type PgAdmin } from './postgres-admin.js';

/** The longest a query waits for a lock before it gives up (less when its own time limit is shorter). */
const LOCK_TIMEOUT_MS = 1000;
/** SQLSTATE 28P01 invalid_password: the reader's password changed (its secret was lost). */
const BAD_PASSWORD = '28P01';

/** The service's read-only role, as the administrator makes it: LOGIN, nothing else, CONNECT on the service's database. */
function readerRoleSql(reader: Reader, database: string, reset: boolean): string {
  const role = pgReader(reader.user);
  const password = sqlString(reader.password);
  return `
DO $$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${sqlString(reader.user)}) THEN
    CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION CONNECTION LIMIT 20 PASSWORD ${password};
  ${reset ? `ELSE
    ALTER ROLE ${role} WITH LOGIN PASSWORD ${password};
  ` : ''}END IF;
  IF NOT has_database_privilege(${sqlString(reader.user)}, ${sqlString(database)}, 'CONNECT') THEN
    GRANT CONNECT ON DATABASE ${pgIdent(database)} TO ${role};
  END IF;
END$$;
`;
}

/**
 * USAGE on every schema of the service's database but PostgreSQL's own, and
 * SELECT on every table, view and materialized view in them: granted again
 * before each query (only where missing), so tables the app made since are
 * read too. Run in the service's database by the administrator.
 */
function readerGrantsSql(reader: Reader): string {
  const name = sqlString(reader.user);
  return `
DO $$DECLARE s text; BEGIN
  FOR s IN SELECT nspname FROM pg_namespace
             WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp%' LOOP
    IF NOT has_schema_privilege(${name}, s, 'USAGE') THEN
      EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', s, ${name});
    END IF;
    IF EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT has_table_privilege(${name}, c.oid, 'SELECT')) THEN
      EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', s, ${name});
    END IF;
  END LOOP;
END$$;
`;
}

/** Makes the service's reader (if missing, or with a fresh password when `reset`) and grants it SELECT on the tables there are now. */
async function ensureReader(admin: PgAdmin, reader: Reader, database: string, reset = false): Promise<void> {
  await oneAtATime(`pg:${admin.host}:${admin.port}:${reader.user}`, async () => {
    await psql(admin, readerRoleSql(reader, database, reset), `making the read-only role of "${database}"`, [reader.password]);
    await psql(admin, readerGrantsSql(reader), `granting SELECT on "${database}" to its read-only role`, [], database);
  });
}

/** Values as PostgreSQL spells them, but for booleans, small numbers and JSON: no Date shifted by this machine's time zone, int8 and numeric whole. */
const TEXT_TYPES = {
  getTypeParser: (oid: number): ((value: string) => unknown) => {
    switch (oid) {
      case 16: // bool
        return (value) => value === 't';
      case 20: // int8: a number when it is exact
        return (value) => (Number.isSafeInteger(Number(value)) ? Number(value) : value);
      case 21: // int2
      case 23: // int4
      case 26: // oid
      case 700: // float4
      case 701: // float8
        return Number;
      case 114: // json
      case 3802: // jsonb
        return (value) => JSON.parse(value) as unknown;
      default:
        return (value) => value;
    }
  },
};

/**
 * A cursor that also survives COPY … TO STDOUT, which sends its rows as
 * CopyData (pg-cursor has no handler for them, and pg would throw out of its
 * socket's handler): they are counted, not read, and the query is refused.
 */
class ReadCursor extends Cursor {
  copied = 0;
  handleCopyData(): void {
    this.copied++;
  }
  handleCopyInResponse(connection: { sendCopyFail: (message: string) => void }): void {
    connection.sendCopyFail('a read-only query takes no input');
  }
}

/** SQLSTATE 25006, read_only_sql_transaction: a write in a read-only transaction. */
const READ_ONLY_STATE = '25006';
/** 57014, query_canceled: statement_timeout. */
const CANCELED = '57014';
/** 42501: a right the read-only role does not have (a write, a LOCK, signalling another role's session). */
const INSUFFICIENT_PRIVILEGE = '42501';
/** 55P03, lock_not_available: lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * A connection to the service's own database as its read-only role (made
 * and granted SELECT on every table first: see readers.ts), every
 * transaction read-only from the start (default_transaction_read_only, so
 * that not even a COMMIT leaves one that may write).
 */
async function connect(admin: PgAdmin, plugin: string, request: ServiceRequest, context: ServiceContext, timeoutMs: number): Promise<pg.Client> {
  const name = resourceName(request);
  const reader = readerOf(context.home, plugin, request, PG_NAME_MAX);
  await ensureReader(admin, reader, name);
  try {
    return await open(admin, reader, name, timeoutMs);
  } catch (error) {
    if ((error as { code?: string }).code !== BAD_PASSWORD) throw failedToConnect(name, admin, error);
  }
  await ensureReader(admin, reader, name, true);
  return open(admin, reader, name, timeoutMs).catch((error: unknown) => {
    throw failedToConnect(name, admin, error);
  });
}

function failedToConnect(name: string, admin: PgAdmin, error: unknown): PaasmakerError {
  return new PaasmakerError('SERVICE_FAILED', `could not connect to PostgreSQL database "${name}" on ${admin.host}:${admin.port}: ${(error as Error).message}`, {
    hint: 'is the service provisioned and its server running? (paasmaker services)',
  });
}

async function open(admin: PgAdmin, reader: Reader, name: string, timeoutMs: number): Promise<pg.Client> {
  const client = new pg.Client({
    host: admin.host,
    port: admin.port,
    user: reader.user,
    password: reader.password,
    database: name,
    application_name: 'paasmaker db query',
    connectionTimeoutMillis: 5000,
    options: `-c default_transaction_read_only=on -c statement_timeout=${Math.max(1, Math.round(timeoutMs))}`,
    types: TEXT_TYPES,
  });
  client.on('error', () => {}); // a connection dropped under a query: the query's promise says so
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return client;
}

/** A PostgreSQL error as Paasmaker's: a write refused → READ_ONLY; several statements, a timeout, anything else → QUERY_FAILED with PostgreSQL's words. */
function pgError(error: unknown, text: string, timeoutMs: number): Error {
  const failure = error as { code?: string; message?: string; position?: string; hint?: string };
  if (error instanceof PaasmakerError) return error;
  if (failure.code === READ_ONLY_STATE) return readOnlyError('PostgreSQL', text, failure.message ?? 'a write in a read-only transaction');
  if (failure.code === INSUFFICIENT_PRIVILEGE) return readOnlyError('PostgreSQL', text, `${failure.message ?? 'permission denied'} (queries run as a read-only role that may only SELECT)`);
  if (failure.code === CANCELED) return queryTimedOut('PostgreSQL', timeoutMs);
  if (failure.code === LOCK_NOT_AVAILABLE) return queryFailed('PostgreSQL', `${failure.message ?? 'lock timeout'}: the query waited ${LOCK_TIMEOUT_MS} ms for a lock the app holds`, 'try again when the app is done with the table');
  if (failure.code === '42601' && /multiple commands/.test(failure.message ?? '')) return queryFailed('PostgreSQL', 'the text holds more than one statement', ONE_STATEMENT);
  const at = failure.position ? ` (at character ${failure.position})` : '';
  return queryFailed('PostgreSQL', `${failure.message ?? String(error)}${at}`, failure.hint);
}

/** Runs `fn` and closes the client; past `timeoutMs` (plus a margin for the server's own statement_timeout) the connection is dropped. */
async function bounded<T>(client: pg.Client, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(queryTimedOut('PostgreSQL', timeoutMs)), timeoutMs + 2000);
  });
  try {
    return await Promise.race([fn(), late]);
  } finally {
    clearTimeout(timer);
    await client.end().catch(() => {});
  }
}

/**
 * One statement, read-only: BEGIN TRANSACTION READ ONLY, SET LOCAL
 * statement_timeout, the text through the extended protocol (one Parse: a
 * text with two statements is refused by PostgreSQL itself, so nothing can
 * end the transaction and go on), limit + 1 rows fetched from its portal,
 * then ROLLBACK.
 */
export async function queryIn(admin: PgAdmin, plugin: string, request: ServiceRequest, query: QueryRequest, context: ServiceContext): Promise<QueryResult> {
  const text = queryText(query);
  const started = Date.now();
  const client = await connect(admin, plugin, request, context, query.timeoutMs);
  return bounded(client, query.timeoutMs, async () => {
    try {
      await client.query('BEGIN TRANSACTION READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(query.timeoutMs))}`);
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.min(LOCK_TIMEOUT_MS, Math.round(query.timeoutMs)))}`);
      const cursor = client.query(new ReadCursor(text, [], { rowMode: 'array', types: TEXT_TYPES }));
      const read = (count: number) =>
        new Promise<{ rows: unknown[][]; fields: Array<{ name: string }> }>((resolve, reject) =>
          cursor.read(count, (error, rows, result) => (error ? reject(error) : resolve({ rows: rows as unknown as unknown[][], fields: result?.fields ?? [] }))),
        );
      // A row first, then batches sized by what the rows so far weigh, until limit + 1 rows or BYTE_BUDGET bytes.
      const rows: unknown[][] = [];
      let fields: Array<{ name: string }> = [];
      let bytes = 0;
      let cut = false;
      for (let want = 1; rows.length <= query.limit; ) {
        const batch = await read(want);
        if (batch.fields.length > 0) fields = batch.fields;
        for (const row of batch.rows) {
          rows.push(row);
          bytes += sizeOf(row);
        }
        if (batch.rows.length < want) break;
        if (bytes > BYTE_BUDGET) {
          cut = rows.length <= query.limit;
          break;
        }
        const perRow = Math.max(1, bytes / rows.length);
        want = Math.max(1, Math.min(query.limit + 1 - rows.length, Math.floor((BYTE_BUDGET - bytes) / perRow)));
      }
      await cursor.close().catch(() => {});
      await client.query('ROLLBACK').catch(() => {});
      if (cursor.copied > 0) throw queryFailed('PostgreSQL', 'COPY … TO STDOUT sends its rows as a copy stream, which a query does not read', 'read the rows with SELECT (db dump writes the whole database)');
      return {
        columns: fields.map((field) => field.name),
        rows: rows.slice(0, query.limit).map((row) => row.map(jsonSafe)),
        truncated: rows.length > query.limit || cut,
        elapsedMs: Date.now() - started,
      };
    } catch (error) {
      throw pgError(error, text, query.timeoutMs);
    }
  });
}

/** The service's tables and views (every schema but PostgreSQL's own), their columns, and pg_class's row estimates. */
export async function describeIn(admin: PgAdmin, plugin: string, request: ServiceRequest, context: ServiceContext): Promise<ServiceSchema> {
  const client = await connect(admin, plugin, request, context, 15_000);
  return bounded(client, 15_000, async () => {
    try {
      const tables = await client.query<{ schema: string; name: string; kind: string; estimate: number | null }>(`
SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
       CASE WHEN c.relkind IN ('r', 'p', 'm') AND c.reltuples >= 0 THEN c.reltuples::float8 END AS estimate
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
 ORDER BY n.nspname, c.relname`);
      const columns = await client.query<{ schema: string; table: string; name: string; type: string; nullable: boolean; key: boolean }>(`
SELECT n.nspname AS schema, c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       NOT a.attnotnull AS nullable,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)) AS key
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
 ORDER BY n.nspname, c.relname, a.attnum`);
      return {
        protocol: 'postgresql',
        tables: tables.rows.map((table) => ({
          schema: table.schema,
          name: table.name,
          kind: table.kind === 'v' ? ('view' as const) : ('table' as const),
          rowEstimate: table.estimate === null ? null : Math.round(Number(table.estimate)),
          columns: columns.rows
            .filter((column) => column.schema === table.schema && column.table === table.name)
            .map((column) => ({ name: column.name, type: column.type, nullable: column.nullable, primaryKey: column.key })),
        })),
      };
    } catch (error) {
      throw pgError(error, 'describe', 15_000);
    }
  });
}
