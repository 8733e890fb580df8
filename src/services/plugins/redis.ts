import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PaasmakerError } from '../../shared/errors.js';
import { memoryText as sizeText } from '../../shared/usage-text.js';
import { shellQuote } from '../../shared/shell.js';
import { INSTALL, requireBinary } from '../binaries.js';
import { everySecond, fileKind, stoppedError, throwIfStopped } from '../dump-files.js';
import { ManagedServer, type ServerEndpoint } from '../managed-server.js';
import { forgetPassword, resourceName, servicePassword } from '../names.js';
import { firstError, RedisConnection, redisCommands, RedisReplyError, type RedisEndpoint, type Reply } from '../resp.js';
import { retry, sleep } from '../run-client.js';
import { giveToServerUser, serverUser } from '../server-user.js';
import type { Credentials, DataStep, ServiceContext, ServicePlugin, ServiceRequest } from '../types.js';

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
      throwIfStopped(step, rdb ? `loading ${rdb}` : 'starting a Redis server for the dump');
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
        if (rdb && /Short read|Wrong signature|RDB|checksum|Unexpected EOF|Bad file format|corrupt/i.test(this.log)) {
          throw new PaasmakerError('DUMP_INVALID', `${rdb} is not a whole Redis RDB file: Redis refused to load it`, { detail: words, hint: 'use a whole copy of a dump of a redis or redis-external service' });
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
async function copyKeys(from: RedisConnection, to: RedisConnection, step: DataStep, what: string): Promise<number> {
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
        const payload = replies[2 * i];
        const ttl = replies[2 * i + 1];
        if (!(payload instanceof Buffer) || typeof ttl !== 'number' || ttl === -2 || ttl === 0) return;
        restores.push([Buffer.from('RESTORE'), key, Buffer.from(String(ttl === -1 ? 0 : ttl)), payload, Buffer.from('REPLACE')]);
      });
      const answers = await to.send(restores);
      const refused = answers.findIndex((answer) => answer instanceof RedisReplyError);
      if (refused !== -1) {
        throw new PaasmakerError('SERVICE_FAILED', `${what}: Redis refused the key ${JSON.stringify(restores[refused]![1]!.toString())}: ${(answers[refused] as RedisReplyError).message}`, {
          hint: 'a dump made by a newer Redis cannot be loaded by an older one',
        });
      }
      copied += restores.length;
    } while (cursor !== '0');
  } finally {
    quiet();
  }
  return copied;
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
  rmSync(file, { force: true });
  const scratch = await ScratchRedis.start(step, context.env);
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
    await pipeline(createReadStream(join(scratch.dir, 'dump.rdb')), createWriteStream(file, { flags: 'wx', mode: 0o600 }), { signal: step.signal });
  } catch (error) {
    rmSync(file, { force: true });
    throw step.signal?.aborted ? stoppedError(step, what) : error;
  } finally {
    await scratch.stop();
  }
  step.say(`dumped Redis database ${index}: ${sizeText(statSync(file).size)} (RDB)`);
}

/** Spare database indexes being filled by a restore of this process. */
const spares = new Set<string>();

/**
 * An index for a restore to fill: none a service of this plugin has on
 * record, nor 0, and empty. From the top down, away from where provision
 * takes new ones.
 */
async function spareIndex(admin: RedisAdmin, plugin: string, context: ServiceContext): Promise<number> {
  const [databases] = await run(admin, [['CONFIG', 'GET', 'databases']], `asking Redis at ${admin.host}:${admin.port} how many databases it has`);
  const count = Array.isArray(databases) && databases[1] ? Number(databases[1]) : 16;
  const taken = new Set(context.state.services.resources(plugin).map(Number));
  for (let index = count - 1; index >= 1; index--) {
    const key = `${admin.host}:${admin.port}/${index}`;
    if (taken.has(index) || spares.has(key)) continue;
    const [size] = await run(admin, [['SELECT', String(index)], ['DBSIZE']], `looking for a free Redis database index`).then((replies) => replies.slice(1));
    if (size === 0 && !spares.has(key)) {
      spares.add(key);
      return index;
    }
  }
  throw new PaasmakerError('SERVICE_FAILED', `no free, empty database index on Redis at ${admin.host}:${admin.port} to restore into`, {
    hint: 'a restore fills a spare index, then swaps it with the service\'s: destroy a service you no longer need, or raise "databases" in the server\'s configuration',
  });
}

/**
 * Replaces the service's keys with an RDB file's, all at once:
 *
 * 1. the file is loaded into a temporary redis-server, which refuses a file
 *    that is cut short or damaged (its checksum) before anything is touched;
 *    its keys must be in one database index (any: a dump has them in 0);
 * 2. they are copied, with their TTLs, into a spare index of the service's
 *    server: one no service has, and empty;
 * 3. SWAPDB exchanges the spare and the service's index at once: connected
 *    clients see the new data on their next command;
 * 4. the spare, which now holds the old data (or, after a failure, a
 *    partial copy), is flushed.
 */
async function restoreInto(admin: RedisAdmin, plugin: string, request: ServiceRequest, file: string, step: DataStep, context: ServiceContext): Promise<void> {
  const index = serviceIndex(plugin, request, context);
  const what = `restoring Redis database ${index} on ${admin.host}:${admin.port}`;
  step.say(`checking ${file}`);
  const kind = fileKind(file);
  if (kind !== 'a Redis RDB file') {
    throw new PaasmakerError('DUMP_INVALID', `${file} is not a Redis RDB file: it is ${kind}`, { hint: 'give a file made by a dump of a redis or redis-external service' });
  }
  const scratch = await ScratchRedis.start(step, context.env, file);
  try {
    const [info] = await redisCommands({ path: scratch.socket }, [['INFO', 'keyspace']]);
    const filled = [...String(info).matchAll(/^db(\d+):keys=(\d+)/gm)].filter((match) => Number(match[2]) > 0).map((match) => Number(match[1]));
    if (filled.length > 1) {
      throw new PaasmakerError('DUMP_INVALID', `${file} holds keys in ${filled.length} database indexes (${filled.join(', ')}): a service's dump holds one`, {
        hint: 'a dump of a redis service has its keys in database 0; copy the index you want into 0 of an RDB of its own',
      });
    }
    const spare = await spareIndex(admin, plugin, context);
    const spareKey = `${admin.host}:${admin.port}/${spare}`;
    try {
      const source = await scratch.connect(filled[0] ?? 0);
      const target = await adminConnection({ host: admin.host, port: admin.port }, admin.auth, spare);
      try {
        const copied = await copyKeys(source, target, step, what);
        throwIfStopped(step, what);
        firstError(await target.send([['SWAPDB', String(index), String(spare)]]), [['SWAPDB']]);
        step.say(`${what}: swapped in ${copied} key(s)`);
      } finally {
        source.close();
        target.close();
      }
    } finally {
      const flush = [['SELECT', String(spare)], ['FLUSHDB']];
      await run(admin, flush, `emptying the spare Redis database ${spare}`)
        .then((replies) => firstError(replies, flush))
        .catch((error: Error) => step.say(`could not empty the spare Redis database ${spare}: ${error.message}`));
      spares.delete(spareKey);
    }
  } catch (error) {
    throw step.signal?.aborted ? stoppedError(step, what) : error;
  } finally {
    await scratch.stop();
  }
  step.say(`restored Redis database ${index} from ${file}`);
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
  };
}
