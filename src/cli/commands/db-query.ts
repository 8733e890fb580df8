import { PaasmakerError } from '../../shared/errors.js';
import { QUERY_LIMITS } from '../../shared/limits.js';
import type { QueryResult } from '../../shared/views.js';
import { defineCommand } from '../command.js';
import { cellText, readService, readTarget } from '../db-read.js';
import { table } from '../output.js';

type Options = { dir: string; json?: boolean; limit?: string; timeout?: string };

export default defineCommand<Options>({
  name: 'db query',
  description: "run one read-only query on one of the app's services: SQL in a read-only transaction (PostgreSQL, MariaDB/MySQL), SQLite opened read-only, or one Redis read command",
  arguments: [
    { name: '[service]', description: 'service name (default: the first that can be queried)' },
    { name: '[query]', description: 'one SQL statement, or one Redis read command (GET key, HGETALL key, KEYS pattern…)' },
  ],
  options: [
    { flags: '-n, --limit <rows>', description: `the most rows shown (default ${QUERY_LIMITS.rows.default}, at most ${QUERY_LIMITS.rows.max})` },
    { flags: '--timeout <ms>', description: `cancel the query after this many milliseconds (default ${QUERY_LIMITS.timeoutMs.default}, at most ${QUERY_LIMITS.timeoutMs.max})` },
    { flags: '--json', description: 'print the result as JSON: {columns, rows, truncated, elapsedMs}' },
    { flags: '-C, --dir <dir>', description: 'project folder', default: '.', completes: 'dir' },
  ],
  examples: ["paasmaker db query 'SELECT id, email FROM users ORDER BY id DESC'   the first service of the project here", "paasmaker db query cache 'HGETALL session:42' -C ../shop", "paasmaker db query db 'SELECT * FROM orders' --limit 1000 --json"],
  run: ({ args, options }) => dbQuery(args[0] as string | undefined, args[1] as string | undefined, options),
});

/** A whole number between 1 and max from an option, or a USAGE error naming it. */
function bounded(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max) throw new PaasmakerError('USAGE', `${flag} takes a whole number from 1 to ${max}, not "${value}"`);
  return number;
}

/**
 * `paasmaker db query [SERVICE] QUERY`: one read-only query through the
 * running platform's API (POST /api/v1/services/APP/SERVICE/query), else a
 * platform of this command's own; the rows as a table, or JSON.
 */
async function dbQuery(first: string | undefined, second: string | undefined, options: Options): Promise<number> {
  const [service, text] = second === undefined ? [undefined, first] : [first, second];
  if (!text?.trim()) throw new PaasmakerError('USAGE', 'db query needs the query to run', { hint: "paasmaker db query [SERVICE] 'SELECT * FROM users LIMIT 10'" });
  const limit = bounded(options.limit, '--limit', QUERY_LIMITS.rows.default, QUERY_LIMITS.rows.max);
  const timeoutMs = bounded(options.timeout, '--timeout', QUERY_LIMITS.timeoutMs.default, QUERY_LIMITS.timeoutMs.max);
  const target = await readTarget(options.dir, service);
  const result = await readService<QueryResult>(target, { method: 'POST', path: 'query', body: { query: text, limit, timeout_ms: timeoutMs } }, (platform, request) =>
    platform.services.query(request, { text, limit, timeoutMs }),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  if (result.columns.length > 0) process.stdout.write(table(result.columns, result.rows.map((row) => row.map((value) => cellText(value)))));
  const count = `${result.rows.length} row${result.rows.length === 1 ? '' : 's'}`;
  process.stdout.write(
    result.truncated
      ? `(${count} shown; more rows not shown: raise --limit, at most ${QUERY_LIMITS.rows.max}, or narrow the query)\n`
      : `(${count}, ${result.elapsedMs} ms)\n`,
  );
  return 0;
}
