import { DnsResponder, Router, type RequestFilter, type RequestRecord, type RouterTls } from '../proxy/index.js';
import { nameUrls, type NameUrls } from '../shared/app-urls.js';
import { appHostBase } from '../shared/app-keys.js';
import type { DiskSpace } from '../shared/disk-space.js';
import { PaasmakerError } from '../shared/errors.js';
import { portHolder } from '../shared/port-holder.js';
import type { State, TrafficRecord } from '../state/index.js';
import type { Supervisor } from '../supervisor/index.js';
import { Certificates } from '../tls/index.js';
import type { EventSink } from './events.js';
import type { Lifecycle } from './lifecycle.js';
import { AppRoutes } from './routes.js';
import type { Warnings } from './warnings.js';

/** The routing table's key for the console: no app can have this name (app names have no brackets). */
const CONSOLE_ROUTE = '(paasmaker)';

/** Traffic counts are kept for a day (the longest stats window), pruned every ten minutes. */
const TRAFFIC_KEPT_S = 86_400;
const TRAFFIC_PRUNE_EVERY_S = 600;
/** New requests reach the event stream in batches, this often (never one event per request). */
const REQUESTS_EVERY_MS = 250;

export interface EdgeParts {
  state: State;
  supervisor: Supervisor;
  space: DiskSpace;
  life: Lifecycle;
  events: EventSink;
  warnings: Warnings;
  /** Where the local certificate authority keeps its files (PAASMAKER_HOME/tls). */
  tlsDir: string;
}

/** The router's options, as the platform is opened with them. */
export interface ProxyOptions {
  port: number;
  hosts?: string[];
  maxConnections?: number;
  requestLog?: number;
  /**
   * Also serve https:// on this port (0: any free one), with certificates
   * signed on demand by the local CA. `optional`: a taken port means no TLS
   * this run (a warning), not a platform that does not open. The validity
   * and renewal margin of certificates are shortened by tests.
   */
  tls?: { port: number; optional?: boolean; leafValidityMs?: number; renewWithinMs?: number };
}

/**
 * Where requests come in: the router (with its table kept in step with the
 * apps), the DNS responder for *.local.paasmaker, and the traffic counts the
 * router keeps, flushed to state once a second.
 */
export class Edge {
  router?: Router;
  routes?: AppRoutes;
  /** The local CA's certificates, when the router listens with TLS. */
  private certificates?: Certificates;
  /** Settles when the local CA's root is loaded or made (or could not be). */
  private rootMade?: Promise<void>;
  private dnsResponder?: DnsResponder;
  /** Why the DNS responder is not running, when it was asked for and could not start. */
  dnsProblem?: string;
  private trafficTimer?: NodeJS.Timeout;
  /** Traffic batches not yet in state.db: written on the next flush that finds room. */
  private trafficBacklog: TrafficRecord[][] = [];
  private trafficPrunedAt = 0;
  private requestsTimer?: NodeJS.Timeout;
  /** Per app, the newest request already on the event stream. */
  private readonly requestsSent = new Map<string, number>();

  constructor(private readonly parts: EdgeParts) {}

  get dnsPort(): number | undefined {
    return this.dnsResponder?.port;
  }

  /**
   * Resolves once the local CA's root exists (made on the first start, beside
   * the apps), so that an app reported up can be reached with
   * `curl --cacert PAASMAKER_HOME/tls/root.pem` at once. Never rejects.
   */
  rootReady(): Promise<void> {
    return this.rootMade ?? Promise.resolve();
  }

  /** The router's https port, when it listens with TLS. */
  get tlsPort(): number | undefined {
    return this.router?.tlsPort;
  }

  /** Where a browser reaches a host name through the router: http, and https when it listens with TLS (nulls without a router). */
  urlsOf(hostname: string): NameUrls {
    return nameUrls(hostname, { http: this.router?.port, https: this.router?.tlsPort });
  }

  /** The URLs a browser opens for an app's routed instance (APP.localhost), or a version's (vN.APP). */
  appUrls(app: string): NameUrls {
    return this.urlsOf(`${appHostBase(app)}.localhost`);
  }

  /**
   * paasmaker.localhost (and .local.paasmaker) lead to the web console and
   * API on a loopback port: the browser gets one origin for page and API.
   */
  routeConsole(port: number): void {
    this.router?.table.setApp(CONSOLE_ROUTE, {
      instance: 'console',
      hostnames: ['paasmaker.localhost', 'paasmaker.local.paasmaker'],
      upstreams: [{ key: `${CONSOLE_ROUTE}/console`, port, state: 'running' }],
      status: { state: 'running' },
      internal: true,
    });
  }

  /** The console's URL, when the router runs. */
  get consoleUrl(): string | undefined {
    // Plain http: its session cookie and one-time sign-in links are made for that origin.
    return this.urlsOf('paasmaker.localhost').url ?? undefined;
  }

  async startRouter(proxy: ProxyOptions): Promise<void> {
    let tls: RouterTls | undefined;
    if (proxy.tls) {
      this.certificates = new Certificates({ dir: this.parts.tlsDir, leafValidityMs: proxy.tls.leafValidityMs, renewWithinMs: proxy.tls.renewWithinMs });
      tls = { port: proxy.tls.port, optional: proxy.tls.optional, certificates: this.certificates };
    }
    // What the router cannot do (accept a connection, answer without a bug) is a warning of the platform.
    const router = new Router({ port: proxy.port, hosts: proxy.hosts, maxConnections: proxy.maxConnections, requestLog: proxy.requestLog, tls, log: (line) => this.parts.warnings.raise(`router: ${line}`) });
    try {
      await router.listen();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      const port = (error as NodeJS.ErrnoException & { port?: number }).port ?? proxy.port;
      const secure = proxy.tls !== undefined && port === proxy.tls.port && port !== proxy.port;
      const holder = portHolder(port);
      throw new PaasmakerError('PORT_IN_USE', `the router's ${secure ? 'TLS ' : ''}port ${port} is taken${holder ? ` by ${holder.command} (pid ${holder.pid})` : ''}`, {
        hint: secure
          ? 'choose another with --tls-port N (or PAASMAKER_TLS_PORT), run without https with --no-tls, or stop what holds it'
          : 'choose another with --proxy-port N (or PAASMAKER_PROXY_PORT), or stop what holds it',
      });
    }
    if (router.tlsPort !== undefined && this.certificates) {
      // The root is made on the first start (loading the X.509 code and signing take a moment), beside
      // the apps' start rather than before it; a handshake that comes first waits for it.
      this.rootMade = this.certificates.authority().then(() => undefined, (error: Error) => {
        this.parts.warnings.raise(`the local certificate authority in ${this.parts.tlsDir} cannot be used, so https:// answers nothing: ${error.message}${error instanceof PaasmakerError && error.hint ? ` (${error.hint})` : ''}`);
      });
    }
    this.router = router;
    this.routes = new AppRoutes(router.table, this.parts.supervisor);
    // Traffic leaves memory once a second, in one batch.
    this.trafficTimer = setInterval(() => this.flushTraffic(), 1000);
    this.trafficTimer.unref();
    if (router.requests) {
      this.requestsTimer = setInterval(() => this.publishRequests(), REQUESTS_EVERY_MS);
      this.requestsTimer.unref();
    }
  }

  /**
   * An app's last requests, oldest first, as the router's request inspector
   * keeps them; undefined when it does not (no router, or the inspector is off).
   */
  requests(app: string, filter: RequestFilter = {}): RequestRecord[] | undefined {
    return this.router?.requests?.list(app, filter);
  }

  /** Requests recorded since the last batch go on the event stream: one event per app that had any. */
  publishRequests(): void {
    const log = this.router?.requests;
    if (!log) return;
    for (const app of log.apps()) {
      const last = log.lastIdOf(app);
      const sent = this.requestsSent.get(app) ?? 0;
      if (last === sent) continue;
      this.requestsSent.set(app, last);
      // The records are made (headers split and redacted) only if a listener reads them, once:
      // with no event stream open, a busy app's batches cost nothing.
      let requests: RequestRecord[] | undefined;
      this.parts.events.emit('request.recorded', {
        app,
        get requests() {
          return (requests ??= log.list(app, { sinceId: sent }));
        },
      });
    }
  }

  async startDns(port: number): Promise<void> {
    const responder = new DnsResponder({ port });
    try {
      await responder.listen();
      this.dnsResponder = responder;
    } catch (error) {
      const holder = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? ' (taken)' : `: ${(error as Error).message}`;
      this.dnsProblem = `the DNS responder for *.local.paasmaker could not use 127.0.0.1:${port}${holder}; <app>.localhost still works`;
      this.parts.warnings.raise(this.dnsProblem);
    }
  }

  /**
   * Traffic leaves memory in one batch. While the disk is full batches wait
   * (the last ten minutes of them) and the live tick goes on.
   */
  flushTraffic(): void {
    const { state, space, life, events } = this.parts;
    if (!this.router || !life.stateOpen) return;
    const samples = this.router.traffic.drain();
    if (samples.length > 0) {
      const at = Math.floor(Date.now() / 1000);
      this.trafficBacklog.push(samples.map((sample) => ({ ...sample, at })));
      if (this.trafficBacklog.length > 600) this.trafficBacklog.shift();
      events.emit('traffic.tick', { at, samples });
    }
    while (this.trafficBacklog.length > 0 && !space.degraded) {
      state.traffic.record(this.trafficBacklog[0]!);
      if (!space.degraded) this.trafficBacklog.shift();
    }
    // Counts older than the longest window anyone can ask for (a day) only grow state.db.
    const now = Date.now() / 1000;
    if (now - this.trafficPrunedAt >= TRAFFIC_PRUNE_EVERY_S && !space.degraded) {
      this.trafficPrunedAt = now;
      state.traffic.prune(Math.floor(now) - TRAFFIC_KEPT_S);
    }
  }

  /** The last traffic goes to state; the router and the responder stop listening. */
  async close(): Promise<void> {
    if (this.trafficTimer) clearInterval(this.trafficTimer);
    if (this.requestsTimer) clearInterval(this.requestsTimer);
    this.flushTraffic();
    await this.router?.close();
    await this.dnsResponder?.close();
    // A root being made is finished, not cut off half written.
    await this.rootMade;
  }
}
