import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PaasmakerError } from '../../shared/errors.js';
import { shellQuote } from '../../shared/shell.js';
import { INSTALL, requireBinary } from '../binaries.js';
import { ManagedServer, type ServerEndpoint } from '../managed-server.js';
import { forgetPassword, resourceName, servicePassword } from '../names.js';
import { firstError, redisCommands, RedisReplyError, type Reply } from '../resp.js';
import { retry } from '../run-client.js';
import type { Credentials, ServiceContext, ServicePlugin, ServiceRequest } from '../types.js';

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
  };
}
