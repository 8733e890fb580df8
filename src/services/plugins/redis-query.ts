import { PaasmakerError } from '../../shared/errors.js';
import { BYTE_BUDGET, jsonSafe, queryFailed, queryText, queryTimedOut } from '../query.js';
import { firstError, RedisConnection, RedisReplyError, type BinaryReply, type RedisEndpoint } from '../resp.js';
import type { QueryRequest, QueryResult, ServiceSchema } from '../types.js';

/**
 * The commands a query may send: each reads, none blocks, none changes a
 * key (SORT, which may STORE, and PFCOUNT, which may rewrite its key, are
 * left out). KEYS is answered with SCAN MATCH, stopped at the row limit.
 */
export const READ_COMMANDS = new Set([
  'GET', 'MGET', 'GETRANGE', 'STRLEN', 'GETBIT', 'BITCOUNT', 'BITPOS',
  'HGET', 'HMGET', 'HGETALL', 'HKEYS', 'HVALS', 'HLEN', 'HEXISTS', 'HSTRLEN', 'HSCAN', 'HRANDFIELD',
  'LRANGE', 'LLEN', 'LINDEX', 'LPOS',
  'SMEMBERS', 'SISMEMBER', 'SMISMEMBER', 'SCARD', 'SSCAN', 'SRANDMEMBER', 'SINTER', 'SUNION', 'SDIFF', 'SINTERCARD',
  'ZRANGE', 'ZREVRANGE', 'ZRANGEBYSCORE', 'ZREVRANGEBYSCORE', 'ZRANGEBYLEX', 'ZREVRANGEBYLEX', 'ZCARD', 'ZSCORE', 'ZMSCORE', 'ZRANK', 'ZREVRANK', 'ZCOUNT', 'ZLEXCOUNT', 'ZSCAN', 'ZRANDMEMBER',
  'XRANGE', 'XREVRANGE', 'XLEN',
  'GEOPOS', 'GEODIST', 'GEOHASH',
  'SCAN', 'KEYS', 'TYPE', 'TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME', 'EXISTS', 'DBSIZE', 'RANDOMKEY', 'INFO', 'PING', 'TIME', 'LOLWUT',
]);

/** The most a SCAN is asked to look at in one call: a larger COUNT would hold the server shared with other apps. */
const SCAN_COUNT_MAX = 1000;
/** INFO's sections a query may read: none that names other apps' databases (keyspace) or the server's files (server). */
const INFO_SECTIONS = new Set(['memory', 'stats', 'clients', 'persistence', 'cpu', 'commandstats', 'errorstats']);
/** Set operations computed whole by the server: refused on sets larger than this. */
const SET_OPERATION_MAX = 10_000;

/** Commands whose array reply is pairs: what the two columns are called. */
const PAIRS: Record<string, [string, string]> = { HGETALL: ['field', 'value'], HSCAN: ['field', 'value'], ZSCAN: ['member', 'score'] };
/** The commands whose reply is [cursor, items]: a cursor other than 0 means there is more. */
const CURSORED = new Set(['SCAN', 'HSCAN', 'SSCAN', 'ZSCAN']);

/** Splits a command line as redis-cli does: blanks between arguments, "double" (with \ escapes) or 'single' quotes around one. */
export function splitCommand(text: string): string[] {
  const args: string[] = [];
  let at = 0;
  while (at < text.length) {
    while (at < text.length && /\s/.test(text[at]!)) at++;
    if (at >= text.length) break;
    let arg = '';
    while (at < text.length && !/\s/.test(text[at]!)) {
      const quote = text[at];
      if (quote === '"' || quote === "'") {
        at++;
        while (at < text.length && text[at] !== quote) {
          if (quote === '"' && text[at] === '\\' && at + 1 < text.length) {
            const next = text[++at]!;
            arg += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next;
          } else arg += text[at];
          at++;
        }
        if (at >= text.length) throw new PaasmakerError('USAGE', `unbalanced ${quote} in the command`, { hint: 'quote an argument with blanks: GET "my key"' });
        at++;
      } else arg += text[at++];
    }
    args.push(arg);
  }
  return args;
}

/** A Redis value as text when it is UTF-8, else "\x<hex>"; made JSON-safe and short. */
function cell(reply: BinaryReply): unknown {
  if (Buffer.isBuffer(reply)) {
    const text = reply.toString('utf8');
    return jsonSafe(Buffer.from(text, 'utf8').equals(reply) ? text : reply);
  }
  if (Array.isArray(reply)) return jsonSafe(reply.map(cell));
  return jsonSafe(reply);
}

/** A connection to the service's database index, authenticated, waiting at most timeoutMs for a reply. */
async function open(endpoint: RedisEndpoint, auth: string[], index: number, timeoutMs: number): Promise<RedisConnection> {
  let connection: RedisConnection;
  try {
    connection = await RedisConnection.open(endpoint, { binary: true, timeoutMs });
  } catch (error) {
    throw new PaasmakerError('SERVICE_FAILED', `could not connect to Redis: ${(error as Error).message}`, { hint: 'is the service provisioned and its server running? (paasmaker services)' });
  }
  const commands = [...(auth.length > 0 ? [['AUTH', ...auth]] : []), ['SELECT', String(index)]];
  try {
    firstError(await connection.send(commands), commands);
  } catch (error) {
    connection.close();
    throw new PaasmakerError('SERVICE_FAILED', `could not select Redis database ${index}: ${(error as Error).message}`);
  }
  return connection;
}

/** A reply as rows: pairs for HGETALL and the like, one row an item for a list, one row for a single value. */
function shape(name: string, args: string[], reply: BinaryReply): { columns: string[]; rows: unknown[][]; more: boolean } {
  if (!Array.isArray(reply)) {
    if (name === 'INFO' && Buffer.isBuffer(reply)) {
      const rows = reply
        .toString('utf8')
        .split(/\r?\n/)
        .filter((line) => line && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.indexOf(':')), jsonSafe(line.slice(line.indexOf(':') + 1))]);
      return { columns: ['field', 'value'], rows, more: false };
    }
    return { columns: ['value'], rows: [[cell(reply)]], more: false };
  }
  let items = reply;
  let more = false;
  if (CURSORED.has(name) && items.length === 2 && Array.isArray(items[1])) {
    more = String(cell(items[0]!)) !== '0';
    items = items[1];
  }
  const withScores = args.some((arg) => arg.toUpperCase() === 'WITHSCORES');
  const pairs = PAIRS[name] ?? (withScores ? (['member', 'score'] as [string, string]) : undefined);
  if (pairs) {
    const rows: unknown[][] = [];
    for (let i = 0; i + 1 < items.length; i += 2) rows.push([cell(items[i]!), cell(items[i + 1]!)]);
    return { columns: pairs, rows, more };
  }
  if (name === 'MGET' || name === 'HMGET' || name === 'SMISMEMBER' || name === 'ZMSCORE') {
    const keys = name === 'MGET' ? args.slice(1) : args.slice(2);
    return { columns: [name === 'MGET' ? 'key' : name === 'HMGET' ? 'field' : 'member', 'value'], rows: items.map((item, i) => [keys[i] ?? null, cell(item)]), more };
  }
  if (name === 'XRANGE' || name === 'XREVRANGE') return { columns: ['id', 'fields'], rows: items.map((entry) => (Array.isArray(entry) ? [cell(entry[0]!), cell(entry[1]!)] : [cell(entry), null])), more };
  return { columns: [name === 'SCAN' || name === 'KEYS' ? 'key' : 'value'], rows: items.map((item) => [cell(item)]), more };
}

/** The argument after `word` (COUNT, LIMIT), its index, case-insensitive. */
const indexOf = (args: string[], word: string): number => args.findIndex((arg, i) => i > 0 && arg.toUpperCase() === word);

/**
 * A command made to read at most limit + 1 items and BYTE_BUDGET bytes:
 * full-range reads become bounded ones (LRANGE, ZRANGE by index, SMEMBERS
 * and HGETALL through SCANs), ranges by score, lex and id get a LIMIT or a
 * COUNT, SCANs a COUNT of at most SCAN_COUNT_MAX; INFO only with sections
 * that name nothing of other apps; a string longer than the budget is read
 * as its first BYTE_BUDGET bytes. Returns the rows when it read them itself.
 */
async function bounded(connection: RedisConnection, name: string, args: string[], limit: number): Promise<{ args: string[]; shaped?: { columns: string[]; rows: unknown[][]; more: boolean } }> {
  const ask = async (command: string[]): Promise<BinaryReply> => {
    const [reply] = await connection.send([command]);
    if (reply instanceof RedisReplyError) throw queryFailed('Redis', reply.message);
    return reply!;
  };
  const key = args[1] ?? '';
  switch (name) {
    case 'INFO': {
      const sections = args.slice(1).map((arg) => arg.toLowerCase());
      const refused = sections.length === 0 ? ['(all)'] : sections.filter((section) => !INFO_SECTIONS.has(section));
      if (refused.length > 0) {
        throw new PaasmakerError('READ_ONLY', `Redis: INFO ${refused.join(' ')} is not read by a query (it names other apps' databases or the server's files); nothing was sent`, {
          hint: `name the sections: INFO ${[...INFO_SECTIONS].join(' | ')}; DBSIZE counts this database's keys`,
        });
      }
      return { args };
    }
    case 'SCAN':
    case 'HSCAN':
    case 'SSCAN':
    case 'ZSCAN': {
      const at = indexOf(args, 'COUNT');
      const bounded = [...args];
      if (at < 0) bounded.push('COUNT', '100');
      else if (!(Number(args[at + 1]) <= SCAN_COUNT_MAX)) bounded[at + 1] = String(SCAN_COUNT_MAX);
      return { args: bounded };
    }
    case 'LRANGE':
    case 'ZRANGE':
    case 'ZREVRANGE': {
      const by = args.slice(4).some((arg) => ['BYSCORE', 'BYLEX'].includes(arg.toUpperCase()));
      if (by) {
        if (indexOf(args, 'LIMIT') >= 0) return { args: clampLimit(args, limit) };
        return { args: [...args, 'LIMIT', '0', String(limit + 1)] };
      }
      const start = Number(args[2]);
      const stop = Number(args[3]);
      if (!Number.isInteger(start) || !Number.isInteger(stop)) return { args };
      const length = Number(await ask([name === 'LRANGE' ? 'LLEN' : 'ZCARD', key]));
      const from = start < 0 ? Math.max(0, length + start) : start;
      const to = Math.min(stop < 0 ? length + stop : stop, from + limit);
      return { args: [args[0]!, key, String(from), String(to), ...args.slice(4)] };
    }
    case 'ZRANGEBYSCORE':
    case 'ZREVRANGEBYSCORE':
    case 'ZRANGEBYLEX':
    case 'ZREVRANGEBYLEX':
      return { args: indexOf(args, 'LIMIT') >= 0 ? clampLimit(args, limit) : [...args, 'LIMIT', '0', String(limit + 1)] };
    case 'XRANGE':
    case 'XREVRANGE': {
      const at = indexOf(args, 'COUNT');
      if (at < 0) return { args: [...args, 'COUNT', String(limit + 1)] };
      const bounded = [...args];
      bounded[at + 1] = String(Math.min(Number(args[at + 1]) || limit + 1, limit + 1));
      return { args: bounded };
    }
    case 'SMEMBERS':
    case 'HGETALL':
    case 'HKEYS':
    case 'HVALS': {
      const scan = name === 'SMEMBERS' ? 'SSCAN' : 'HSCAN';
      const items: BinaryReply[] = [];
      let cursor = '0';
      const per = name === 'SMEMBERS' ? 1 : 2;
      do {
        const reply = (await ask([scan, key, cursor, 'COUNT', '1000'])) as [Buffer, BinaryReply[]];
        cursor = reply[0].toString();
        items.push(...reply[1]);
      } while (cursor !== '0' && items.length / per <= limit);
      const more = cursor !== '0' || items.length / per > limit;
      if (name === 'SMEMBERS') return { args, shaped: { columns: ['value'], rows: items.map((item) => [cell(item)]), more } };
      const rows: unknown[][] = [];
      for (let i = 0; i + 1 < items.length; i += 2) rows.push(name === 'HGETALL' ? [cell(items[i]!), cell(items[i + 1]!)] : [cell(items[name === 'HKEYS' ? i : i + 1]!)]);
      return { args, shaped: { columns: name === 'HGETALL' ? ['field', 'value'] : ['value'], rows, more } };
    }
    case 'SINTER':
    case 'SUNION':
    case 'SDIFF': {
      const sizes = (await connection.send(args.slice(1).map((each) => ['SCARD', each]))).map(Number);
      if (sizes.some((size) => !(size <= SET_OPERATION_MAX))) {
        throw queryFailed('Redis', `${name} of a set with more than ${SET_OPERATION_MAX} members is computed whole by the server: not run`, 'read the sets with SSCAN key 0');
      }
      return { args };
    }
    case 'GET': {
      const size = Number(await ask(['STRLEN', key]));
      if (size <= BYTE_BUDGET) return { args };
      return { args, shaped: { columns: ['value'], rows: [[cell((await ask(['GETRANGE', key, '0', String(BYTE_BUDGET - 1)])) as Buffer)]], more: true } };
    }
    default:
      return { args };
  }
}

/** LIMIT offset count with count at most limit + 1. */
function clampLimit(args: string[], limit: number): string[] {
  const at = indexOf(args, 'LIMIT');
  const bounded = [...args];
  const count = Number(args[at + 2]);
  bounded[at + 2] = String(count >= 0 && count <= limit + 1 ? count : limit + 1);
  return bounded;
}

/**
 * One read command on the service's database index: a command outside
 * READ_COMMANDS is refused before anything is sent (READ_ONLY). KEYS is a
 * SCAN MATCH that stops at limit + 1 keys, so a large database is never
 * listed whole.
 */
export async function queryRedis(endpoint: RedisEndpoint, auth: string[], index: number, query: QueryRequest): Promise<QueryResult> {
  const args = splitCommand(queryText(query));
  const name = (args[0] ?? '').toUpperCase();
  if (!READ_COMMANDS.has(name)) {
    throw new PaasmakerError('READ_ONLY', `Redis: "${name}" is not one of the read commands a query may send; nothing was sent`, {
      hint: `read commands: ${[...READ_COMMANDS].filter((command) => command !== 'LOLWUT').join(', ')}; change data with paasmaker db shell`,
    });
  }
  const started = Date.now();
  const connection = await open(endpoint, auth, index, query.timeoutMs);
  const timer = setTimeout(() => connection.close(), query.timeoutMs);
  try {
    let shaped: { columns: string[]; rows: unknown[][]; more: boolean };
    if (name === 'KEYS') {
      const keys: unknown[][] = [];
      let cursor = '0';
      do {
        const [reply] = await connection.send([['SCAN', cursor, 'MATCH', args[1] ?? '*', 'COUNT', '1000']]);
        if (reply instanceof RedisReplyError) throw queryFailed('Redis', reply.message);
        const [next, found] = reply as [Buffer, Buffer[]];
        cursor = next.toString();
        for (const key of found) keys.push([cell(key)]);
      } while (cursor !== '0' && keys.length <= query.limit);
      shaped = { columns: ['key'], rows: keys, more: cursor !== '0' };
    } else {
      const rewritten = await bounded(connection, name, args, query.limit);
      if (rewritten.shaped) shaped = rewritten.shaped;
      else {
        const [reply] = await connection.send([rewritten.args]);
        if (reply instanceof RedisReplyError) throw queryFailed('Redis', reply.message);
        shaped = shape(name, rewritten.args, reply!);
      }
    }
    return {
      columns: shaped.columns,
      rows: shaped.rows.slice(0, query.limit),
      truncated: shaped.more || shaped.rows.length > query.limit,
      elapsedMs: Date.now() - started,
    };
  } catch (error) {
    if (error instanceof PaasmakerError) throw error;
    if (Date.now() - started >= query.timeoutMs) throw queryTimedOut('Redis', query.timeoutMs);
    throw queryFailed('Redis', (error as Error).message);
  } finally {
    clearTimeout(timer);
    connection.close();
  }
}

/** How many keys describe() looks at: beyond them, the counts by type are scaled to DBSIZE. */
const DESCRIBE_KEYS = 10_000;

/** The keys of the service's index counted by type, from a SCAN of at most DESCRIBE_KEYS keys. */
export async function describeRedis(endpoint: RedisEndpoint, auth: string[], index: number): Promise<ServiceSchema> {
  const connection = await open(endpoint, auth, index, 15_000);
  try {
    const [size] = await connection.send([['DBSIZE']]);
    const counts = new Map<string, number>();
    let seen = 0;
    let cursor = '0';
    do {
      const [reply] = await connection.send([['SCAN', cursor, 'COUNT', '1000']]);
      if (reply instanceof RedisReplyError) throw queryFailed('Redis', reply.message);
      const [next, keys] = reply as [Buffer, Buffer[]];
      cursor = next.toString();
      const types = keys.length > 0 ? await connection.send(keys.map((key) => ['TYPE', key])) : [];
      for (const type of types) {
        const kind = Buffer.isBuffer(type) ? type.toString() : String(type);
        if (kind === 'none') continue; // gone meanwhile
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
        seen++;
      }
    } while (cursor !== '0' && seen < DESCRIBE_KEYS);
    const total = typeof size === 'number' ? size : seen;
    const scale = cursor === '0' || seen === 0 ? 1 : total / seen;
    return {
      protocol: 'redis',
      tables: [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, count]) => ({ name: type, kind: 'keys' as const, rowEstimate: Math.round(count * scale), columns: [] })),
    };
  } catch (error) {
    if (error instanceof PaasmakerError) throw error;
    throw queryFailed('Redis', (error as Error).message);
  } finally {
    connection.close();
  }
}
