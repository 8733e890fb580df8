import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { serveStatic } from './static-files.js';
import { addForwarded, stripHopByHop } from './headers.js';
import { badGatewayPage, notFoundPage, unavailablePage } from './pages.js';
import { readyUpstreams, RoutingTable, worthWaiting, type RouteTarget, type Upstream } from './routing-table.js';
import { TrafficCounters } from './traffic.js';

export interface RouterOptions {
  /** 0 picks a free port. */
  port: number;
  /** Addresses to listen on; default loopback only, both families. */
  hosts?: string[];
  /** How long a request waits for a starting instance. Default 30 s. */
  holdTimeoutMs?: number;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

interface Held {
  resume: () => void;
  fail: () => void;
}

/**
 * The local router: one listener, hostname → app, requests held while an app
 * starts, an error page that says why when it cannot answer, traffic counted.
 */
export class Router {
  readonly table = new RoutingTable();
  readonly traffic = new TrafficCounters();
  private readonly servers: Server[] = [];
  private readonly agents = new Map<number, Agent>();
  private readonly outstanding = new Map<string, number>();
  private readonly held = new Map<RouteTarget, Set<Held>>();
  private readonly sockets = new Set<Duplex>();
  private boundPort = 0;

  constructor(private readonly options: RouterOptions) {
    this.table.on('change', (target) => this.release(target));
  }

  get port(): number {
    return this.boundPort;
  }

  async listen(): Promise<void> {
    const hosts = this.options.hosts ?? ['127.0.0.1', '::1'];
    let port = this.options.port;
    for (const host of hosts) {
      const server = createServer({ keepAliveTimeout: 30_000, requestTimeout: 0, noDelay: true }, (req, res) => this.handle(req, res));
      server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
      server.on('connection', (socket: Socket) => {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
      });
      server.on('clientError', (_error, socket) => socket.destroy());
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port, host, exclusive: true }, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } catch (error) {
        // ::1 may not exist (IPv6 off): loopback IPv4 is enough.
        if (host === '::1' && ['EADDRNOTAVAIL', 'EAFNOSUPPORT'].includes((error as NodeJS.ErrnoException).code ?? '')) continue;
        await this.close();
        throw error;
      }
      const address = server.address();
      if (typeof address === 'object' && address) port = address.port;
      this.servers.push(server);
    }
    this.boundPort = port;
  }

  async close(): Promise<void> {
    for (const waiters of this.held.values()) for (const waiter of waiters) waiter.fail();
    for (const socket of this.sockets) socket.destroy();
    for (const agent of this.agents.values()) agent.destroy();
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.servers.length = 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const target = this.table.lookup(req.headers.host);
    if (!target) {
      notFoundPage(req, res, this.table.list(), this.boundPort);
      return;
    }
    const started = performance.now();
    // Sizes come from Content-Length where there is one; only bodies without it are metered chunk by chunk.
    const meter = { in: Number(req.headers['content-length'] ?? 0), out: 0 };
    if (req.headers['transfer-encoding']) req.on('data', (chunk: Buffer) => (meter.in += chunk.length));
    res.once('close', () => {
      const out = meter.out || Number(res.getHeader('content-length') ?? 0);
      this.traffic.record(target.app, target.instance, res.writableFinished ? res.statusCode : 0, meter.in, out, performance.now() - started);
    });
    if (target.static) {
      serveStatic(target.static.root, req, res).catch(() => res.destroy());
      return;
    }
    this.dispatch(target, req, res, 0, undefined, meter);
  }

  /** Sends the request to a ready upstream, or holds it while the instance starts, or explains. */
  private dispatch(target: RouteTarget, req: IncomingMessage, res: ServerResponse, attempt: number, avoid?: Upstream, meter = { in: 0, out: 0 }): void {
    // `avoid` is the process that just failed; a restarted one in the same slot is a new Upstream.
    const ready = readyUpstreams(target).filter((upstream) => upstream !== avoid);
    if (ready.length > 0) {
      this.forward(target, this.pick(ready), req, res, attempt, meter);
      return;
    }
    // A retry that finds nothing ready while the target still reads "running":
    // the process just died and the engine has not heard yet. Wait for it.
    if (worthWaiting(target) || (attempt > 0 && target.status?.state === 'running')) {
      this.hold(target, req, () => this.dispatch(target, req, res, attempt, avoid, meter), () => unavailablePage(req, res, target, `${target.app}/${target.instance} did not become ready within ${Math.round(this.holdTimeout / 1000)} s`));
      return;
    }
    unavailablePage(req, res, target);
  }

  private get holdTimeout(): number {
    return this.options.holdTimeoutMs ?? 30_000;
  }

  /** Least outstanding requests; ties go round the pool. */
  private pick(ready: Upstream[]): Upstream {
    let best = ready[0]!;
    let bestLoad = this.outstanding.get(best.key) ?? 0;
    for (let i = 1; i < ready.length; i++) {
      const load = this.outstanding.get(ready[i]!.key) ?? 0;
      if (load < bestLoad) {
        best = ready[i]!;
        bestLoad = load;
      }
    }
    if (bestLoad === 0 && ready.length > 1) {
      // Rotate the idle ones so sequential requests spread too.
      const idle = ready.filter((upstream) => (this.outstanding.get(upstream.key) ?? 0) === 0);
      best = idle[(this.turn = (this.turn + 1) % idle.length)]!;
    }
    return best;
  }
  private turn = 0;

  private agent(port: number): Agent {
    let agent = this.agents.get(port);
    if (!agent) this.agents.set(port, (agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' })));
    return agent;
  }

  private forward(target: RouteTarget, upstream: Upstream, req: IncomingMessage, res: ServerResponse, attempt: number, meter: { in: number; out: number }): void {
    const headers = addForwarded(stripHopByHop(req.headers), req);
    const proxied = request({ host: '127.0.0.1', port: upstream.port, method: req.method, path: req.url, headers, agent: this.agent(upstream.port) });
    this.outstanding.set(upstream.key, (this.outstanding.get(upstream.key) ?? 0) + 1);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.outstanding.set(upstream.key, (this.outstanding.get(upstream.key) ?? 1) - 1);
    };
    proxied.on('response', (response) => {
      res.writeHead(response.statusCode ?? 502, response.statusMessage, stripHopByHop(response.headers));
      // An event stream's headers go at once (its first event may be far off); other
      // responses send headers with the first body chunk, in one write.
      if (String(response.headers['content-type']).startsWith('text/event-stream')) res.flushHeaders();
      if (response.headers['content-length'] === undefined) response.on('data', (chunk: Buffer) => (meter.out += chunk.length));
      response.pipe(res);
      response.once('end', finish);
      response.once('error', () => res.destroy());
    });
    proxied.on('error', (error: NodeJS.ErrnoException) => {
      finish();
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      const bodiless = !req.headers['content-length'] && !req.headers['transfer-encoding'];
      if (attempt === 0 && bodiless && IDEMPOTENT.has(req.method ?? '') && CONNECT_ERRORS.has(error.code ?? '')) {
        // Nothing reached the app: try another process (or wait for this one to come back).
        if (error.code === 'ECONNREFUSED') this.suspend(target, upstream);
        this.dispatch(target, req, res, 1, upstream, meter);
        return;
      }
      badGatewayPage(req, res, target, `${error.code ?? error.message} from 127.0.0.1:${upstream.port}`);
    });
    res.once('close', () => {
      if (!res.writableFinished) proxied.destroy();
      finish();
    });
    req.pipe(proxied);
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

  private hold(target: RouteTarget, req: IncomingMessage, resume: () => void, fail: () => void): void {
    let waiters = this.held.get(target);
    if (!waiters) this.held.set(target, (waiters = new Set()));
    const waiter: Held = {
      resume: () => {
        clearTimeout(timer);
        waiters!.delete(waiter);
        resume();
      },
      fail: () => {
        clearTimeout(timer);
        waiters!.delete(waiter);
        fail();
      },
    };
    const timer = setTimeout(() => waiter.fail(), this.holdTimeout);
    req.socket.once('close', () => {
      clearTimeout(timer);
      waiters!.delete(waiter);
    });
    waiters.add(waiter);
  }

  /** A target changed: held requests go on if it is ready, or get the page if it will not be soon. */
  private release(target: RouteTarget): void {
    const waiters = this.held.get(target);
    if (!waiters || waiters.size === 0) return;
    if (readyUpstreams(target).length > 0) for (const waiter of [...waiters]) waiter.resume();
    else if (!worthWaiting(target) && target.status?.state !== 'running') for (const waiter of [...waiters]) waiter.fail();
  }

  /** WebSocket (and other) upgrades: a raw tunnel once the head is forwarded. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const target = this.table.lookup(req.headers.host);
    const ready = target ? readyUpstreams(target) : [];
    if (!target || ready.length === 0) {
      socket.end(`HTTP/1.1 ${target ? '503 Service Unavailable' : '404 Not Found'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    const upstream = this.pick(ready);
    const headers = addForwarded(stripHopByHop(req.headers, true), req);
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (const [name, value] of Object.entries(headers)) {
      for (const item of Array.isArray(value) ? value : [value]) if (item !== undefined) lines.push(`${name}: ${item}`);
    }
    const tunnel = connect({ host: '127.0.0.1', port: upstream.port }, () => {
      tunnel.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) tunnel.write(head);
      tunnel.pipe(socket);
      socket.pipe(tunnel);
      this.traffic.record(target.app, target.instance, 101, head.length, 0, 0);
    });
    tunnel.setNoDelay(true);
    this.sockets.add(tunnel);
    tunnel.once('close', () => this.sockets.delete(tunnel));
    tunnel.on('error', () => socket.destroy());
    socket.on('error', () => tunnel.destroy());
    socket.once('close', () => tunnel.destroy());
  }
}
