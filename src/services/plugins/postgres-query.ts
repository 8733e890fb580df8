import pg from 'pg';
import Cursor from 'pg-cursor';
import { PaasmakerError } from '../../shared/errors.js';
import { resourceName, servicePassword } from '../names.js';
import { jsonSafe, ONE_STATEMENT, queryFailed, queryText, queryTimedOut, readOnlyError } from '../query.js';
import type { QueryRequest, QueryResult, ServiceContext, ServiceRequest, ServiceSchema } from '../types.js';
import type { PgAdmin } from './postgres-admin.js';

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

/**
 * A connection to the service's own database as its own role (the
 * credentials provision gave it), every transaction read-only from the
 * start (default_transaction_read_only, so that not even a COMMIT leaves
 * one that may write).
 */
async function connect(admin: PgAdmin, plugin: string, request: ServiceRequest, context: ServiceContext, timeoutMs: number): Promise<pg.Client> {
  const name = resourceName(request);
  const client = new pg.Client({
    host: admin.host,
    port: admin.port,
    user: name,
    password: servicePassword(context.home, plugin, name),
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
    throw new PaasmakerError('SERVICE_FAILED', `could not connect to PostgreSQL database "${name}" on ${admin.host}:${admin.port}: ${(error as Error).message}`, {
      hint: 'is the service provisioned and its server running? (paasmaker services)',
    });
  }
  return client;
}

/** A PostgreSQL error as Paasmaker's: a write refused → READ_ONLY; several statements, a timeout, anything else → QUERY_FAILED with PostgreSQL's words. */
function pgError(error: unknown, text: string, timeoutMs: number): Error {
  const failure = error as { code?: string; message?: string; position?: string; hint?: string };
  if (error instanceof PaasmakerError) return error;
  if (failure.code === READ_ONLY_STATE) return readOnlyError('PostgreSQL', text, failure.message ?? 'a write in a read-only transaction');
  if (failure.code === CANCELED) return queryTimedOut('PostgreSQL', timeoutMs);
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
      const cursor = client.query(new ReadCursor(text, [], { rowMode: 'array', types: TEXT_TYPES }));
      const { rows, fields } = await new Promise<{ rows: unknown[][]; fields: Array<{ name: string }> }>((resolve, reject) =>
        cursor.read(query.limit + 1, (error, rows, result) => (error ? reject(error) : resolve({ rows: rows as unknown as unknown[][], fields: result?.fields ?? [] }))),
      );
      await cursor.close().catch(() => {});
      await client.query('ROLLBACK').catch(() => {});
      if (cursor.copied > 0) throw queryFailed('PostgreSQL', 'COPY … TO STDOUT sends its rows as a copy stream, which a query does not read', 'read the rows with SELECT (db dump writes the whole database)');
      return {
        columns: fields.map((field) => field.name),
        rows: rows.slice(0, query.limit).map((row) => row.map(jsonSafe)),
        truncated: rows.length > query.limit,
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
