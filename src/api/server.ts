import { timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import type { PlatformEvents } from '../engine/index.js';
import { isPaasmakerError } from '../shared/errors.js';
import { openApiDocument } from './openapi.js';
import { ROUTES, type ApiContext, type Route } from './routes.js';

const EVENTS: Array<keyof PlatformEvents> = ['instance.state', 'log.line', 'traffic.tick', 'job.update'];

/** HTTP status for each error code a user can act on. */
const STATUS: Record<string, number> = { APP_NOT_FOUND: 404, INSTANCE_NOT_FOUND: 404, SERVICE_NOT_FOUND: 404, APP_RUNNING: 409, USAGE: 400, MANIFEST_INVALID: 422, MANIFEST_NOT_FOUND: 422, CONFIG_INVALID: 422 };

function send(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' }).end(text);
}

function match(route: Route, path: string): Record<string, string> | undefined {
  const want = route.path.split('/');
  const have = path.split('/');
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i]!.startsWith(':')) params[want[i]!.slice(1)] = decodeURIComponent(have[i]!);
    else if (want[i] !== have[i]) return undefined;
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 1024 * 1024) throw new Error('body too large');
  }
  return text.trim() === '' ? {} : JSON.parse(text);
}

/**
 * Local browsers must not reach the API: a page on another origin (or a DNS
 * rebinding of one) carries a foreign Origin or Host. Requests from tools
 * (curl, the CLI) carry no Origin and a loopback Host.
 */
function foreign(req: IncomingMessage): string | undefined {
  const host = (req.headers.host ?? 'localhost').toLowerCase().replace(/:\d+$/, '');
  if (!['localhost', '127.0.0.1', '[::1]', 'paasmaker'].includes(host)) return `Host "${req.headers.host}" is not this machine`;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    try {
      const url = new URL(origin);
      if (!['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.host !== req.headers.host) return `Origin "${origin}" is not allowed`;
    } catch {
      return `Origin "${origin}" is not allowed`;
    }
  }
  return undefined;
}

/**
 * The platform's API (/api/v1): JSON, validated with the zod schemas the
 * OpenAPI document is made from, and Server-Sent Events of everything the
 * engine reports. On a Unix socket only the owner can open, and optionally
 * on 127.0.0.1 behind a bearer token.
 */
export class ApiServer {
  private readonly servers: Server[] = [];
  private readonly streams = new Map<ServerResponse, string | undefined>();
  private nextEventId = 1;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly context: ApiContext,
    private readonly options: { token?: string } = {},
  ) {
    for (const event of EVENTS) {
      const listener = (payload: unknown) => this.broadcast(event, payload);
      context.platform.on(event, listener as never);
      this.unsubscribe.push(() => context.platform.off(event, listener as never));
    }
  }

  async listenSocket(path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    rmSync(path, { force: true });
    const server = this.make(false);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
    this.servers.push(server);
  }

  /** 127.0.0.1 with a bearer token; resolves with the port. */
  async listenTcp(port: number): Promise<number> {
    const server = this.make(true);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve());
    });
    this.servers.push(server);
    return (server.address() as { port: number }).port;
  }

  private make(tcp: boolean): Server {
    const server = createServer((req, res) => void this.handle(req, res, tcp));
    server.keepAliveTimeout = 5000;
    return server;
  }

  private authorised(req: IncomingMessage): boolean {
    const token = this.options.token;
    if (!token) return false;
    const given = Buffer.from(String(req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
    const expected = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async handle(req: IncomingMessage, res: ServerResponse, tcp: boolean): Promise<void> {
    const refused = foreign(req);
    if (refused) return send(res, 403, { error: refused, code: 'FORBIDDEN' });
    if (tcp && !this.authorised(req)) return send(res, 401, { error: 'a bearer token is needed', code: 'UNAUTHORIZED', hint: 'it is in $PAASMAKER_HOME/api-token' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/api/v1/openapi.json') return send(res, 200, openApiDocument());
    if (req.method === 'GET' && url.pathname === '/api/v1/events') return this.stream(req, res, url.searchParams);
    const route = ROUTES.find((candidate) => candidate.method === req.method && match(candidate, url.pathname));
    if (!route) {
      const known = ROUTES.some((candidate) => match(candidate, url.pathname));
      return send(res, known ? 405 : 404, { error: known ? `${req.method} is not allowed here` : `no such endpoint: ${url.pathname}`, code: known ? 'METHOD_NOT_ALLOWED' : 'NOT_FOUND', hint: 'GET /api/v1/openapi.json lists the API' });
    }
    let body: unknown = {};
    try {
      if (route.request) {
        body = await readBody(req);
        const parsed = route.request.safeParse(body);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          return send(res, 400, { error: `${issue.path.join('.') || 'body'}: ${issue.message}`, code: 'INVALID_REQUEST' });
        }
        body = parsed.data;
      }
    } catch (error) {
      return send(res, 400, { error: `the body is not JSON: ${(error as Error).message}`, code: 'INVALID_REQUEST' });
    }
    try {
      const result = await route.handle(this.context, match(route, url.pathname)!, body, url.searchParams);
      send(res, 200, result);
    } catch (error) {
      if (isPaasmakerError(error)) send(res, STATUS[error.code] ?? 400, { error: error.message, code: error.code, ...(error.hint ? { hint: error.hint } : {}), ...(error.detail ? { detail: error.detail } : {}) });
      else send(res, 500, { error: String(error), code: 'INTERNAL' });
    }
  }

  /**
   * Server-Sent Events: every engine event, in order, as `event: <name>` with
   * a JSON `data:` line; ?app= keeps one app's. With &attach=1 the stream
   * holds the app: when it closes (a foreground `up` ended, even by SIGKILL)
   * the app stops, while the platform's other apps run on.
   */
  private stream(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': paasmaker events\n\n');
    const app = query.get('app') ?? undefined;
    this.streams.set(res, app);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.once('close', () => {
      clearInterval(ping);
      this.streams.delete(res);
      if (app && query.get('attach') === '1') void this.context.detached?.(app);
    });
  }

  private broadcast(event: string, payload: unknown): void {
    if (this.streams.size === 0) return;
    const frame = `id: ${this.nextEventId++}\nevent: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
    const app = (payload as { app?: string; samples?: Array<{ app: string }> }).app;
    for (const [res, only] of this.streams) {
      if (only === undefined || app === only || (app === undefined && event === 'traffic.tick')) res.write(frame);
    }
  }

  async close(): Promise<void> {
    for (const off of this.unsubscribe) off();
    for (const res of this.streams.keys()) res.end();
    await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }
}

