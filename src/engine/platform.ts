import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ResolvedInstance, ResolvedManifest } from '../manifest/index.js';
import type { RuntimePlan } from '../../runtimes/index.js';
import type { RequestFilter, RequestRecord } from '../proxy/index.js';
import { Services } from '../services/index.js';
import { loadPlugins } from '../plugins/load.js';
import { NO_URLS, type NameUrls } from '../shared/app-urls.js';
import type { Degraded, DiskSpace } from '../shared/disk-space.js';
import { raiseDescriptorLimit } from '../shared/descriptors.js';
import { PaasmakerError } from '../shared/errors.js';
import { currentOwner, type Owner } from '../shared/owner.js';
import { homeLayout, paasmakerHome, type HomeLayout } from '../shared/paths.js';
import type { State } from '../state/index.js';
import { startKeeper, Supervisor, type Keeper, type ProcessState } from '../supervisor/index.js';
import { AppRuns, type ApplyOptions } from './app-runs.js';
import type { DeployHooks, DeployRequest } from './deploy-types.js';
import { VersionRuns } from './version-runs.js';
import { Versions } from './versions.js';
import type { DeployResult, VersionRow } from '../shared/views.js';
import { CronRuns } from './cron-runs.js';
import { DataTools } from './data-tools.js';
import { recoverWhenRoom } from './disk-recovery.js';
import { Edge, type ProxyOptions } from './edge.js';
import { processKey, type PlatformEvents } from './events.js';
import { recordedManifest } from './recorded-manifest.js';
import { Jobs } from './jobs.js';
import { Launcher } from './launcher.js';
import { RuntimeInstalls } from './runtime-installs.js';
import { Leftovers, type ReapReport } from './leftovers.js';
import { Lifecycle } from './lifecycle.js';
import { openState } from './open-state.js';
import { reportProcesses } from './process-reports.js';
import { ProcessStats } from './process-stats.js';
import { ProjectReloads } from './project-reloads.js';
import { listProcesses, type ProcessRow } from './queries.js';
import { routedHostname } from './routes.js';
import { RollingUpdates } from './rolling.js';
import type { RunningApp } from './running-app.js';
import { unreadyProcesses, type UnreadyProcess } from './unready.js';
import { platformWarnings, type Warnings } from './warnings.js';

export type { ApplyOptions } from './app-runs.js';
export type { DeployRequest, DeployHooks, SourceSpec } from './deploy-types.js';
export type { ReapReport } from './leftovers.js';

export interface PlatformOptions {
  /** PAASMAKER_HOME; defaults from the environment. */
  home?: string;
  /** The environment apps inherit (PATH, HOME, ...). Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Start the orphan-proof keeper (default true). */
  keeper?: boolean;
  backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  /** Start the router on this port (0: any free one), with at most maxConnections clients open and the last requestLog requests of each app kept (0: none), and https:// on tls.port. Without it, apps are reached on their own ports only. */
  proxy?: ProxyOptions;
  /** Answer DNS for *.local.paasmaker on 127.0.0.1:port (0: any free one). Not fatal when the port is taken. */
  dns?: { port: number };
}


/**
 * The platform: owns state, the supervisor and the keeper, applies a
 * project's desired state and reports everything through typed events. It
 * knows nothing of terminals or HTTP; every face is a client of it. The work
 * is done by its parts, each handed the parts it needs: launching instances,
 * the edge (router, DNS, traffic), leftovers of earlier runs, crons, the
 * apps' lives, rolling updates and reloads on change.
 */
export class Platform extends EventEmitter<PlatformEvents> {
  readonly layout: HomeLayout;
  readonly state: State;
  readonly owner: Owner;
  /** Every action, as a job tree with states and logs. */
  readonly jobs: Jobs;
  readonly services: Services;
  /** Whether the disk holding PAASMAKER_HOME has room; when it has not, the platform runs degraded. */
  readonly space: DiskSpace;
  /** What the platform could not do as asked (GET /api/v1/warnings). */
  readonly warnings: Warnings;
  /** CPU and memory of the apps' processes, sampled every ~2 s. */
  readonly usage: ProcessStats;
  /** Runtime versions Paasmaker installs itself (on demand, or asked), and their removal. */
  readonly installs: RuntimeInstalls;
  /** Dumps, restores and snapshots of the apps' services, as jobs. */
  readonly data: DataTools;

  private readonly supervisor: Supervisor;
  private readonly keeper?: Keeper;
  private readonly running = new Map<string, RunningApp>();
  /** Deployed versions running beside an app's front run, by run id ("shop@v3"). */
  private readonly standby = new Map<string, RunningApp>();
  private readonly life = new Lifecycle();
  private readonly edge: Edge;
  private readonly leftovers: Leftovers;
  private readonly launcher: Launcher;
  private readonly crons: CronRuns;
  private readonly apps: AppRuns;
  private readonly rolling: RollingUpdates;
  private readonly runs: VersionRuns;
  private readonly deployed: Versions;
  private readonly reloads: ProjectReloads;

  private constructor(options: PlatformOptions) {
    super();
    this.layout = homeLayout(options.home ?? paasmakerHome(options.env));
    ({ state: this.state, space: this.space } = openState(this.layout));
    const env = options.env ?? process.env;
    const ownerToken = randomBytes(12).toString('hex');
    this.owner = currentOwner();
    this.keeper = options.keeper === false ? undefined : startKeeper({ ownerToken });
    const { state, space, owner, keeper, running, standby, life } = this;
    // The parts report through this emitter, and see only its emit (EventSink).
    const events = this;
    const supervisor = (this.supervisor = new Supervisor({ keeper, backoff: options.backoff, space }));
    const jobs = (this.jobs = new Jobs(state, owner, this.layout.logs, (event) => this.emit('job.update', event), space, (event) => this.emit('job.log', event)));
    const say = (line: string) => this.emit('log.line', { app: '', source: 'services', stream: 'system', line, time: Date.now() });
    const services = (this.services = new Services({ home: this.layout.root, state, supervisor, env, say, emit: (name, event) => this.emit<'mail.received'>(name, event) }));
    const warnings = (this.warnings = platformWarnings({ events, space }));
    const edge = (this.edge = new Edge({ state, supervisor, space, life, events, warnings, tlsDir: this.layout.tls }));
    const leftovers = (this.leftovers = new Leftovers({ state, supervisor, owner, life }));
    const installs = (this.installs = new RuntimeInstalls({ home: this.layout.root, env, jobs, life, running, standby }));
    const launcher = (this.launcher = new Launcher({ home: this.layout.root, logs: this.layout.logs, env, ownerToken, state, supervisor, keeper, jobs, services, life, events, installs }));
    const crons = (this.crons = new CronRuns({ state, running, edge, launcher, jobs, events }));
    const runs = (this.runs = new VersionRuns({ life, state, owner, running, standby, supervisor, edge, launcher, crons, events }));
    const versions = (this.deployed = new Versions({ root: this.layout.versions, state, running, supervisor, edge, launcher, jobs, life, events, runs }));
    const apps = (this.apps = new AppRuns({ home: this.layout.root, state, owner, space, running, supervisor, edge, launcher, crons, leftovers, jobs, life, events, runs, versions }));
    const rolling = (this.rolling = new RollingUpdates({ supervisor, state, running, life, edge, launcher, jobs, events }));
    this.data = new DataTools({ home: this.layout.root, jobs, services, running, standby, supervisor, launcher, crons, state, owner });
    this.reloads = new ProjectReloads({ running, jobs, services, home: this.layout.root, life, apps, rolling, launcher, crons });
    reportProcesses({ supervisor, state, running, standby, edge, jobs, life, events });
    recoverWhenRoom({ space, state, owner, running, supervisor, apps, leftovers, jobs, edge, life, events });
    this.usage = new ProcessStats({ supervisor, running, life, events });
    this.usage.start();
  }

  static async open(options: PlatformOptions = {}): Promise<Platform> {
    raiseDescriptorLimit();
    // config.yml's plugins, before anything reads a manifest or config.yml (once per process).
    await loadPlugins(options.home ?? paasmakerHome(options.env));
    const platform = new Platform(options);
    try {
      await platform.leftovers.reap();
      platform.data.reapLeftovers();
      if (options.proxy) await platform.edge.startRouter(options.proxy);
      if (options.dns) await platform.edge.startDns(options.dns.port);
    } catch (error) {
      await platform.close();
      throw error;
    }
    return platform;
  }

  /** What the previous run left behind and open() cleaned up. */
  get reapReport(): ReapReport {
    return this.leftovers.report;
  }

  /** The router's port, when it runs. */
  get routerPort(): number | undefined {
    return this.edge.router?.port;
  }

  /** The router's https port, when it listens with TLS. */
  get tlsPort(): number | undefined {
    return this.edge.tlsPort;
  }

  /** The URLs a browser opens for an app's routed instance (APP.localhost): http, and https when the router listens with TLS; nulls without a router. */
  appUrls(app: string): NameUrls {
    return this.edge.appUrls(app);
  }

  /** Where a browser reaches one instance type of an app running here (APP.localhost, or TYPE.APP.localhost); nulls for a standalone type, an app not running here, or no router. */
  instanceUrls(app: string, instance: string): NameUrls {
    const manifest = this.running.get(app)?.manifest;
    const type = manifest?.instances.find((candidate) => candidate.name === instance);
    return manifest && type && !type.standalone ? this.edge.urlsOf(routedHostname(manifest, instance)) : NO_URLS;
  }

  /** Routes paasmaker.localhost to the web console and API listening on a loopback port. */
  routeConsole(port: number): void {
    this.edge.routeConsole(port);
  }

  /** Where a browser opens the web console, when the router runs. */
  get consoleUrl(): string | undefined {
    return this.edge.consoleUrl;
  }

  get dnsPort(): number | undefined {
    return this.edge.dnsPort;
  }

  /** Why the DNS responder is not running, when it was asked for and could not start. */
  get dnsProblem(): string | undefined {
    return this.edge.dnsProblem;
  }

  /** Why the platform runs degraded (a full disk), or undefined when it does not. */
  get degraded(): Degraded | undefined {
    return this.space.degraded;
  }

  /** Runs a project: resolves runtimes, prepares, starts every instance and waits for each first outcome (see AppRuns). */
  async apply(manifest: ResolvedManifest, options: ApplyOptions = {}): Promise<void> {
    await this.apps.apply(manifest, options);
    // An app reported up answers on https:// too: the root its certificates chain to is on disk (it is made beside the apps' start).
    await this.edge.rootReady();
  }

  /** Stops one app this platform runs. */
  stopApp(name: string): Promise<void> {
    return this.apps.stop(name);
  }

  /** Stops an app wherever it runs: see AppRuns. */
  down(name: string, options: { timeoutMs?: number } = {}): Promise<'stopped' | 'not-running'> {
    return this.apps.down(name, options);
  }

  /** Watches an app's project and reloads it on save: see ProjectReloads. */
  watch(name: string): Promise<void> {
    return this.reloads.watch(name);
  }

  /** Runs one cron of an app now (paasmaker cron run, POST /api/v1/apps/{app}/crons/{name}/run); onJob learns its job's id as it starts. */
  runCron(manifest: ResolvedManifest, cronName: string, onJob?: (id: string) => void): Promise<{ ok: boolean; detail: string; job: string }> {
    return this.crons.run(manifest, cronName, onJob);
  }

  /** A rolling reload of an app's instance types (all by default): see RollingUpdates. */
  reload(name: string, options: { instances?: string[]; reason?: string } = {}): Promise<boolean> {
    return this.rolling.reload(name, options);
  }

  /** A rolling restart a user asked for: an unknown app or instance type is an error (see RollingUpdates). */
  restart(name: string, instanceName?: string): Promise<boolean> {
    return this.rolling.restart(name, instanceName);
  }

  /** Stops, or starts again, one process of an app by its slot: see Launcher.control. */
  controlProcess(name: string, slot: { instance: string; index: number }, action: 'stop' | 'start'): Promise<ProcessState> {
    return this.launcher.control(name, this.running.get(name), slot, action);
  }

  /** Changes how many processes an instance type runs, live: see RollingUpdates. */
  scale(name: string, instanceName: string, quantity: number): Promise<{ from: number; to: number }> {
    return this.rolling.scale(name, instanceName, quantity);
  }

  /** Provisions the app's services (a job) and returns their credentials as environment variables. */
  provisionServices(manifest: ResolvedManifest): Promise<Record<string, string>> {
    return this.launcher.provisionServices(manifest);
  }

  /** An instance's runtime plan; a version nothing installed fits is installed first, when its runtime can (a job). */
  runtimePlan(manifest: ResolvedManifest, instance: ResolvedInstance): Promise<RuntimePlan> {
    return this.launcher.plan(manifest, instance);
  }

  /**
   * The environment a one-off command of the app gets (`paasmaker run`): the
   * instance's (the routed one by default) with its runtime's PATH, without a port.
   */
  commandEnvironment(manifest: ResolvedManifest, instanceName?: string): Promise<Record<string, string>> {
    return this.launcher.commandEnvironment(manifest, instanceName);
  }

  /** The app's routed processes that are not running (empty when it is up): see unreadyProcesses. */
  unready(name: string): UnreadyProcess[] {
    const app = this.running.get(name);
    return app ? unreadyProcesses(app, this.supervisor) : [];
  }

  /** Process slots as a listing shows them (`running`: only the apps that run), with where the router reaches each. */
  processes(app?: string, options: { running?: boolean } = {}): ProcessRow[] {
    return listProcesses(this.state, { app, running: options.running, selfPid: this.owner.pid, usage: this.usage, urls: (name, instance) => this.instanceUrls(name, instance) });
  }

  runningApps(): ResolvedManifest[] {
    return [...this.running.values()].map((app) => app.manifest);
  }

  /** The app's manifest: as it runs here, else as it last ran (the recorded file and instance types). */
  async manifestOf(name: string): Promise<ResolvedManifest> {
    const running = this.running.get(name);
    if (running) return running.manifest;
    const record = this.state.apps.get(name);
    if (!record) throw new PaasmakerError('APP_NOT_FOUND', `no app named "${name}"`, { hint: 'paasmaker ps -a lists them' });
    return recordedManifest(record);
  }

  /** A running app's manifest and its services' credentials, as its instances got them. */
  runningEnvironment(app: string): { manifest: ResolvedManifest; services: Record<string, string> } | undefined {
    const running = this.running.get(app);
    return running && { manifest: running.manifest, services: running.serviceEnv };
  }

  /** An app's last requests through the router, oldest first (see RequestLog); undefined when no request inspector runs. */
  recentRequests(app: string, filter?: RequestFilter): RequestRecord[] | undefined {
    return this.edge.requests(app, filter);
  }

  /** Recent output of a process, newest last. */
  tail(app: string, instance: string, index: number, lines = 20) {
    const key = this.running.get(app)?.slots.get(`${instance}.${index}`) ?? processKey(app, instance, index);
    return this.supervisor.tail(key, lines);
  }

  async close(): Promise<void> {
    if (this.life.closed) return;
    this.life.close();
    this.usage.stop();
    // Switches under way end first: none promotes a run after the apps are stopped.
    await this.deployed.idle();
    await Promise.all([...this.running.keys()].map((name) => this.apps.stop(name)));
    await this.runs.close();
    // Database servers last: the apps have let go of their connections.
    await this.services.close();
    await this.edge.close();
    this.keeper?.close();
    this.space.close();
    this.life.stateOpen = false;
    this.state.close();
  }

  /** An app's current version and what answers on APP.localhost (see Versions). */
  serving(app: string): { version: number | null; servedBy: 'dev' | 'version' | null } {
    return this.deployed.serving(app);
  }

  /** Makes a version of an app from a source and, unless switch is false, makes it current: see Versions. */
  deploy(request: DeployRequest, hooks: DeployHooks = {}): Promise<DeployResult> {
    return this.deployed.deploy(request, hooks);
  }

  /** An app's versions, newest first. */
  versions(app: string): VersionRow[] {
    return this.deployed.list(app);
  }

  /** Makes version n of an app current, with a rolling cut-over: see Versions. */
  switchVersion(app: string, version: number): Promise<VersionRow> {
    return this.deployed.switchTo(app, version);
  }

  /** Makes the previous current version current again. */
  rollback(app: string): Promise<VersionRow> {
    return this.deployed.rollback(app);
  }

  /** Removes all but the newest `keep` versions, never the current or the previous one, and deletes their code. */
  pruneVersions(app: string, keep: number): Promise<number[]> {
    return this.deployed.prune(app, keep);
  }

  /** Starts a version as a preview on vN.APP.localhost (start), or stops a running version that is not serving (stop). */
  previewVersion(app: string, version: number, action: 'start' | 'stop'): Promise<VersionRow> {
    return this.deployed.preview(app, version, action);
  }

  /** The daemon starts: the current version of each deployed app that ran comes back (see Versions.restore). */
  restoreVersions(say: (line: string) => void): Promise<Array<{ app: string; error: string }>> {
    return this.deployed.restore(say);
  }

  /** The terminal holding a development up went away: that up stops, and the current version, if one runs, takes the app's names back. */
  async stopDev(name: string): Promise<void> {
    if (this.running.get(name)?.version !== undefined) return;
    this.state.apps.setDaemon(name, false);
    await this.apps.stop(name, { resume: true });
  }

  /** What each running instance type's runtime resolved to ("node v20.11.1 (/usr/bin/node)"). */
  runtimePlans(): Array<{ app: string; instance: string; runtime: string; description: string }> {
    return [...this.running.values()].flatMap((app) =>
      app.manifest.instances.flatMap((instance) => {
        const plan = app.plans.get(instance.name);
        return plan ? [{ app: app.manifest.application.name, instance: instance.name, runtime: instance.runtime.name, description: plan.description }] : [];
      }),
    );
  }

}
