import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { sniffDump } from '../../shared/dump-formats.js';
import { PaasmakerError } from '../../shared/errors.js';
import { memoryText as sizeText } from '../../shared/usage-text.js';
import { shellQuote } from '../../shared/shell.js';
import { INSTALL, requireBinary } from '../binaries.js';
import { diskFull, dumpInvalid, everySecond, isDiskFull, newFile, stoppedError, throwIfStopped, wrongKind } from '../dump-files.js';
import { ManagedServer, type ServerEndpoint } from '../managed-server.js';
import { forgetPassword, resourceName, servicePassword } from '../names.js';
import { firstError, RedisConnection, redisCommands, RedisReplyError, type RedisEndpoint, type Reply } from '../resp.js';
import { retry, sleep } from '../run-client.js';
import { giveToServerUser, serverUser } from '../server-user.js';
import type { Credentials, DataStep, ServiceContext, ServicePlugin, ServiceRequest } from '../types.js';
import { describeRedis, queryRedis } from './redis-query.js';

/** How to reach a Redis server as its administrator. */
interface RedisAdmin {
  host: string;
  port: number;
  /** AUTH arguments, if it needs any. */
  auth: string[];
  /** Whether ACL users can be saved (an aclfile): without one, services share the admin's credentials. */
  canSaveUsers: boolean;
}

const DATABASES = 256;

async function run(admin: RedisAdmin, commands: string[][], what: string): Promise<Reply[]> {
  const all = admin.auth.length > 0 ? [['AUTH', ...admin.auth], ...commands] : commands;
  let replies: Reply[];
  try {
    replies = await redisCommands({ host: admin.host, port: admin.port }, all);
  } catch (error) {
    throw new PaasmakerError('SERVICE_FAILED', `${what}: ${(error as Error).message}`, { hint: `is Redis running on ${admin.host}:${admin.port}?` });
  }
  if (admin.auth.length === 0) return replies;
  if (replies[0] instanceof RedisReplyError) throw new PaasmakerError('SERVICE_FAILED', `${what}: Redis refused the credentials: ${replies[0].message}`);
  return replies.slice(1);
}

/** A logical database index of its own, and an ACL user when users can be kept. Idempotent. */
async function provisionInto(admin: RedisAdmin, plugin: string, request: ServiceRequest, context: ServiceContext): Promise<Credentials> {
  const name = resourceName(request);
  const existing = context.state.services.get(request.app, request.service, request.branch);
  let index = existing && existing.plugin === plugin ? Number(existing.resource) : undefined;
  if (index === undefined) {
    const taken = new Set(context.state.services.resources(plugin).map(Number));
    index = 1; // 0 is where tools land by default: left to the administrator
    while (taken.has(index)) index++;
    if (index >= DATABASES) throw new PaasmakerError('SERVICE_FAILED', `every Redis database index on ${admin.host}:${admin.port} is taken`, { hint: 'destroy services you no longer need: paasmaker services destroy APP/SERVICE --yes' });
  }
  let username: string | undefined;
  let password: string | undefined;
  if (admin.canSaveUsers) {
    password = servicePassword(context.home, plugin, name);
    const commands = [['ACL', 'SETUSER', name, 'reset', 'on', `>${password}`, '~*', '&*', '+@all', '-@admin'], ['ACL', 'SAVE']];
    firstError(await run(admin, commands, `creating the Redis user "${name}"`), commands);
    username = name;
  } else if (admin.auth.length > 0) {
    [username, password] = admin.auth.length === 2 ? [admin.auth[0], admin.auth[1]] : ['default', admin.auth[0]];
  }
  await sweepSpares(admin, context).catch((error: Error) => context.say(`warning: could not look for spare Redis databases a restore left: ${error.message}`));
  const credentials = username && password ? `${encodeURIComponent(username)}:${encodeURIComponent(password)}@` : '';
  return {
    protocol: 'redis',
    hostname: admin.host,
    port: admin.port,
    username,
    password,
    database: String(index),
    url: `redis://${credentials}${admin.host}:${admin.port}/${index}`,
  };
}

async function destroyIn(admin: RedisAdmin, plugin: string, request: ServiceRequest, context: ServiceContext): Promise<void> {
  const name = resourceName(request);
  const existing = context.state.services.get(request.app, request.service, request.branch);
  const commands: string[][] = [];
  if (existing && existing.plugin === plugin) commands.push(['SELECT', existing.resource], ['FLUSHDB']);
  if (admin.canSaveUsers) commands.push(['ACL', 'DELUSER', name], ['ACL', 'SAVE']);
  if (commands.length > 0) firstError(await run(admin, commands, `dropping the Redis service "${name}"`), commands);
  forgetPassword(context.home, plugin, name);
}

function shell(credentials: Credentials, env: NodeJS.ProcessEnv) {
  return {
    command: requireBinary(['redis-cli'], 'paasmaker db shell', INSTALL.redisCli, env),
    args: ['-h', credentials.hostname!, '-p', String(credentials.port), '-n', credentials.database!, ...(credentials.username ? ['--user', credentials.username] : []), '--no-auth-warning'],
    env: credentials.password ? { REDISCLI_AUTH: credentials.password } : ({} as Record<string, string>),
  };
}

/**
 * A redis-server from the platform's binaries for one dump or restore: no
 * TCP (a socket in a private temporary folder), nothing written but on
 * SAVE, run as the database servers' user, and killed afterwards on every
 * path — a small shell beside it kills it when the pipe from this process
 * closes, so even a killed platform leaves none behind.
 */
class ScratchRedis {
  private log = '';
  private exited = false;
  private readonly closed: Promise<void>;

  private constructor(
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.log = (this.log + chunk.toString()).slice(-8000)));
    child.stderr!.on('data', (chunk: Buffer) => (this.log = (this.log + chunk.toString()).slice(-8000)));
    child.stdin!.on('error', () => {});
    child.on('exit', () => (this.exited = true));
    this.closed = new Promise((resolve) => child.on('close', () => resolve()));
  }

  get socket(): string {
    return join(this.dir, 'redis.sock');
  }

  /** Starts one, loading `rdb` if given: a file Redis refuses is a DUMP_INVALID error with Redis's words. */
  static async start(step: DataStep, env: NodeJS.ProcessEnv, rdb?: string): Promise<ScratchRedis> {
    const binary = requireBinary(['redis-server'], 'a dump or restore of a redis service', INSTALL.redis, env);
    const dir = mkdtempSync(join(tmpdir(), 'paasmaker-redis-'));
    let child: ChildProcess;
    try {
      if (rdb) await copyFile(rdb, join(dir, 'dump.rdb'));
      const config = [
        'port 0',
        `unixsocket ${JSON.stringify(join(dir, 'redis.sock'))}`,
        'unixsocketperm 700',
        `dir ${JSON.stringify(dir)}`,
        'dbfilename dump.rdb',
        'save ""',
        'appendonly no',
        `databases ${DATABASES}`,
        'daemonize no',
        'logfile ""',
        '',
      ].join('\n');
      writeFileSync(join(dir, 'redis.conf'), config, { mode: 0o600 });
      const user = serverUser(step.say);
      if (user) giveToServerUser(dir, user);
      // The shell keeps the pipe from this process on fd 3 for a watcher that kills the server at its end.
      const script = 'exec 3<&0\n"$0" "$1" 3<&- &\npid=$!\n{ read -r _ <&3; kill -KILL "$pid"; } >/dev/null 2>&1 &\nexec 3<&-\nwait "$pid"';
      child = spawn('/bin/sh', ['-c', script, binary, join(dir, 'redis.conf')], {
        cwd: dir,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const scratch = new ScratchRedis(dir, child);
    const kill = () => scratch.kill();
    step.signal?.addEventListener('abort', kill, { once: true });
    try {
      await scratch.ready(step, rdb);
      return scratch;
    } catch (error) {
      await scratch.stop();
      throw error;
    } finally {
      step.signal?.removeEventListener('abort', kill);
    }
  }

  /** Until it answers PING (loading an RDB, it answers LOADING). */
  private async ready(step: DataStep, rdb: string | undefined): Promise<void> {
    const limit = rdb ? 600_000 : 30_000;
    const deadline = Date.now() + limit;
    for (;;) {
      throwIfStopped(step, rdb ? `loading ${basename(rdb)}` : 'starting a Redis server for the dump');
      if (this.exited) {
        await this.closed; // its last words read
        // Redis's own words, without its log prefix (pid:role date time level) or its warnings about the machine.
        const lines = this.log
          .trim()
          .split('\n')
          .map((line) => line.replace(/^\d+:[A-Z] \d+ \w+ \d+ [\d:.]+ [.*#-] /, ''))
          .filter((line) => !/^WARNING/.test(line));
        const telling = lines.filter((line) => /error|short read|signature|rdb|checksum|eof|version/i.test(line));
        const words = (telling.length > 0 ? telling : lines).slice(-6).join('\n');
        const newer = /Can't handle RDB format version (\d+)/.exec(this.log);
        if (rdb && newer) {
          const version = /Redis version=([\d.]+)/.exec(this.log)?.[1];
          throw dumpInvalid(rdb, 'redis', `was made by a newer Redis (RDB format version ${newer[1]}) than this redis-server${version ? ` (${version})` : ''} can read`, {
            predicate: true,
            detail: words,
            hint: 'restore it where the redis-server is as new as the one that made the dump (upgrade redis-server), or dump the data again from a server of this version',
          });
        }
        if (rdb && /Short read|Wrong signature|RDB|checksum|Unexpected EOF|Bad file format|corrupt/i.test(this.log)) {
          throw dumpInvalid(rdb, 'redis', 'Redis refused to load it (cut short or damaged)', { detail: words });
        }
        throw new PaasmakerError('SERVICE_FAILED', 'a temporary Redis server for the dump stopped at its start', { detail: words });
      }
      try {
        const [reply] = await redisCommands({ path: this.socket }, [['PING']], 2000);
        if (reply === 'PONG') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new PaasmakerError('SERVICE_FAILED', `a temporary Redis server did not answer within ${limit / 1000} s`, { detail: this.log.trim().split('\n').slice(-6).join('\n') });
      await sleep(50);
    }
  }

  connect(database: number): Promise<RedisConnection> {
    return adminConnection({ path: this.socket }, [], database);
  }

  private kill(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
  }

  /** Kills it (its data is in dump.rdb if it was saved) and removes its folder. */
  async stop(): Promise<void> {
    this.kill();
    this.child.stdin!.end();
    await this.closed;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A connection for copying keys (bytes, long waits), authenticated and on one database index. */
async function adminConnection(endpoint: RedisEndpoint, auth: string[], database: number): Promise<RedisConnection> {
  const connection = await RedisConnection.open(endpoint, { binary: true, timeoutMs: 600_000 });
  const commands = [...(auth.length > 0 ? [['AUTH', ...auth]] : []), ['SELECT', String(database)]];
  try {
    firstError(await connection.send(commands), commands);
  } catch (error) {
    connection.close();
    throw error;
  }
  return connection;
}

/** The database index state records for the service. */
function serviceIndex(plugin: string, request: ServiceRequest, context: ServiceContext): number {
  const record = context.state.services.get(request.app, request.service, request.branch);
  if (!record || record.plugin !== plugin) {
    throw new PaasmakerError('SERVICE_NOT_FOUND', `no provisioned ${plugin} service ${request.app}/${request.service}${request.branch ? ` (branch ${request.branch})` : ''}`, {
      hint: 'start the app once (paasmaker up) so its services are made',
    });
  }
  return Number(record.resource);
}

/**
 * Copies every key of one database to another with its time to live: SCAN,
 * DUMP and PTTL there, RESTORE here, a batch at a time. A key that expires
 * or goes meanwhile is left out. Resolves with the number copied.
 */
async function copyKeys(from: RedisConnection, to: RedisConnection, step: DataStep, what: string, progress = { copied: 0 }): Promise<number> {
  let copied = 0;
  const quiet = everySecond(step, () => `${what}: ${copied} key(s) copied`);
  try {
    let cursor = '0';
    do {
      throwIfStopped(step, what);
      const [scan] = await from.send([['SCAN', cursor, 'COUNT', '500']]);
      if (scan instanceof RedisReplyError || !Array.isArray(scan)) throw new PaasmakerError('SERVICE_FAILED', `${what}: SCAN failed: ${String(scan)}`);
      cursor = String(scan[0]);
      const keys = scan[1] as Buffer[];
      if (keys.length === 0) continue;
      const replies = await from.send(keys.flatMap((key) => [['DUMP', key], ['PTTL', key]]));
      const restores: Buffer[][] = [];
      keys.forEach((key, i) => {
        if (key.equals(SPARE_MARKER)) return; // a restore's own, never data
        const payload = replies[2 * i];
        const ttl = replies[2 * i + 1];
        if (!(payload instanceof Buffer) || typeof ttl !== 'number' || ttl === -2 || ttl === 0) return;
        restores.push([Buffer.from('RESTORE'), key, Buffer.from(String(ttl === -1 ? 0 : ttl)), payload, Buffer.from('REPLACE')]);
      });
      const answers = await to.send(restores);
      const refused = answers.findIndex((answer) => answer instanceof RedisReplyError);
      if (refused !== -1) {
        const message = (answers[refused] as RedisReplyError).message;
        throw new PaasmakerError('SERVICE_FAILED', `${what}: Redis refused the key ${JSON.stringify(restores[refused]![1]!.toString())}: ${message}`, { hint: refusalHint(message) });
      }
      copied += restores.length;
      progress.copied = copied;
    } while (cursor !== '0');
  } finally {
    quiet();
  }
  return copied;
}

/** What to do about a key Redis refused, from what it said. */
function refusalHint(message: string): string {
  if (/^OOM\b|maxmemory/i.test(message)) return "the server is out of memory (maxmemory): a restore holds the service's old and new keys at once for a while; raise maxmemory or free memory, then restore again";
  if (/payload version|checksum|Bad data format|DUMP payload/i.test(message)) return 'the key was written by a newer Redis than this server: restore onto a server at least as new as the one the dump was made on';
  if (/NOPERM|permission/i.test(message)) return "the admin_url's user may not write every key: give it +@all on ~*";
  return 'what Redis said is above';
}

/**
 * The service's database index as an RDB file: its keys (with their TTLs)
 * are copied one by one (SCAN, DUMP, PTTL) into a temporary redis-server,
 * which saves them to database 0 of its dump.rdb. Each key is as it was when
 * it was copied: Redis cannot snapshot one database index of many, so a
 * write during the dump may be in it or not.
 */
async function dumpFrom(admin: RedisAdmin, plugin: string, request: ServiceRequest, file: string, step: DataStep, context: ServiceContext): Promise<void> {
  const index = serviceIndex(plugin, request, context);
  const what = `dumping Redis database ${index} on ${admin.host}:${admin.port}`;
  throwIfStopped(step, what);
  const out = createWriteStream(file, { fd: newFile(file) });
  const scratch = await ScratchRedis.start(step, context.env).catch((error: unknown) => {
    out.destroy();
    rmSync(file, { force: true });
    throw error;
  });
  try {
    const source = await adminConnection({ host: admin.host, port: admin.port }, admin.auth, index);
    const target = await scratch.connect(0);
    try {
      const copied = await copyKeys(source, target, step, what);
      throwIfStopped(step, what);
      firstError(await target.send([['SAVE']]), [['SAVE']]);
      step.say(`${what}: ${copied} key(s) saved`);
    } finally {
      source.close();
      target.close();
    }
    await pipeline(createReadStream(join(scratch.dir, 'dump.rdb')), out, { signal: step.signal });
  } catch (error) {
    out.destroy();
    rmSync(file, { force: true });
    if (isDiskFull(error)) throw diskFull(file, what, (error as Error).message);
    throw step.signal?.aborted ? stoppedError(step, what) : error;
  } finally {
    await scratch.stop();
  }
  step.say(`dumped Redis database ${index}: ${sizeText(statSync(file).size)} (RDB)`);
}

/**
 * The key a restore sets in the spare index it fills, claiming it: set only
 * while the index is empty (atomically, in a script), checked again at the
 * swap and before the spare is flushed, so that only an index holding this
 * restore's marker is ever swapped or emptied. Its value: this home's id and
 * the restore's process id (a marker whose process is gone is a crash's)
 * and its own random part.
 */
const SPARE_MARKER_NAME = '__paasmaker:restore-spare';
const SPARE_MARKER = Buffer.from(SPARE_MARKER_NAME);
const CLAIM = "if redis.call('DBSIZE') == 0 then redis.call('SET', KEYS[1], ARGV[1]) return 1 end return 0";
/** The marker must be ours and the spare hold no more keys than ours; then the swap, and the marker set again in the spare (now the old data). Returns the old data's key count, or an error word. */
const SWAP = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'lost' end
if redis.call('DBSIZE') > tonumber(ARGV[2]) then return 'written' end
redis.call('SELECT', ARGV[3])
local size = redis.call('DBSIZE')
redis.call('SELECT', ARGV[4])
redis.call('DEL', KEYS[1])
redis.call('SWAPDB', ARGV[3], ARGV[4])
redis.call('SET', KEYS[1], ARGV[1])
return size`;
/** Flushes the spare only while it holds our marker and no more keys than ours. */
const FLUSH = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'lost' end
if redis.call('DBSIZE') > tonumber(ARGV[2]) then return 'written' end
redis.call('FLUSHDB')
return 'flushed'`;

/** Removes the marker, if it is ours. */
const UNMARK = "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 1";

/** Removes from `spare` the keys the loaded dump holds: the keys a restore copied there, and no others. */
async function unlinkDumpKeys(scratch: ScratchRedis, database: number, admin: RedisAdmin, spare: number): Promise<void> {
  const source = await scratch.connect(database);
  const target = await adminConnection({ host: admin.host, port: admin.port }, admin.auth, spare);
  try {
    let cursor = '0';
    do {
      const [scan] = await source.send([['SCAN', cursor, 'COUNT', '500']]);
      if (!Array.isArray(scan)) return;
      cursor = String(scan[0]);
      const keys = (scan[1] as Buffer[]).filter((key) => !key.equals(SPARE_MARKER));
      if (keys.length > 0) await target.send([[Buffer.from('UNLINK'), ...keys]]);
    } while (cursor !== '0');
  } finally {
    source.close();
    target.close();
  }
}

/** The markers of this home's restores: its id (the same home, the same id), a random part per restore. */
const homeId = (context: ServiceContext) => createHash('sha256').update(context.home).digest('hex').slice(0, 12);
/** Whether a process of this machine is running (the one a marker names: another paasmaker of this home may be restoring). */
function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Markers of restores this process is running: never swept. */
const busyMarkers = new Set<string>();

async function databaseCount(admin: RedisAdmin): Promise<number> {
  const [databases] = await run(admin, [['CONFIG', 'GET', 'databases']], `asking Redis at ${admin.host}:${admin.port} how many databases it has`);
  return Array.isArray(databases) && databases[1] ? Number(databases[1]) : 16;
}

/**
 * Claims an index for a restore to fill, setting the marker in it: the
 * `restore_index` option when given (it must be empty), or else, from the top
 * down (away from where provision takes new ones), one that no service of
 * this plugin has on record, not 0, and empty. On a shared server an empty
 * index may be another tenant's that has no keys yet: `restore_index` names
 * one set aside for restores.
 */
async function claimSpare(admin: RedisAdmin, plugin: string, request: ServiceRequest, index: number, token: string, context: ServiceContext): Promise<number> {
  const claim = async (candidate: number) => {
    const replies = await run(admin, [['SELECT', String(candidate)], ['EVAL', CLAIM, '1', SPARE_MARKER_NAME, token]], `claiming Redis database ${candidate} for the restore`);
    firstError(replies, [['SELECT'], ['EVAL']]);
    return replies[1] === 1;
  };
  const taken = new Set(context.state.services.resources(plugin).map(Number));
  const count = await databaseCount(admin);
  const option = request.options.restore_index;
  if (option !== undefined) {
    const chosen = Number(option);
    if (!Number.isInteger(chosen) || chosen < 1 || chosen >= count || chosen === index || taken.has(chosen)) {
      throw new PaasmakerError('CONFIG_INVALID', `restore_index ${JSON.stringify(option)} of the service "${request.symbolic}" is not a database index a restore may use`, {
        hint: `give an index between 1 and ${count - 1} that no service uses (this service has ${index})`,
      });
    }
    if (await claim(chosen)) return chosen;
    throw new PaasmakerError('SERVICE_FAILED', `restore_index ${chosen} on Redis at ${admin.host}:${admin.port} is not empty (another restore uses it, or it holds someone's keys)`, {
      hint: `wait for the other restore to end, or empty database ${chosen} if its keys are not needed`,
    });
  }
  for (let candidate = count - 1; candidate >= 1; candidate--) {
    if (taken.has(candidate) || candidate === index) continue;
    if (await claim(candidate)) return candidate;
  }
  throw new PaasmakerError('SERVICE_FAILED', `no free, empty database index on Redis at ${admin.host}:${admin.port} to restore into`, {
    hint:
      plugin === 'redis-external'
        ? `a restore fills a spare index, then swaps it with the service's: set aside one index no one uses with restore_index (services: {${request.symbolic}: {plugin: redis-external, restore_index: N}} in config.yml), or raise "databases" in the server's configuration`
        : 'a restore fills a spare index, then swaps it with the service\'s: destroy a service you no longer need',
  });
}

/** Runs a marker script on the spare index; its reply. */
async function onSpare(admin: RedisAdmin, spare: number, script: string, token: string, args: string[], what: string): Promise<Reply> {
  const replies = await run(admin, [['SELECT', String(spare)], ['EVAL', script, '1', SPARE_MARKER_NAME, token, ...args]], what);
  firstError(replies, [['SELECT'], ['EVAL']]);
  return replies[1]!;
}

/**
 * Spare indexes a restore of this home left with its marker (a crash, a
 * kill): flushed, but not one whose restore's process still runs.
 */
async function sweepSpares(admin: RedisAdmin, context: ServiceContext): Promise<void> {
  const count = await databaseCount(admin);
  const commands = Array.from({ length: count }, (_, index) => [
    ['SELECT', String(index)],
    ['GET', SPARE_MARKER_NAME],
  ]).flat();
  const replies = await run(admin, commands, `looking for spare Redis databases a restore left`);
  const own = `${homeId(context)}:`;
  for (let index = 0; index < count; index++) {
    const marker = replies[2 * index + 1];
    if (typeof marker !== 'string' || !marker.startsWith(own) || busyMarkers.has(marker) || alive(Number(marker.split(':')[1]))) continue;
    context.say(`emptying Redis database ${index} on ${admin.host}:${admin.port}: a spare an interrupted restore left`);
    await onSpare(admin, index, FLUSH, marker, [String(Number.MAX_SAFE_INTEGER)], `emptying the spare Redis database ${index}`);
  }
}

/**
 * Replaces the service's keys with an RDB file's, all at once:
 *
 * 1. the file is loaded into a temporary redis-server, which refuses a file
 *    that is cut short or damaged (its checksum), or made by a newer Redis,
 *    before anything is touched; its keys must be in one database index
 *    (any: a dump has them in 0);
 * 2. a spare index of the service's server is claimed (claimSpare: a marker
 *    key set while it is empty) and the keys copied into it, with their TTLs;
 * 3. SWAPDB exchanges the spare and the service's index at once, only while
 *    the spare holds this restore's marker and no key it did not copy:
 *    connected clients see the new data on their next command;
 * 4. the spare, which now holds the old data (or, after a failure, a
 *    partial copy), is flushed, again only while it holds the marker and
 *    nobody else's keys. What someone else wrote into it is left alone.
 */
async function restoreInto(admin: RedisAdmin, plugin: string, request: ServiceRequest, file: string, step: DataStep, context: ServiceContext): Promise<void> {
  const index = serviceIndex(plugin, request, context);
  const what = `restoring Redis database ${index} on ${admin.host}:${admin.port}`;
  const label = basename(file);
  step.say(`checking ${label}`);
  const found = await sniffDump(file);
  if (found.format !== 'redis' || found.gzip) throw await wrongKind(file, 'redis');
  const scratch = await ScratchRedis.start(step, context.env, file);
  const token = `${homeId(context)}:${process.pid}:${randomBytes(8).toString('hex')}`;
  busyMarkers.add(token);
  try {
    const [info] = await redisCommands({ path: scratch.socket }, [['INFO', 'keyspace']]);
    const filled = [...String(info).matchAll(/^db(\d+):keys=(\d+)/gm)].filter((match) => Number(match[2]) > 0).map((match) => Number(match[1]));
    if (filled.length > 1) {
      throw dumpInvalid(file, 'redis', `holds keys in ${filled.length} database indexes (${filled.join(', ')}): a service's dump holds one`, {
        predicate: true,
        hint: 'a dump of a redis service has its keys in database 0; copy the index you want into 0 of an RDB of its own',
      });
    }
    const spare = await claimSpare(admin, plugin, request, index, token, context);
    step.say(`filling the spare Redis database ${spare}`);
    /** Keys the spare may hold when flushed: ours (and the marker); more means someone else wrote there. */
    let expected = 0;
    const progress = { copied: 0 };
    try {
      const source = await scratch.connect(filled[0] ?? 0);
      const target = await adminConnection({ host: admin.host, port: admin.port }, admin.auth, spare);
      try {
        const copied = await copyKeys(source, target, step, what, progress);
        throwIfStopped(step, what);
        const swapped = await onSpare(admin, spare, SWAP, token, [String(copied + 1), String(index), String(spare)], `swapping the restored keys into Redis database ${index}`);
        if (typeof swapped !== 'number') {
          expected = copied + 1;
          throw new PaasmakerError('SERVICE_FAILED', `${what}: ${swapped === 'lost' ? `the spare database ${spare} lost this restore's marker` : `someone else wrote keys into the spare database ${spare} during the restore`}; database ${index} is unchanged`, {
            hint:
              plugin === 'redis-external'
                ? `another app uses database ${spare} of this server: set aside one no one uses with the service's restore_index option in config.yml, then restore again`
                : 'restore again',
          });
        }
        expected = swapped + 1;
        step.say(`${what}: swapped in ${copied} key(s)`);
      } finally {
        source.close();
        target.close();
      }
    } finally {
      const limit = expected || progress.copied + 1;
      await onSpare(admin, spare, FLUSH, token, [String(limit)], `emptying the spare Redis database ${spare}`)
        .then(async (result) => {
          if (result !== 'written') return;
          // Someone else's keys are there: only ours go (the marker, and before the swap the keys the dump holds).
          if (!expected || expected === progress.copied + 1) await unlinkDumpKeys(scratch, filled[0] ?? 0, admin, spare);
          await onSpare(admin, spare, UNMARK, token, [], `removing the restore's marker from Redis database ${spare}`);
          step.say(`warning: Redis database ${spare} holds keys someone else wrote during the restore: only this restore's keys were removed from it`);
        })
        .catch((error: Error) => step.say(`warning: could not empty the spare Redis database ${spare}: ${error.message}`));
    }
  } catch (error) {
    throw step.signal?.aborted ? stoppedError(step, what) : error;
  } finally {
    busyMarkers.delete(token);
    await scratch.stop();
  }
  step.say(`restored Redis database ${index} from ${label}`);
}

/** The platform's own redis-server: AOF and RDB on, users in an ACL file. */
class RedisServer extends ManagedServer {
  readonly title = 'Redis';
  private readonly binary: string;

  constructor(context: ServiceContext) {
    super('redis', context);
    this.binary = requireBinary(['redis-server'], 'the redis service', INSTALL.redis, context.env);
  }

  get adminPassword(): string {
    return servicePassword(this.context.home, 'redis', 'admin');
  }

  protected initialised(): boolean {
    return existsSync(join(this.dir, 'users.acl'));
  }

  protected async initialise(): Promise<void> {
    mkdirSync(join(this.dir, 'data'), { recursive: true, mode: 0o700 });
    const hash = createHash('sha256').update(this.adminPassword).digest('hex');
    this.writeOwnFile(join(this.dir, 'users.acl'), `user default on #${hash} ~* &* +@all\n`);
  }

  protected configure(port: number): void {
    const config = [
      `port ${port}`,
      'bind 127.0.0.1 -::1',
      'protected-mode yes',
      'daemonize no',
      `dir ${JSON.stringify(join(this.dir, 'data'))}`,
      `aclfile ${JSON.stringify(join(this.dir, 'users.acl'))}`,
      'appendonly yes',
      'appendfsync everysec',
      'save 3600 1 300 100 60 10000',
      `databases ${DATABASES}`,
      'logfile ""',
      '',
    ].join('\n');
    this.writeOwnFile(join(this.dir, 'redis.conf'), config);
  }

  protected command(): string {
    return `${shellQuote(this.binary)} ${shellQuote(join(this.dir, 'redis.conf'))}`;
  }

  admin(endpoint: ServerEndpoint): RedisAdmin {
    return { host: '127.0.0.1', port: endpoint.port, auth: ['default', this.adminPassword], canSaveUsers: true };
  }

  protected async waitUntilReady(endpoint: ServerEndpoint): Promise<void> {
    await retry(async () => firstError(await run(this.admin(endpoint), [['PING']], 'connecting to Redis'), [['PING']]), 10_000, 20);
  }
}

export function managedRedis(context: ServiceContext): ServicePlugin {
  let server: RedisServer | undefined;
  const get = () => (server ??= new RedisServer(context));
  const admin = async () => get().admin(await get().ensure());
  return {
    name: 'redis',
    summary: "a database index and user on the platform's own Redis",
    kind: 'redis',
    provision: async (request) => provisionInto(await admin(), 'redis', request, context),
    destroy: async (request) => destroyIn(await admin(), 'redis', request, context),
    status: () => ({ ...get().status(), version: 'Redis' }),
    stop: async () => server?.stop(),
    shell: (credentials) => shell(credentials, context.env),
    dumpFormat: 'redis',
    dump: async (request, file, step) => dumpFrom(await admin(), 'redis', request, file, step, context),
    restore: async (request, file, step) => restoreInto(await admin(), 'redis', request, file, step, context),
    query: async (request, query) => {
      const server = await admin();
      return queryRedis({ host: server.host, port: server.port }, server.auth, serviceIndex('redis', request, context), query);
    },
    describe: async (request) => {
      const server = await admin();
      return describeRedis({ host: server.host, port: server.port }, server.auth, serviceIndex('redis', request, context));
    },
  };
}

/** An existing Redis: admin_url says where (redis://[user:password@]host:port). */
export function externalRedis(context: ServiceContext): ServicePlugin {
  const admin = async (request: ServiceRequest): Promise<RedisAdmin> => {
    const url = new URL(typeof request.options.admin_url === 'string' ? request.options.admin_url : 'redis://127.0.0.1:6379');
    const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    const port = Number(url.port || 6379);
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    const auth = pass ? (user ? [user, pass] : [pass]) : [];
    // Users survive a restart only where the server keeps an ACL file.
    const base: RedisAdmin = { host, port, auth, canSaveUsers: false };
    const replies = await run(base, [['CONFIG', 'GET', 'aclfile']], `asking Redis at ${host}:${port} how it keeps users`);
    const aclfile = Array.isArray(replies[0]) ? replies[0][1] : undefined;
    return { ...base, canSaveUsers: typeof aclfile === 'string' && aclfile !== '' };
  };
  return {
    name: 'redis-external',
    summary: 'a database index on an existing Redis (admin_url)',
    kind: 'redis',
    provision: async (request) => provisionInto(await admin(request), 'redis-external', request, context),
    destroy: async (request) => destroyIn(await admin(request), 'redis-external', request, context),
    shell: (credentials) => shell(credentials, context.env),
    dumpFormat: 'redis',
    dump: async (request, file, step) => dumpFrom(await admin(request), 'redis-external', request, file, step, context),
    restore: async (request, file, step) => restoreInto(await admin(request), 'redis-external', request, file, step, context),
    query: async (request, query) => {
      const server = await admin(request);
      return queryRedis({ host: server.host, port: server.port }, server.auth, serviceIndex('redis-external', request, context), query);
    },
    describe: async (request) => {
      const server = await admin(request);
      return describeRedis({ host: server.host, port: server.port }, server.auth, serviceIndex('redis-external', request, context));
    },
  };
}
