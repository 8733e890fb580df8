import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../src/services/binaries.js';
import { externalRedis, managedRedis } from '../../src/services/plugins/redis.js';
import { firstError, RedisConnection, redisCommands, type BinaryReply } from '../../src/services/resp.js';
import { createHash } from 'node:crypto';
import type { Credentials, ServicePlugin } from '../../src/services/types.js';
import { PaasmakerError } from '../../src/shared/errors.js';
import { processesUnder } from '../helpers/processes.js';
import { dataStep, provisionService, refusal, serviceContext, serviceRequest } from '../helpers/service-context.js';

// Real servers: the platform's own Redis (redis) and the system's on 6379 (redis-external).
const missing = ['redis-server', 'redis-cli'].filter((binary) => !findBinary([binary]));
const skip = missing.length > 0 && process.env.CI !== 'true';
if (skip) console.warn(`skipping Redis dump tests: install ${missing.join(', ')} (apt install redis-server)`);

let sandbox: ReturnType<typeof serviceContext>;
let managed: ServicePlugin;
let external: ServicePlugin;
const app = `dr${process.pid}`;
const ownRequest = serviceRequest(app, 'cache', 'redis');
const sharedRequest = serviceRequest(app, 'shared', 'redis-shared', { admin_url: 'redis://127.0.0.1:6379' });
let own: Credentials;
let shared: Credentials;
const SYSTEM = { host: '127.0.0.1', port: 6379 };

/** The temporary servers of dumps and restores (in this file's own TMPDIR, see beforeAll): none may outlive one. */
const scratchServers = () => processesUnder(join(tmpdir(), 'paasmaker-redis-'));
const scratchFolders = () => readdirSync(tmpdir()).filter((name) => name.startsWith('paasmaker-redis-'));
const systemTmp = process.env.TMPDIR;

beforeAll(async () => {
  if (skip) return;
  sandbox = serviceContext();
  // Each test file runs in a process of its own: the temporary servers of this one's dumps go under its home.
  process.env.TMPDIR = join(sandbox.context.home, 'tmp');
  mkdirSync(process.env.TMPDIR, { recursive: true, mode: 0o700 });
  managed = sandbox.use(managedRedis(sandbox.context));
  external = sandbox.use(externalRedis(sandbox.context));
  own = await provisionService(sandbox.context, managed, ownRequest);
  // On the system's Redis, an empty index of this test's own (services.spec's provisions take the lowest).
  let index = 9 + (process.pid % 4);
  while (index < 15 && (await redisCommands(SYSTEM, [['SELECT', String(index)], ['DBSIZE']]))[1] !== 0) index++;
  sandbox.context.state.services.put({ app, service: 'shared', branch: '', plugin: 'redis-external', symbolic: 'redis-shared', resource: String(index) });
  shared = await provisionService(sandbox.context, external, sharedRequest);
}, 60_000);

afterAll(async () => {
  if (skip) return;
  await external.destroy(sharedRequest, sandbox.context).catch(() => {});
  await sandbox.close();
  if (systemTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = systemTmp;
}, 60_000);

afterEach(() => {
  if (skip) return;
  expect(scratchServers()).toEqual([]);
  expect(scratchFolders()).toEqual([]);
});

/** Commands as the app: its own credentials, on its own database index. */
async function asApp(credentials: Credentials, commands: Array<Array<string | Buffer>>): Promise<BinaryReply[]> {
  const connection = await RedisConnection.open({ host: credentials.hostname!, port: credentials.port! }, { binary: true });
  try {
    const login = [...(credentials.password ? [['AUTH', credentials.username ?? 'default', credentials.password]] : []), ['SELECT', credentials.database!]];
    const replies = await connection.send([...login, ...commands]);
    return replies.slice(login.length);
  } finally {
    connection.close();
  }
}

const BINARY_KEY = Buffer.from([0x00, 0xff, 0x41, 0x0d, 0x0a]);
const BINARY_VALUE = Buffer.from([0xde, 0xad, 0x00, 0xbe, 0xef]);

async function seed(credentials: Credentials): Promise<void> {
  await asApp(credentials, [
    ['FLUSHDB'],
    ['SET', 'greeting', 'hello'],
    ['HSET', 'user:1', 'name', 'ada', 'lang', 'en'],
    ['RPUSH', 'queue', 'a', 'b', 'c'],
    ['SADD', 'tags', 'x', 'y'],
    ['ZADD', 'scores', '1', 'one', '2', 'two'],
    ['SET', 'session', 'short-lived', 'PX', '600000'],
    ['SET', BINARY_KEY, BINARY_VALUE],
  ]);
}

/** Everything seed() wrote, as text. */
async function read(credentials: Credentials) {
  const [keys, greeting, user, queue, tags, scores, ttl, binary] = await asApp(credentials, [
    ['DBSIZE'],
    ['GET', 'greeting'],
    ['HGETALL', 'user:1'],
    ['LRANGE', 'queue', '0', '-1'],
    ['SMEMBERS', 'tags'],
    ['ZRANGE', 'scores', '0', '-1', 'WITHSCORES'],
    ['PTTL', 'session'],
    ['GET', BINARY_KEY],
  ]);
  const text = (reply: BinaryReply) => (Array.isArray(reply) ? reply.map(String) : String(reply));
  return { keys, greeting: text(greeting!), user: text(user!), queue: text(queue!), tags: (text(tags!) as string[]).sort(), scores: text(scores!), ttl: ttl as number, binary };
}

function expectOriginal(data: Awaited<ReturnType<typeof read>>): void {
  expect(data).toMatchObject({ keys: 7, greeting: 'hello', user: ['name', 'ada', 'lang', 'en'], queue: ['a', 'b', 'c'], tags: ['x', 'y'], scores: ['one', '1', 'two', '2'] });
  expect(data.ttl).toBeGreaterThan(0);
  expect(data.ttl).toBeLessThanOrEqual(600_000);
  expect(data.binary).toEqual(BINARY_VALUE);
}

async function change(credentials: Credentials): Promise<void> {
  await asApp(credentials, [['DEL', 'queue', 'tags'], ['SET', 'greeting', 'changed'], ['SET', 'newer', 'key'], ['PERSIST', 'session']]);
}

describe.skipIf(skip)('redis dump and restore', () => {
  it('dumps the managed service to a 0600 RDB file and restores it over changed data, TTLs and binary keys included; clients see it at once', async () => {
    await seed(own);
    const file = join(sandbox.context.home, 'cache.rdb');
    const dumping = dataStep();
    await managed.dump!(ownRequest, file, dumping);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file).subarray(0, 5).toString()).toBe('REDIS');
    expect(dumping.lines.join('\n')).toMatch(/7 key\(s\) saved/);

    await change(own);
    // A client connected before the restore, on the service's index, as an app's would be.
    const client = await RedisConnection.open({ host: own.hostname!, port: own.port! });
    await client.send([['AUTH', own.username!, own.password!], ['SELECT', own.database!]]);
    expect(await client.send([['GET', 'greeting']])).toEqual(['changed']);

    const restoring = dataStep();
    await managed.restore!(ownRequest, file, restoring);
    expectOriginal(await read(own));
    expect(await client.send([['GET', 'greeting'], ['EXISTS', 'newer']])).toEqual(['hello', 0]);
    client.close();
    expect(restoring.lines.join('\n')).toMatch(/swapped in 7 key\(s\)/);
    // The app's credentials still write; the spare index was emptied: only the service's index holds keys.
    expect(await asApp(own, [['SET', 'after', 'restore'], ['DEL', 'after']])).toEqual(['OK', 1]);
    const adminPassword = readFileSync(join(sandbox.context.home, 'secrets', 'redis', 'admin'), 'utf8').trim();
    const [, info] = await redisCommands({ host: '127.0.0.1', port: own.port! }, [['AUTH', 'default', adminPassword], ['INFO', 'keyspace']]);
    expect(String(info).match(/^db\d+/gm)).toEqual([`db${own.database}`]);
  }, 120_000);

  it('restores a dump of the managed server into redis-external, and that one\'s dump back into the managed server', async () => {
    await seed(own);
    const file = join(sandbox.context.home, 'across.rdb');
    await managed.dump!(ownRequest, file, dataStep());
    await asApp(shared, [['SET', 'only-here', 'x']]);
    await external.restore!(sharedRequest, file, dataStep());
    expectOriginal(await read(shared));

    const back = join(sandbox.context.home, 'back.rdb');
    await external.dump!(sharedRequest, back, dataStep());
    await change(own);
    await managed.restore!(ownRequest, back, dataStep());
    expectOriginal(await read(own));
  }, 120_000);

  it('refuses a cut-short RDB and a file of another kind with a clear error, and changes nothing', async () => {
    await seed(shared);
    const file = join(sandbox.context.home, 'whole.rdb');
    await external.dump!(sharedRequest, file, dataStep());
    await change(shared);
    const before = await read(shared);

    const cut = join(sandbox.context.home, 'cut.rdb');
    const whole = readFileSync(file);
    writeFileSync(cut, whole.subarray(0, whole.length - 12));
    const truncated = await refusal(external.restore!(sharedRequest, cut, dataStep()));
    expect(truncated.code).toBe('DUMP_INVALID');
    expect(truncated.message).toMatch(/cut\.rdb is not a whole dump: Redis refused to load it/);
    expect(truncated.detail).toMatch(/Short read|Unexpected EOF/);

    const gzip = join(sandbox.context.home, 'mysql.sql.gz');
    writeFileSync(gzip, gzipSync('-- MariaDB dump 10.19\n'));
    const foreign = await refusal(external.restore!(sharedRequest, gzip, dataStep()));
    expect(foreign.code).toBe('DUMP_INVALID');
    expect(foreign.message).toMatch(/mysql\.sql\.gz is not a Redis dump: it is a MySQL dump/);
    expect(foreign.hint).toMatch(/Redis dump/);

    const after = await read(shared);
    expect({ ...after, ttl: after.ttl > 0 }).toEqual({ ...before, ttl: before.ttl > 0 });
  }, 120_000);

  it('refuses an RDB whose keys are in more than one database index', async () => {
    const file = join(sandbox.context.home, 'two.rdb');
    await seed(own);
    await managed.dump!(ownRequest, file, dataStep());
    // Made by hand: the dump's keys in 0 and a copy of one in 3, saved by a server of its own.
    const { spawnSync } = await import('node:child_process');
    const dir = join(sandbox.context.home, 'two');
    const made = spawnSync('sh', ['-c', `mkdir -p "$1" && cp "$2" "$1/dump.rdb" && redis-server --port 0 --unixsocket "$1/s.sock" --dir "$1" --save '' --daemonize no & sleep 0.5; redis-cli -s "$1/s.sock" select 0 >/dev/null; redis-cli -s "$1/s.sock" copy greeting greeting db 3 && redis-cli -s "$1/s.sock" save && redis-cli -s "$1/s.sock" shutdown nosave`, 'sh', dir, file], { encoding: 'utf8' });
    expect(made.stdout).toContain('OK');
    const several = await refusal(managed.restore!(ownRequest, join(dir, 'dump.rdb'), dataStep()));
    expect(several.code).toBe('DUMP_INVALID');
    expect(several.message).toMatch(/holds keys in 2 database indexes \(0, 3\)/);
    expectOriginal(await read(own));
  }, 120_000);

  it('stops a dump and a restore when the job is aborted: no file, no server left', async () => {
    await seed(own);
    const file = join(sandbox.context.home, 'aborted.rdb');
    const dumping = new AbortController();
    setTimeout(() => dumping.abort(new PaasmakerError('SERVICE_FAILED', 'aborted by the user')), 10);
    expect((await refusal(managed.dump!(ownRequest, file, { say: () => {}, signal: dumping.signal }))).message).toBe('aborted by the user');
    expect(() => statSync(file)).toThrow();

    const whole = join(sandbox.context.home, 'to-abort.rdb');
    await managed.dump!(ownRequest, whole, dataStep());
    await change(own);
    const restoring = new AbortController();
    const stopped = await refusal(
      managed.restore!(ownRequest, whole, {
        say: (line) => {
          if (line.startsWith('checking')) setTimeout(() => restoring.abort(new PaasmakerError('SERVICE_FAILED', 'aborted by the user')), 10);
        },
        signal: restoring.signal,
      }),
    );
    expect(stopped.message).toBe('aborted by the user');
    expect((await read(own)).greeting).toBe('changed');
  }, 120_000);
  /** An empty index of the system's Redis that this file's services do not use. */
  async function emptyIndex(...not: number[]): Promise<number> {
    for (let index = 14; index >= 2; index--) {
      if (index === Number(shared.database) || not.includes(index)) continue;
      if ((await redisCommands(SYSTEM, [['SELECT', String(index)], ['DBSIZE']]))[1] === 0) return index;
    }
    throw new Error('no empty index on the system Redis');
  }
  const onIndex = (index: number, commands: string[][]) => redisCommands(SYSTEM, [['SELECT', String(index)], ...commands]).then((replies) => replies.slice(1));

  it('says a dump made by a newer Redis is one, naming the version of this redis-server', async () => {
    const file = join(sandbox.context.home, 'newer.rdb');
    writeFileSync(file, Buffer.concat([Buffer.from('REDIS0012'), Buffer.alloc(64, 0xfe)]));
    const newer = await refusal(managed.restore!(ownRequest, file, dataStep()));
    expect(newer.code).toBe('DUMP_INVALID');
    expect(newer.message).toMatch(/^newer\.rdb was made by a newer Redis \(RDB format version 12\) than this redis-server \(\d+\.\d+\.\d+\) can read$/);
    expect(newer.hint).toMatch(/upgrade redis-server/);
  }, 60_000);

  it('restores through the restore_index option, and refuses it when it holds keys, leaving them and the service alone', async () => {
    await seed(shared);
    const file = join(sandbox.context.home, 'through-option.rdb');
    await external.dump!(sharedRequest, file, dataStep());
    await change(shared);
    const spare = await emptyIndex();
    const viaOption = { ...sharedRequest, options: { ...sharedRequest.options, restore_index: spare } };
    const restoring = dataStep();
    await external.restore!(viaOption, file, restoring);
    expect(restoring.lines).toContain(`filling the spare Redis database ${spare}`);
    expectOriginal(await read(shared));
    expect(await onIndex(spare, [['DBSIZE']])).toEqual([0]);

    // Someone's key in it: refused, their key kept, the service unchanged.
    await change(shared);
    const before = await read(shared);
    await onIndex(spare, [['SET', 'tenant', 'theirs']]);
    try {
      const taken = await refusal(external.restore!(viaOption, file, dataStep()));
      expect(taken.message).toMatch(new RegExp(`restore_index ${spare} .* is not empty`));
      expect(await onIndex(spare, [['DBSIZE'], ['GET', 'tenant']])).toEqual([1, 'theirs']);
      const after = await read(shared);
      expect({ ...after, ttl: after.ttl > 0 }).toEqual({ ...before, ttl: before.ttl > 0 });
    } finally {
      await onIndex(spare, [['DEL', 'tenant']]);
    }
  }, 120_000);

  it('does not swap in a spare someone else wrote into during the copy: their keys stay, only the restore\'s go', async () => {
    // Enough keys that the copy takes a while (it says how far it got every second).
    const connection = await RedisConnection.open({ host: SYSTEM.host, port: SYSTEM.port });
    try {
      const batches = Array.from({ length: 200 }, (_, batch) => ['MSET', ...Array.from({ length: 1000 }, (_, i) => [`k:${batch}:${i}`, `v${i}`]).flat()]);
      await connection.send([['SELECT', shared.database!], ['FLUSHDB'], ...batches]);
    } finally {
      connection.close();
    }
    const file = join(sandbox.context.home, 'many.rdb');
    await external.dump!(sharedRequest, file, dataStep());
    await asApp(shared, [['SET', 'k:0:0', 'changed']]);
    const spare = await emptyIndex();
    const viaOption = { ...sharedRequest, options: { ...sharedRequest.options, restore_index: spare } };
    let wrote: Promise<unknown> | undefined;
    try {
      const failed = await refusal(
        external.restore!(viaOption, file, {
          say: (line) => {
            if (!wrote && /key\(s\) copied/.test(line)) wrote = onIndex(spare, [['SET', 'tenant', 'theirs']]);
          },
        }),
      );
      expect(wrote).toBeDefined();
      expect(failed.message).toMatch(new RegExp(`someone else wrote keys into the spare database ${spare} during the restore; database ${shared.database} is unchanged`));
      expect(failed.hint).toMatch(/restore_index/);
      expect(await onIndex(spare, [['DBSIZE'], ['GET', 'tenant']])).toEqual([1, 'theirs']);
      expect(await asApp(shared, [['GET', 'k:0:0'], ['DBSIZE']])).toEqual([Buffer.from('changed'), 200_000]);
    } finally {
      await onIndex(spare, [['DEL', 'tenant']]);
      await asApp(shared, [['FLUSHDB']]);
    }
  }, 180_000);

  it('empties at provision a spare an interrupted restore of this home left, and no other', async () => {
    const own = await emptyIndex();
    const other = await emptyIndex(own);
    const id = createHash('sha256').update(sandbox.context.home).digest('hex').slice(0, 12);
    await onIndex(own, [['SET', '__paasmaker:restore-spare', `${id}:999999999:0123456789abcdef`], ['SET', 'partial', 'copy']]);
    await onIndex(other, [['SET', '__paasmaker:restore-spare', 'another-home:999999999:0123456789abcdef'], ['SET', 'theirs', 'copy']]);
    try {
      await external.provision(sharedRequest, sandbox.context);
      expect(await onIndex(own, [['DBSIZE']])).toEqual([0]);
      expect(await onIndex(other, [['DBSIZE']])).toEqual([2]);
    } finally {
      await onIndex(own, [['FLUSHDB']]);
      await onIndex(other, [['DEL', '__paasmaker:restore-spare', 'theirs']]);
    }
  }, 60_000);

  it('never puts a password in an error about a command that carries one', async () => {
    const commands = [['AUTH', 'nobody', 'not-this-password']];
    const replies = await redisCommands(SYSTEM, commands);
    expect(() => firstError(replies, commands)).toThrow(/^AUTH: /);
    expect(() => firstError(replies, commands)).not.toThrow(/not-this-password|nobody/);
  });
});
