import type { EventEmitter } from 'node:events';
import { chmodSync, createReadStream, mkdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { EVENT_NAMES, type Platform, type PlatformEvents } from '../engine/index.js';
import { defaultHint, ERRORS, isPaasmakerError, type ErrorCode, type PaasmakerError } from '../shared/errors.js';
import { serveConsole } from './console-assets.js';
import { openApiDocument } from './openapi.js';
import type { z } from 'zod';
import { EventsQuerySchema, NO_QUERY, queryFields } from './requests.js';
import { Access, decoyHash, ensureLocalAdmin, resolveCaller, SignInCodes, SignInLimiter, Sessions } from '../auth/index.js';
import { csrfRefusal, filterListed, permissionRefusal, viewer, type Refusal } from './guard.js';
import { FileAnswer, RawAnswer, type ApiBase, type ApiContext, type Route, type SignInDesk, type Upload } from './route.js';
import { isJson, mediaType, receiveUpload, unsupportedType } from './upload-body.js';
import { ROUTES } from './routes.js';
import { signInWithCode } from './session-routes.js';



/** What one event stream carries: one app's events or all; for a user, those of the apps they may view (and, for mail, whose services they may see). */
interface StreamEntry {
  app?: string;
  mayView?: (app: string) => boolean;
  mayViewServices?: (app: string) => boolean;
}

/** Events that carry more than an app's state: only to callers who also hold SERVICE_VIEW in its workspace. */
const SERVICE_EVENTS: ReadonlySet<string> = new Set<keyof PlatformEvents>(['mail.received']);

/** How often a user's event stream is checked against their session, token and roles. */
const STREAM_RECHECK_MS = 2000;

/** Writes to a stream unless its client has gone (a write after close would throw). */
function writeOpen(res: ServerResponse, text: string): void {
  if (!res.writableEnded && !res.destroyed) res.write(text);
}

function send(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' }).end(text);
}

/** A file answer, streamed from disk; `done` learns whether the whole file went out. */
function sendFile(res: ServerResponse, type: string, answer: FileAnswer, headers: Record<string, string>): void {
  const input = createReadStream(answer.file);
  const { size } = statSync(answer.file);
  res.writeHead(200, { ...headers, 'content-type': type, 'content-length': size, 'content-disposition': `attachment; filename="${answer.name.replace(/[^\w.-]/g, '_')}"`, 'cache-control': 'no-store' });
  input.on('error', () => res.destroy());
  // Whole once every byte of the file was handed to the answer: a client that has its Content-Length
  // closes at once, which can come before the read stream's end (and so before end() and 'finish').
  let read = 0;
  input.on('data', (chunk) => (read += chunk.length));
  res.on('close', () => {
    input.destroy();
    answer.done?.(res.writableFinished || read === size);
  });
  input.pipe(res);
}

/** An error answer: the code's HTTP status from the shared table, with its default hint when none is given. */
function sendError(res: ServerResponse, code: ErrorCode, error: string, extra: { hint?: string; detail?: string; headers?: Record<string, string> } = {}): void {
  const hint = extra.hint ?? defaultHint(code);
  send(res, ERRORS[code].status, { error, code, ...(hint ? { hint } : {}), ...(extra.detail ? { detail: extra.detail } : {}) }, extra.headers);
}

/**
 * A refused upload, answered before its body is read: the rest of the body is
 * read and dropped (closing at once could lose the answer on the client's
 * side); a client stops sending when the answer comes.
 */
function refuseUpload(res: ServerResponse, error: PaasmakerError): void {
  sendError(res, error.code, error.message, { hint: error.hint });
}

/** An upload's route's checks of what is known before its body (the app, the query): a refusal is answered, the body read and dropped. */
async function checkBeforeBody(req: IncomingMessage, route: Route, context: ApiContext, params: Record<string, string>, query: unknown): Promise<void> {
  try {
    await route.upload!.check?.(context, params, query);
  } catch (error) {
    req.resume();
    throw error;
  }
}

function sendRefusal(res: ServerResponse, refusal: Refusal): void {
  sendError(res, refusal.code, refusal.message, { hint: refusal.hint });
}

/** The route's path parameters, still percent-encoded, or undefined when the path is another route's. */
function match(route: Route, path: string): Record<string, string> | undefined {
  const want = route.path.split('/');
  const have = path.split('/');
  if (want.length !== have.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i]!.startsWith(':')) params[want[i]!.slice(1)] = have[i]!;
    else if (want[i] !== have[i]) return undefined;
  }
  return params;
}

/** A piece of the request, quoted in an answer or a log line: JSON-escaped and cut short. */
function quoted(text: string | undefined): string {
  const value = text ?? '';
  return JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value);
}

/** A request the API refuses before any handler runs: 400 with a code and a hint. */
class BadRequest extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

function decodeParams(params: Record<string, string>): Record<string, string> {
  const decoded: Record<string, string> = {};
  for (const [name, raw] of Object.entries(params)) {
    try {
      decoded[name] = decodeURIComponent(raw);
    } catch {
      throw new BadRequest(`the path parameter ${name} (${quoted(raw)}) is not valid percent-encoding`, 'encode each path segment as UTF-8 with encodeURIComponent');
    }
  }
  return decoded;
}

/** The query as an object of strings (the last of repeated names), checked against the route's schema. */
function parseQuery(schema: z.ZodType, params: URLSearchParams): Record<string, unknown> {
  const parsed = schema.safeParse(Object.fromEntries(params));
  if (parsed.success) return parsed.data as Record<string, unknown>;
  const issue = parsed.error.issues[0]!;
  const name = issue.path.join('.');
  const allowed = Object.keys(queryFields(schema));
  const hint = allowed.length > 0 ? `this endpoint takes ${allowed.map((field) => `?${field}=`).join(', ')}` : 'this endpoint takes no query parameters';
  throw new BadRequest(name ? `the query parameter ${name}${params.has(name) ? ` (${quoted(params.get(name)!)})` : ''}: ${issue.message}` : `the query: ${issue.message}`, hint);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 1024 * 1024) throw new Error('body too large');
  }
  return text.trim() === '' ? {} : JSON.parse(text);
}

/** The path of a GET for the web console (anything outside /api/ and /signin), or undefined; a target that is not a plain path goes to the API, which explains. */
function consolePath(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const target = req.url ?? '/';
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  const path = target.split('?')[0]!;
  return path.startsWith('/api/') || path === '/signin' || path.includes('%') ? undefined : path;
}

/** The console's own names (routed to the API by the router); an app's names are not among them. */
const CONSOLE_HOSTS = ['paasmaker.localhost', 'paasmaker.local.paasmaker'];

/**
 * Local browsers must not reach the API: a page on another origin (or a DNS
 * rebinding of one) carries a foreign Origin or Host. Requests from tools
 * (curl, the CLI) carry no Origin and a loopback Host.
 */
function foreign(req: IncomingMessage): string | undefined {
  const host = (req.headers.host ?? 'localhost').toLowerCase().replace(/:\d+$/, '');
  if (!['localhost', '127.0.0.1', '[::1]', 'paasmaker', ...CONSOLE_HOSTS].includes(host)) return `Host "${req.headers.host}" is not this machine`;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    try {
      const url = new URL(origin);
      if (!['localhost', '127.0.0.1', '[::1]', ...CONSOLE_HOSTS].includes(url.hostname) || url.host !== req.headers.host) return `Origin "${origin}" is not allowed`;
    } catch {
      return `Origin "${origin}" is not allowed`;
    }
  }
  return undefined;
}

/**
 * The platform's API (/api/v1): JSON, validated with the zod schemas the
 * OpenAPI document is made from, and Server-Sent Events of everything the
 * engine reports. On a Unix socket only the owner can open (the platform's
 * administrator), and optionally on 127.0.0.1 for users, by API token or
 * session cookie; every route's permission is checked before its handler.
 */
/**
 * Serves one request of /mcp as the bearer's user (src/mcp/http.ts, given by
 * the daemon: the MCP server is a client of this API, not a part of it).
 */
export type McpHandler = (req: IncomingMessage, res: ServerResponse, options: { port: number; token: string; user: string; readOnly: boolean }) => Promise<void>;

export class ApiServer {
  private readonly servers: Server[] = [];
  private readonly streams = new Map<ServerResponse, StreamEntry>();
  private nextEventId = 1;
  private readonly unsubscribe: Array<() => void> = [];
  private readonly signIn: SignInDesk = { sessions: new Sessions(), codes: new SignInCodes(), limiter: new SignInLimiter() };

  constructor(
    private readonly context: ApiBase,
    private readonly options: { log?: (line: string) => void; mcp?: McpHandler } = {},
  ) {
    for (const event of EVENT_NAMES) this.relay(context.platform, event);
    try {
      ensureLocalAdmin(context.platform.state);
    } catch (error) {
      this.log(`could not record the local administrator: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Every event of this name goes to the streams that follow it. */
  private relay<E extends keyof PlatformEvents>(platform: Platform, event: E): void {
    const listener = (...payload: PlatformEvents[E]) => this.broadcast(event, payload[0]);
    // Node's typed emitter cannot match a listener to a generic event name; as a plain emitter it takes any name.
    const emitter: EventEmitter = platform;
    emitter.on(event, listener);
    this.unsubscribe.push(() => emitter.off(event, listener));
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

  /** 127.0.0.1, for users (API token or session); resolves with the port. */
  async listenTcp(port: number): Promise<number> {
    // Password sign-ins come over TCP only: the decoy hash that gives an unknown user's sign-in the same cost is made now, not at the first try.
    void decoyHash();
    const server = this.make(true);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve());
    });
    this.servers.push(server);
    return (server.address() as { port: number }).port;
  }

  private make(tcp: boolean): Server {
    const server = createServer((req, res) => {
      this.handle(req, res, tcp).catch((error: unknown) => this.failed(req, res, error));
    });
    server.keepAliveTimeout = 5000;
    // An accept that fails (EMFILE: out of descriptors) must not stop the platform: say it, keep serving.
    // Malformed HTTP gets Node's own 400 and a close (its clientError default).
    server.on('error', (error: NodeJS.ErrnoException) => this.log(`API server error: ${error.code ?? ''} ${error.message}`));
    return server;
  }

  /** Where the API says what went wrong on its side: the daemon's log, the terminal of a foreground up. */
  private log(line: string): void {
    (this.options.log ?? ((text: string) => process.stderr.write(`${text}\n`)))(line);
  }

  /** A handler's bug: logged with its stack, answered 500, and the platform runs on. */
  private failed(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    this.log(`API ${req.method} ${quoted(req.url)}: internal error\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (!res.headersSent && !res.destroyed) sendError(res, 'INTERNAL', `internal error: ${error instanceof Error ? error.message : String(error)}`);
    else res.destroy();
  }

  private async handle(req: IncomingMessage, res: ServerResponse, tcp: boolean): Promise<void> {
    // A response the client no longer reads (it went away) must not throw.
    res.on('error', () => undefined);
    const refused = foreign(req);
    if (refused) return sendError(res, 'FORBIDDEN', refused);
    // The MCP server's streamable HTTP transport, for users by API token (the socket's owner runs paasmaker mcp).
    if (tcp && this.options.mcp && /^\/mcp(\?|$)/.test(req.url ?? '')) return this.mcp(req, res, this.options.mcp);
    // The web console's page and files: public (no secret in them), served before any user is asked for.
    const path = consolePath(req);
    if (path !== undefined) return serveConsole(req, res, path);
    try {
      await this.dispatch(req, res, tcp);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      if (!res.headersSent) sendError(res, 'INVALID_REQUEST', error.message, { hint: error.hint });
    }
  }

  /**
   * /mcp: the Model Context Protocol over streamable HTTP, acting as the
   * user of the bearer token (a session cookie does not count: a page could
   * make a browser send it), whose tools call /api/v1 with that token;
   * ?read_only=true offers the read tools only.
   */
  private async mcp(req: IncomingMessage, res: ServerResponse, serveMcp: McpHandler): Promise<void> {
    const authorization = req.headers.authorization;
    const hint = 'send an API token: Authorization: Bearer pm_… (paasmaker token create --user NAME makes one)';
    const challenge = { 'www-authenticate': 'Bearer realm="paasmaker"' };
    if (!authorization) return sendError(res, 'UNAUTHORIZED', 'the MCP endpoint needs an API token', { hint, headers: challenge });
    const resolved = resolveCaller({ transport: 'tcp', authorization }, this.context.platform.state, this.signIn.sessions);
    if ('refused' in resolved) return sendError(res, 'UNAUTHORIZED', resolved.refused, { hint, headers: challenge });
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)![1]!;
    const user = resolved.caller.kind === 'user' ? resolved.caller.user : 'owner';
    const readOnly = new URL(req.url ?? '/mcp', 'http://localhost').searchParams.get('read_only') === 'true';
    await serveMcp(req, res, { port: req.socket.localPort!, token, user, readOnly });
  }

  /** The context of one request: who asks (undefined: no valid credentials, with why). */
  private contextFor(req: IncomingMessage, tcp: boolean): { context: ApiContext; refused?: string } {
    const resolved = resolveCaller({ transport: tcp ? 'tcp' : 'socket', authorization: req.headers.authorization, cookie: req.headers.cookie }, this.context.platform.state, this.signIn.sessions);
    const base = { ...this.context, signIn: this.signIn, client: req.socket.remoteAddress ?? 'local', headers: {} };
    if ('refused' in resolved) {
      // Not signed in: only the routes open to anyone (signing in) run, with no permission at all.
      const access = Access.nothing();
      return { context: { ...base, caller: { kind: 'user', user: '', via: 'session' }, access, mayView: () => false }, refused: resolved.refused };
    }
    const context: ApiContext = { ...base, caller: resolved.caller, access: resolved.access, session: resolved.session, mayView: () => true };
    context.mayView = viewer(context);
    return { context };
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, tcp: boolean): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw new BadRequest(`${quoted(req.url)} is not a valid request target`, 'ask for a path such as /api/v1/status');
    }
    if (req.method === 'GET' && url.pathname === '/signin') {
      const answer = signInWithCode(url.searchParams.get('code'), this.signIn, (name) => this.context.platform.state.users.get(name)?.disabledAt === null);
      res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) }).end(answer.body);
      return;
    }
    const route = ROUTES.find((candidate) => candidate.method === req.method && match(candidate, url.pathname));
    const { context, refused } = this.contextFor(req, tcp);
    if (refused && route?.permission !== 'anyone') return sendError(res, 'UNAUTHORIZED', refused);
    if (req.method === 'GET' && url.pathname === '/api/v1/openapi.json') return send(res, 200, openApiDocument());
    if (req.method === 'GET' && url.pathname === '/api/v1/events') return this.stream(req, res, parseQuery(EventsQuerySchema, url.searchParams) as z.infer<typeof EventsQuerySchema>, context);
    if (!route) {
      const known = ROUTES.some((candidate) => match(candidate, url.pathname));
      return known ? sendError(res, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here`) : sendError(res, 'NOT_FOUND', `no such endpoint: ${url.pathname}`);
    }
    // Signing in (open to anyone) changes no one's state but the browser's own: no CSRF value yet to send.
    const csrf = route.permission === 'anyone' ? undefined : csrfRefusal(req.method!, req.headers['x-csrf-token'], context);
    if (csrf) return sendRefusal(res, csrf);
    const params = decodeParams(match(route, url.pathname)!);
    const denied = permissionRefusal(route, params, context);
    if (denied) return sendRefusal(res, denied);
    // A route that takes a file as its body gets one for a Content-Type it lists; JSON is read as for every other route.
    const type = mediaType(req.headers['content-type']);
    const uploading = route.upload !== undefined && !isJson(type);
    if (uploading && !route.upload!.types.includes(type)) return refuseUpload(res, unsupportedType(type, route.upload!));
    const query = parseQuery((uploading ? route.upload!.query : route.query) ?? NO_QUERY, url.searchParams);
    if (uploading) return this.receive(req, res, route, context, params, query);
    let body: unknown = {};
    try {
      if (route.request) {
        body = await readBody(req);
        const parsed = route.request.safeParse(body);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          return sendError(res, 'INVALID_REQUEST', `${issue.path.join('.') || 'body'}: ${issue.message}`);
        }
        body = parsed.data;
      }
    } catch (error) {
      return sendError(res, 'INVALID_REQUEST', `the body is not JSON: ${(error as Error).message}`);
    }
    await this.answer(res, route, context, () => route.handle(context, params, body, query));
  }

  /** Runs a handler and answers with its result, or with the PaasmakerError it threw; `settled` runs between the two. */
  private async answer(res: ServerResponse, route: Route, context: ApiContext, handle: () => unknown, settled: () => void = () => undefined): Promise<void> {
    let result: unknown;
    try {
      result = await handle();
    } catch (error) {
      settled();
      if (!isPaasmakerError(error)) throw error;
      return sendError(res, error.code, error.message, { hint: error.hint, detail: error.detail, headers: context.headers });
    }
    settled();
    if (result instanceof FileAnswer && route.produces) return sendFile(res, route.produces.type, result, context.headers);
    if (result instanceof RawAnswer) {
      res.writeHead(200, { ...context.headers, ...result.headers, 'content-type': result.type, 'content-length': Buffer.byteLength(result.body), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).end(result.body);
      return;
    }
    send(res, 200, filterListed(route, context, result), context.headers);
  }

  /** A file body: streamed to PAASMAKER_HOME/tmp, handed to the handler, removed before the answer goes. */
  private async receive(req: IncomingMessage, res: ServerResponse, route: Route, context: ApiContext, params: Record<string, string>, query: unknown): Promise<void> {
    let upload: Upload;
    try {
      await checkBeforeBody(req, route, context, params, query);
      upload = await receiveUpload(req, route.upload!, join(this.context.platform.layout.root, 'tmp'));
    } catch (error) {
      if (!isPaasmakerError(error)) throw error;
      return refuseUpload(res, error);
    }
    await this.answer(res, route, context, () => route.handle(context, params, {}, query, upload), () => rmSync(upload.file, { force: true }));
  }

  /**
   * Server-Sent Events: every engine event, in order, as `event: <name>` with
   * a JSON `data:` line; ?app= keeps one app's. With &attach=1 the stream
   * holds the app: when it closes (a foreground `up` ended, even by SIGKILL)
   * the app stops, while the platform's other apps run on.
   */
  private stream(req: IncomingMessage, res: ServerResponse, query: z.infer<typeof EventsQuerySchema>, context: ApiContext): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': paasmaker events\n\n');
    const app = query.app;
    // A user's stream carries the events of the apps they may view, nothing else.
    const entry: StreamEntry = { app, mayView: context.caller.kind === 'owner' ? undefined : context.mayView, mayViewServices: context.caller.kind === 'owner' ? undefined : viewer(context, 'SERVICE_VIEW') };
    this.streams.set(res, entry);
    const ping = setInterval(() => writeOpen(res, ': ping\n\n'), 15_000);
    // A user's right to the stream is asked again every few seconds: a session signed out, a token
    // revoked or a user removed ends it; a role given or taken changes what it carries.
    const recheck =
      context.caller.kind === 'owner'
        ? undefined
        : setInterval(() => {
            const again = this.contextFor(req, true);
            if (!again.refused) {
              entry.mayView = again.context.mayView;
              entry.mayViewServices = viewer(again.context, 'SERVICE_VIEW');
              return;
            }
            clearInterval(recheck);
            this.streams.delete(res);
            res.end();
          }, STREAM_RECHECK_MS);
    req.once('close', () => {
      clearInterval(ping);
      if (recheck) clearInterval(recheck);
      this.streams.delete(res);
      if (app && query.attach === '1' && context.access.can('APPLICATION_DEPLOY', context.platform.state.workspaces.appWorkspace(app))) {
        this.context.detached?.(app).catch((error: unknown) => this.log(`could not stop ${app} after its terminal went away: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`));
      }
    });
  }

  private broadcast(event: string, payload: unknown): void {
    if (this.streams.size === 0) return;
    const id = this.nextEventId++;
    const frame = (data: unknown) => `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    const whole = frame(payload);
    const { app, samples } = payload as { app?: string | null; samples?: Array<{ app: string }> };
    // A warning of the platform itself (app null) concerns every app's stream, as GET /api/v1/warnings?app= lists it.
    const platformWide = app === null && event === 'platform.warning';
    for (const [res, { app: only, mayView, mayViewServices }] of this.streams) {
      if (!(only === undefined || app === only || (app === undefined && event === 'traffic.tick') || platformWide)) continue;
      if (SERVICE_EVENTS.has(event) && mayViewServices && !(typeof app === 'string' && mayViewServices(app))) continue;
      if (!mayView || platformWide) writeOpen(res, whole);
      else if (typeof app === 'string') {
        if (mayView(app)) writeOpen(res, whole);
      } else if (samples) {
        const visible = samples.filter((sample) => mayView(sample.app));
        writeOpen(res, visible.length === samples.length ? whole : frame({ ...(payload as object), samples: visible }));
      }
    }
  }

  async close(): Promise<void> {
    for (const off of this.unsubscribe) off();
    for (const res of this.streams.keys()) if (!res.writableEnded) res.end();
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

