import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ClientConnection, type ConnectionDeadlines, type Dispatcher, type Exchange } from './client-connection.js';
import { ConnectionLimit, maxClientConnections, type Sheddable } from './connection-limit.js';
import { H2Session } from './h2-session.js';
import { badGatewayPage, notFoundPage, unavailableHeadline, unavailablePage, type PageRequest } from './pages.js';
import { RequestLog, REQUEST_LOG_SIZE } from './request-log.js';
import { readyUpstreams, RoutingTable, worthWaiting, type RouteTarget, type Upstream } from './routing-table.js';
import { serveStatic } from './static-files.js';
import { TlsListener, type RouterTls } from './tls-listener.js';
import { TrafficCounters } from './traffic.js';
import { UpstreamPool, type UpstreamLink, type UpstreamOwner } from './upstream-pool.js';

export interface RouterOptions {
  /** 0 picks a free port. */
  port: number;
  /** Addresses to listen on; default loopback only, both families. */
  hosts?: string[];
  /** How long a request waits for a starting instance. Default 30 s. */
  holdTimeoutMs?: number;
  /** Open client connections at most; at the cap the longest idle is closed first. Default: derived from the open-files limit. */
  maxConnections?: number;
  /** From a request head's first byte to its end; 408 after it. Default 10 s. */
  headTimeoutMs?: number;
  /** How long a kept-alive client connection may sit idle. Default 30 s. */
  idleTimeoutMs?: number;
  /** Where the router reports what it survived (a bug, a failed accept). Default: standard error. */
  log?: (line: string) => void;
  /** Requests the request inspector keeps per app; 0 turns it off. Default 300. */
  requestLog?: number;
  /** Also listen with TLS, on the same addresses: https://NAME for the names the router routes. */
  tls?: RouterTls;
}

export const HEAD_TIMEOUT_MS = 10_000;
export const IDLE_TIMEOUT_MS = 30_000;

/** Failures that mean the request never reached the app (or it died before answering). */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', undefined]);

interface Held {
  resume: () => void;
  /** Looks the request's name up again and goes on there (or fails when nothing routes it now). */
  reroute: () => void;
  /** timedOut: the hold timeout passed; else the target failed while the request waited. */
  fail: (timedOut: boolean) => void;
}

/** 30, 0.3: seconds as a person reads them. */
const secondsText = (ms: number) => String(ms >= 10_000 ? Math.round(ms / 1000) : Math.round(ms / 100) / 10);

/**
 * The local router: one listener (and one with TLS beside it), hostname → app,
 * requests held while an app starts, an error page that says why when it
 * cannot answer, traffic counted.
 *
 * It frames HTTP/1.1 itself (see ClientConnection): request and response
 * bytes pass through untouched apart from their heads, which keeps the cost
 * per request a fraction of two full HTTP stacks. HTTP/2 from TLS clients
 * (H2Session) is Node's; each stream becomes the same Exchange, routed the
 * same way, and goes to the app over the same pooled HTTP/1.1 connections.
 */
export class Router implements Dispatcher {
  readonly table = new RoutingTable();
  readonly traffic = new TrafficCounters();
  /** The request inspector: each app's last requests, in memory (undefined when turned off). */
  readonly requests: RequestLog | undefined;
  private readonly servers: Server[] = [];
  private readonly pool = new UpstreamPool();
  private readonly outstanding = new Map<string, number>();
  private readonly held = new Map<RouteTarget, Set<Held>>();
  private readonly sockets = new Set<Socket>();
  /** Open HTTP/2 connections, told GOAWAY when the router closes. */
  private readonly sessions = new Set<H2Session>();
  private readonly tunnels = new Map<number, number>();
  /** Static instances are answered by this in-process server, reached like any app. */
  private staticServer: HttpServer | undefined;
  private staticPort = 0;
  private boundPort = 0;
  private boundTlsPort: number | undefined;
  private turn = 0;
  /** Open client connections, capped so the platform keeps descriptors for its own work. */
  readonly connections: ConnectionLimit<Sheddable>;
  private readonly deadlines: ConnectionDeadlines;
  private readonly log: (line: string) => void;
  /** When an accept last failed (EMFILE), so a storm of them is one line a second. */
  private lastAcceptError = 0;

  constructor(private readonly options: RouterOptions) {
    this.table.on('change', (target) => this.release(target));
    this.connections = new ConnectionLimit(options.maxConnections ?? maxClientConnections());
    this.deadlines = { headMs: options.headTimeoutMs ?? HEAD_TIMEOUT_MS, idleMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS };
    this.log = options.log ?? ((line) => process.stderr.write(`${new Date().toISOString()} router: ${line}\n`));
    const kept = options.requestLog ?? REQUEST_LOG_SIZE;
    this.requests = kept > 0 ? new RequestLog(kept) : undefined;
  }

  get port(): number {
    return this.boundPort;
  }

  /** The TLS listener's port; undefined when the router has none. */
  get tlsPort(): number | undefined {
    return this.boundTlsPort;
  }

  async listen(): Promise<void> {
    await this.startStaticServer();
    try {
      this.boundPort = await this.listenAll(this.options.port, () => createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket)));
    } catch (error) {
      await this.close();
      throw error;
    }
    const tls = this.options.tls;
    if (!tls) return;
    try {
      const listener = new TlsListener(tls, { table: this.table, handshakeMs: this.deadlines.headMs, accept: (socket) => this.acceptSecure(socket), track: (socket) => this.track(socket), log: this.log });
      this.boundTlsPort = await this.listenAll(tls.port, () => listener.server());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (tls.optional && code === 'EADDRINUSE') {
        this.log(`the TLS port ${tls.port} is taken: no https:// this run (choose another with --tls-port N or PAASMAKER_TLS_PORT)`);
        return;
      }
      await this.close();
      throw error;
    }
  }

  /** Listens on every address with servers made by `make`; the port they got (the one asked for, or the first free one for 0). */
  private async listenAll(port: number, make: () => Server): Promise<number> {
    const hosts = this.options.hosts ?? ['127.0.0.1', '::1'];
    const made: Server[] = [];
    for (const host of hosts) {
      const server = make();
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port, host, exclusive: true }, () => {
            server.off('error', reject);
            // Out of descriptors (EMFILE on accept) and the like: the listener stays, the platform lives.
            server.on('error', (error) => this.acceptFailed(error));
            resolve();
          });
        });
      } catch (error) {
        // ::1 may not exist (IPv6 off): loopback IPv4 is enough.
        if (host === '::1' && ['EADDRNOTAVAIL', 'EAFNOSUPPORT'].includes((error as NodeJS.ErrnoException).code ?? '')) continue;
        await Promise.all(made.map((done) => new Promise<void>((resolve) => done.close(() => resolve()))));
        throw error;
      }
      const address = server.address();
      if (typeof address === 'object' && address) port = address.port;
      made.push(server);
    }
    this.servers.push(...made);
    return port;
  }

  async close(): Promise<void> {
    for (const waiters of this.held.values()) for (const waiter of waiters) waiter.fail(false);
    if (this.sessions.size > 0) {
      for (const session of this.sessions) session.goAway();
      // One turn of the loop for the GOAWAY frames to be written before the sockets go.
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const socket of this.sockets) socket.destroy();
    this.pool.destroy();
    const servers = [...this.servers];
    this.servers.length = 0;
    if (this.staticServer) {
      this.staticServer.closeAllConnections();
      servers.push(this.staticServer);
      this.staticServer = undefined;
    }
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  /** A TLS connection whose handshake is done: HTTP/2 if ALPN chose it, else HTTP/1.1 as on a plain one. */
  private acceptSecure(socket: TLSSocket): void {
    if (socket.alpnProtocol !== 'h2') {
      this.accept(socket);
      return;
    }
    if (!this.connections.admit()) {
      socket.destroy();
      return;
    }
    this.track(socket);
    try {
      this.sessions.add(new H2Session(socket, this, this.connections, this.deadlines, (session) => this.sessions.delete(session)));
    } catch (error) {
      this.bug(error);
      socket.destroy();
    }
  }

  /** Where every client connection starts, plain or TLS. */
  private accept(socket: Socket): void {
    if (!this.connections.admit()) {
      // At the cap with every connection busy: turned away, never queued.
      socket.destroy();
      return;
    }
    this.track(socket);
    new ClientConnection(socket, this, this.connections, this.deadlines);
  }

  private acceptFailed(error: NodeJS.ErrnoException): void {
    const now = Date.now();
    if (now - this.lastAcceptError < 1000) return;
    this.lastAcceptError = now;
    this.log(`could not accept a connection: ${error.code ?? error.message} (${this.connections.size} client connections open, cap ${this.connections.max})`);
  }

  bug(error: unknown): void {
    this.log(`bug, the request was answered 500 or closed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private async startStaticServer(): Promise<void> {
    const server = createHttpServer({ keepAliveTimeout: 10_000 }, (req, res) => {
      const failed = (error: unknown) => {
        this.bug(error);
        if (res.headersSent) res.destroy();
        else res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('500 the static file server failed\n');
      };
      try {
        const target = this.table.lookup(req.headers.host);
        if (!target?.static) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 10 }).end('Not Found\n');
          return;
        }
        serveStatic(target.static.root, req, res).catch(failed);
      } catch (error) {
        failed(error);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        server.on('error', (error) => this.acceptFailed(error));
        resolve();
      });
    });
    this.staticServer = server;
    this.staticPort = (server.address() as { port: number }).port;
  }

  /** Requests an upstream is answering now (a reload waits for 0 before stopping the old process). */
  inFlight(key: string): number {
    return this.outstanding.get(key) ?? 0;
  }

  /**
   * A port whose process is about to stop: its idle kept-alive connections
   * close now, and the ones still carrying a request close when it is
   * answered, so that none is left open to the process when it is told to stop.
   */
  forgetPort(port: number): void {
    this.pool.retirePort(port);
  }

  // ---- Dispatcher: what client connections ask ----

  route(exchange: Exchange): void {
    const connection = exchange.connection;
    const failure = exchange.failure;
    if (failure) {
      exchange.failure = undefined;
      const target = exchange.target!;
      const failed = target.upstreams.find((upstream) => upstream.key === exchange.upstreamKey);
      this.settle(exchange);
      const code = failure.error?.code;
      if (failure.detail === undefined && failure.nothingBack && exchange.attempt === 0 && exchange.retryable && CONNECT_ERRORS.has(code)) {
        // Nothing reached the app (or it died first): try another process, or wait for this one to come back.
        if (code === 'ECONNREFUSED' && failed) this.suspend(target, failed);
        exchange.attempt = 1;
        this.dispatch(exchange, target, failed);
        return;
      }
      const where = target.static ? 'the static file server' : `127.0.0.1:${failed?.port ?? '?'}`;
      exchange.detail = failure.detail ?? `${code ?? 'connection closed'} from ${where}`;
      connection.answer(badGatewayPage(this.pageRequest(exchange), target, exchange.detail));
      return;
    }
    const target = this.table.lookup(exchange.head.host);
    if (!target) {
      const secure = connection.secure && this.boundTlsPort !== undefined;
      connection.answer(notFoundPage(this.pageRequest(exchange), this.table.list(), secure ? this.boundTlsPort! : this.boundPort, secure ? 'https' : 'http'));
      return;
    }
    exchange.target = target;
    if (target.static) {
      this.start(exchange, `${target.app}/${target.instance}:static`);
      connection.forward(this.staticPort);
      return;
    }
    this.dispatch(exchange, target);
  }

  finished(exchange: Exchange): void {
    this.settle(exchange);
    const target = exchange.target;
    // The console's own requests are the platform's, not an app's traffic or requests.
    if (!target || target.internal) return;
    const duration = performance.now() - exchange.started;
    this.traffic.record(target.app, target.instance, exchange.status, exchange.bytesIn, exchange.bytesOut, duration);
    this.requests?.record(target.app, target.instance, exchange.connection.address, exchange, duration);
  }

  connect(port: number, owner: UpstreamOwner, fresh: boolean, once: boolean): UpstreamLink {
    return this.pool.acquire(port, owner, fresh, once);
  }

  reuse(link: UpstreamLink, keepAliveSeconds: number | undefined): void {
    this.pool.release(link, keepAliveSeconds);
  }

  tunnel(link: UpstreamLink): Socket {
    const socket = this.pool.detach(link);
    this.track(socket);
    const port = link.port;
    this.tunnels.set(port, (this.tunnels.get(port) ?? 0) + 1);
    socket.once('close', () => {
      const left = (this.tunnels.get(port) ?? 1) - 1;
      if (left > 0) this.tunnels.set(port, left);
      else this.tunnels.delete(port);
    });
    return socket;
  }

  /** Open WebSocket (and other upgraded) connections to a port. */
  tunnelsTo(port: number): number {
    return this.tunnels.get(port) ?? 0;
  }

  // ---- routing policy ----

  /** Sends the request to a ready upstream, or holds it while the instance starts, or explains. */
  private dispatch(exchange: Exchange, target: RouteTarget, avoid?: Upstream): void {
    const connection = exchange.connection;
    if (!connection.open) return;
    // `avoid` is the process that just failed; a restarted one in the same slot is a new Upstream.
    const only = target.upstreams.length === 1 ? target.upstreams[0]! : undefined;
    // One process (the usual case) needs no list made and no balancing.
    const upstream = only ? (only.state === 'running' && only !== avoid ? only : undefined) : this.pickReady(target, avoid);
    if (upstream) {
      this.start(exchange, upstream.key);
      connection.forward(upstream.port);
      return;
    }
    // A retry that finds nothing ready while the target still reads "running":
    // the process just died and the engine has not heard yet. Wait for it.
    if (worthWaiting(target) || (exchange.attempt > 0 && target.status?.state === 'running')) {
      this.hold(
        target,
        exchange,
        (next = target) => this.dispatch(exchange, next, avoid),
        // Released early, the page tells what became of the target (its state, why, the restart countdown), not the hold timeout.
        (timedOut) => this.unavailable(exchange, target, timedOut ? `${target.app}/${target.instance} did not become ready within the ${secondsText(this.holdTimeout)} s the router holds a request` : undefined),
      );
      return;
    }
    this.unavailable(exchange, target);
  }

  private unavailable(exchange: Exchange, target: RouteTarget, reason?: string): void {
    exchange.detail = unavailableHeadline(target, reason);
    exchange.connection.answer(unavailablePage(this.pageRequest(exchange), target, reason));
  }

  private pageRequest(exchange: Exchange): PageRequest {
    let accept: string | undefined;
    for (const [name, value] of exchange.head.headers) if (name.length === 6 && name.toLowerCase() === 'accept') accept = value;
    return { host: exchange.head.host, accept };
  }

  private get holdTimeout(): number {
    return this.options.holdTimeoutMs ?? 30_000;
  }

  /** Counts a request against its upstream until it settles. */
  private start(exchange: Exchange, key: string): void {
    exchange.upstreamKey = exchange.upstream = key;
    this.outstanding.set(key, (this.outstanding.get(key) ?? 0) + 1);
  }

  private settle(exchange: Exchange): void {
    const key = exchange.upstreamKey;
    if (key === undefined) return;
    exchange.upstreamKey = undefined;
    const left = (this.outstanding.get(key) ?? 1) - 1;
    if (left > 0) this.outstanding.set(key, left);
    else this.outstanding.delete(key);
  }

  /** A ready upstream other than `avoid`, balanced; undefined when there is none. */
  private pickReady(target: RouteTarget, avoid: Upstream | undefined): Upstream | undefined {
    const ready = readyUpstreams(target).filter((upstream) => upstream !== avoid);
    return ready.length > 0 ? this.pick(ready) : undefined;
  }

  /** Least outstanding requests; ties go round the pool. */
  private pick(ready: Upstream[]): Upstream {
    if (ready.length === 1) return ready[0]!;
    let best = ready[0]!;
    let bestLoad = this.outstanding.get(best.key) ?? 0;
    for (let i = 1; i < ready.length; i++) {
      const load = this.outstanding.get(ready[i]!.key) ?? 0;
      if (load < bestLoad) {
        best = ready[i]!;
        bestLoad = load;
      }
    }
    if (bestLoad === 0) {
      // Rotate the idle ones so sequential requests spread too.
      const idle = ready.filter((upstream) => (this.outstanding.get(upstream.key) ?? 0) === 0);
      best = idle[(this.turn = (this.turn + 1) % idle.length)]!;
    }
    return best;
  }

  /**
   * An upstream that refused a connection gets no requests until the engine
   * reports its state again, or a second passes and it is given another chance.
   */
  private suspend(target: RouteTarget, upstream: Upstream): void {
    if (upstream.state !== 'running') return;
    upstream.state = 'refused';
    setTimeout(() => {
      if (upstream.state === 'refused') upstream.state = 'running';
      this.table.update(target.app, target.instance, {});
    }, 1000).unref();
  }

  private hold(target: RouteTarget, exchange: Exchange, resume: (next?: RouteTarget) => void, fail: (timedOut: boolean) => void): void {
    let waiters = this.held.get(target);
    if (!waiters) this.held.set(target, (waiters = new Set()));
    const leave = () => {
      clearTimeout(timer);
      waiters!.delete(waiter);
      if (waiters!.size === 0 && this.held.get(target) === waiters) this.held.delete(target);
      exchange.cancelHold = undefined;
    };
    const waiter: Held = {
      resume: () => {
        leave();
        exchange.connection.run(() => resume());
      },
      reroute: () => {
        // The name now leads to another target (a version switched in): the request goes there.
        const next = this.table.lookup(exchange.head.host);
        if (!next || next === target) return waiter.fail(false);
        leave();
        exchange.connection.run(() => resume(next));
      },
      fail: (timedOut) => {
        leave();
        exchange.connection.run(() => fail(timedOut));
      },
    };
    const timer = setTimeout(() => waiter.fail(true), this.holdTimeout);
    exchange.cancelHold = leave;
    waiters.add(waiter);
  }

  /**
   * A target changed: held requests go on if it is ready, or get the page if
   * it will not be soon. Requests held on a target its app replaced or removed
   * (a switch of versions) look their name up again.
   */
  private release(target: RouteTarget): void {
    for (const [old, waiters] of this.held) {
      if (old !== target && old.app === target.app && old.instance === target.instance && waiters.size > 0) for (const waiter of [...waiters]) waiter.reroute();
    }
    const waiters = this.held.get(target);
    if (!waiters || waiters.size === 0) return;
    if (readyUpstreams(target).length > 0) for (const waiter of [...waiters]) waiter.resume();
    else if (!worthWaiting(target) && target.status?.state !== 'running') for (const waiter of [...waiters]) waiter.fail(false);
  }
}
