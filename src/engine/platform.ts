import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { getRuntime, type RuntimePlan } from '../../runtimes/index.js';
import type { ResolvedCron, ResolvedInstance, ResolvedManifest } from '../manifest/index.js';
import { DnsResponder, Router, startStaticServer } from '../proxy/index.js';
import { AppRoutes, routedHostname } from './routes.js';
import { portHolder } from '../shared/port-holder.js';
import { DiskSpace, filesystemOf, type Degraded } from '../shared/disk-space.js';
import { PaasmakerError } from '../shared/errors.js';
import { unreadyProcesses, type UnreadyProcess } from './unready.js';
import { raiseDescriptorLimit } from '../shared/descriptors.js';
import { currentOwner, ownerAlive, type Owner } from '../shared/owner.js';
import { ensurePrivateDir, homeLayout, paasmakerHome, type HomeLayout } from '../shared/paths.js';
import { freePort } from '../shared/ports.js';
import { serviceEnvironment, Services } from '../services/index.js';
import { State, type TrafficRecord } from '../state/index.js';
import {
  reapLeftovers,
  startKeeper,
  Supervisor,
  type JournalEntry,
  type Keeper,
  type ProcessInfo,
  type ProcessState,
} from '../supervisor/index.js';
import { instanceEnvironment } from './environment.js';
import { Jobs } from './jobs.js';
import { recordLivenessRestarts } from './liveness.js';
import { ProjectReloads } from './project-reloads.js';
import { RollingUpdates } from './rolling.js';
import type { RunningApp } from './running-app.js';
import { CronScheduler } from './crons.js';
import { parseProcessKey, processKey, type PlatformEvents } from './events.js';
import { prepareFingerprint, prepareSteps } from './prepare.js';
import { listProcesses, type ProcessRow } from './queries.js';
import { runCommand } from './run-command.js';

export interface PlatformOptions {
  /** PAASMAKER_HOME; defaults from the environment. */
  home?: string;
  /** The environment apps inherit (PATH, HOME, ...). Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Start the orphan-proof keeper (default true). */
  keeper?: boolean;
  backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  /** Start the router on this port (0: any free one), with at most maxConnections clients open. Without it, apps are reached on their own ports only. */
  proxy?: { port: number; hosts?: string[]; maxConnections?: number };
  /** Answer DNS for *.local.paasmaker on 127.0.0.1:port (0: any free one). Not fatal when the port is taken. */
  dns?: { port: number };
}

export interface ReapReport {
  reaped: number;
  recycled: number;
  gone: number;
}


const SETTLED: ReadonlySet<ProcessState> = new Set(['running', 'backoff', 'crashed', 'stopped']);
/** Traffic counts are kept for a day (the longest stats window), pruned every ten minutes. */
const TRAFFIC_KEPT_S = 86_400;
const TRAFFIC_PRUNE_EVERY_S = 600;

/**
 * The platform: owns state, the supervisor and the keeper, applies a
 * project's desired state and reports everything through typed events. It
 * knows nothing of terminals or HTTP; every face is a client of it.
 */
export class Platform extends EventEmitter<PlatformEvents> {
  readonly layout: HomeLayout;
  readonly state: State;
  readonly owner: Owner;
  /** What the previous run left behind and open() cleaned up. */
  reapReport: ReapReport = { reaped: 0, recycled: 0, gone: 0 };

  private readonly env: NodeJS.ProcessEnv;
  private readonly supervisor: Supervisor;
  private readonly keeper?: Keeper;
  private readonly ownerToken = randomBytes(12).toString('hex');
  private readonly running = new Map<string, RunningApp>();
  private readonly rolling: RollingUpdates;
  private readonly reloads: ProjectReloads;
  /** Every action, as a job tree with states and logs. */
  readonly jobs: Jobs;
  readonly services: Services;
  private router?: Router;
  private routes?: AppRoutes;
  private dnsResponder?: DnsResponder;
  /** Why the DNS responder is not running, when it was asked for and could not start. */
  dnsProblem?: string;
  private trafficTimer?: NodeJS.Timeout;
  /** Traffic batches not yet in state.db: written on the next flush that finds room. */
  private trafficBacklog: TrafficRecord[][] = [];
  private trafficPrunedAt = 0;
  /** Process groups alive now, as journaled: journaled again when a full disk dropped the records. */
  private readonly spawned = new Map<number, JournalEntry>();
  /** Whether the disk holding PAASMAKER_HOME has room; when it has not, the platform runs degraded. */
  readonly space: DiskSpace;
  private closed = false;
  private stateOpen = true;
  /** Aborts prepare steps still running when the platform closes. */
  private readonly aborter = new AbortController();

  private constructor(options: PlatformOptions) {
    super();
    this.layout = homeLayout(options.home ?? paasmakerHome(options.env));
    try {
      ensurePrivateDir(this.layout.root);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new PaasmakerError(code === 'ENOSPC' || code === 'EDQUOT' ? 'DISK_FULL' : 'STATE_UNWRITABLE', `PAASMAKER_HOME ${this.layout.root} cannot be created (${code})`, {
        hint: 'set PAASMAKER_HOME to a folder you own on a disk with room, or make its parent writable',
        cause: error,
      });
    }
    this.env = options.env ?? process.env;
    this.owner = currentOwner();
    this.space = new DiskSpace(this.layout.root);
    this.state = State.open(this.layout.stateDb, { space: this.space, fullCheck: true });
    if (!this.space.hasRoom()) {
      this.state.close();
      const filesystem = filesystemOf(this.layout.root);
      throw new PaasmakerError('DISK_FULL', `no space left on the disk holding ${this.layout.root} (${filesystem.mountPoint}): Paasmaker needs room for its state and logs`, {
        hint: `free space on ${filesystem.mountPoint} (see: df -h ${this.layout.root}), then run the command again`,
      });
    }
    this.keeper = options.keeper === false ? undefined : startKeeper({ ownerToken: this.ownerToken });
    this.supervisor = new Supervisor({ keeper: this.keeper, backoff: options.backoff, space: this.space });
    this.jobs = new Jobs(this.state, this.owner, this.layout.logs, (event) => this.emit('job.update', event), this.space);
    this.space.on('change', (degraded) => this.degradedChanged(degraded));
    this.services = new Services({
      home: this.layout.root,
      state: this.state,
      supervisor: this.supervisor,
      env: this.env,
      say: (line) => this.emit('log.line', { app: '', source: 'services', stream: 'system', line, time: Date.now() }),
    });
    const platform = this;
    this.rolling = new RollingUpdates({
      supervisor: this.supervisor,
      state: this.state,
      running: this.running,
      get closed() {
        return platform.closed;
      },
      get router() {
        return platform.router;
      },
      get routes() {
        return platform.routes;
      },
      emit: (event, payload) => (platform.emit as (event: string, payload: unknown) => boolean)(event, payload),
      startProcess: (app, instance, index, generation) => platform.startProcess(app, instance, index, generation),
      prepare: (manifest, instance, plan, force, services) => platform.prepare(manifest, instance, plan, force, services),
      recordProcess: (info) => platform.recordProcess(info),
      jobs: this.jobs,
    });
    this.reloads = new ProjectReloads({
      running: this.running,
      jobs: this.jobs,
      services: this.services,
      home: this.layout.root,
      env: this.env,
      get closed() {
        return platform.closed;
      },
      apply: (manifest) => platform.apply(manifest),
      stopApp: (name) => platform.stopApp(name),
      reload: (name, options) => platform.reload(name, options),
      provisionServices: (manifest) => platform.provisionServices(manifest),
      restartCrons: (app) => {
        app.crons?.stop();
        platform.startCrons(app);
      },
    });
    this.wireSupervisor();
  }

  static async open(options: PlatformOptions = {}): Promise<Platform> {
    raiseDescriptorLimit();
    const platform = new Platform(options);
    try {
      await platform.reapLeftovers();
      if (options.proxy) await platform.startRouter(options.proxy);
      if (options.dns) await platform.startDns(options.dns.port);
    } catch (error) {
      await platform.close();
      throw error;
    }
    return platform;
  }

  /** The router's port, when it runs. */
  get routerPort(): number | undefined {
    return this.router?.port;
  }

  /** The URL a browser opens for an app's routed instance, when the router runs. */
  appUrl(app: string): string | undefined {
    return this.router ? `http://${app}.localhost:${this.router.port}/` : undefined;
  }

  private async startRouter(proxy: { port: number; hosts?: string[]; maxConnections?: number }): Promise<void> {
    const router = new Router({ port: proxy.port, hosts: proxy.hosts, maxConnections: proxy.maxConnections });
    try {
      await router.listen();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      const holder = portHolder(proxy.port);
      throw new PaasmakerError('PORT_IN_USE', `the router's port ${proxy.port} is taken${holder ? ` by ${holder.command} (pid ${holder.pid})` : ''}`, {
        hint: 'choose another with --proxy-port N (or PAASMAKER_PROXY_PORT), or stop what holds it',
      });
    }
    this.router = router;
    this.routes = new AppRoutes(router.table, this.supervisor);
    // Traffic leaves memory once a second, in one batch.
    this.trafficTimer = setInterval(() => this.flushTraffic(), 1000);
    this.trafficTimer.unref();
  }

  get dnsPort(): number | undefined {
    return this.dnsResponder?.port;
  }

  private async startDns(port: number): Promise<void> {
    const responder = new DnsResponder({ port });
    try {
      await responder.listen();
      this.dnsResponder = responder;
    } catch (error) {
      const holder = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? ' (taken)' : `: ${(error as Error).message}`;
      this.dnsProblem = `the DNS responder for *.local.paasmaker could not use 127.0.0.1:${port}${holder}; <app>.localhost still works`;
    }
  }

  /**
   * Traffic leaves memory in one batch. While the disk is full batches wait
   * (the last ten minutes of them) and the live tick goes on.
   */
  private flushTraffic(): void {
    if (!this.router || !this.stateOpen) return;
    const samples = this.router.traffic.drain();
    if (samples.length > 0) {
      const at = Math.floor(Date.now() / 1000);
      this.trafficBacklog.push(samples.map((sample) => ({ ...sample, at })));
      if (this.trafficBacklog.length > 600) this.trafficBacklog.shift();
      this.emit('traffic.tick', { at, samples });
    }
    while (this.trafficBacklog.length > 0 && !this.space.degraded) {
      this.state.traffic.record(this.trafficBacklog[0]!);
      if (!this.space.degraded) this.trafficBacklog.shift();
    }
    // Counts older than the longest window anyone can ask for (a day) only grow state.db.
    const now = Date.now() / 1000;
    if (now - this.trafficPrunedAt >= TRAFFIC_PRUNE_EVERY_S && !this.space.degraded) {
      this.trafficPrunedAt = now;
      this.state.traffic.prune(Math.floor(now) - TRAFFIC_KEPT_S);
    }
  }

  /** Why the platform runs degraded (a full disk), or undefined when it does not. */
  get degraded(): Degraded | undefined {
    return this.space.degraded;
  }

  /**
   * Degraded mode: routing and apps go on; state and logs wait for room. Once
   * the probe finds room, what the platform knows now is written again.
   */
  private degradedChanged(degraded: Degraded | undefined): void {
    const say = (line: string) => this.emit('log.line', { app: '', source: 'paasmaker', stream: degraded ? 'err' : 'system', line, time: Date.now() });
    if (degraded) {
      say(`degraded: ${degraded.reason}; apps and routing go on, state and logs are written again once there is room`);
      return;
    }
    say('the disk has room again: writing state and logs again');
    if (!this.stateOpen) return;
    // Every write of this platform was dropped while degraded: state.db is rebuilt from what it knows now.
    const mine = (record: { ownerPid: number | null; ownerStart: string | null }) => record.ownerPid === this.owner.pid && record.ownerStart === this.owner.startTime;
    for (const record of this.state.apps.list()) {
      // Stopped while the disk was full.
      if (mine(record) && !this.running.has(record.name)) {
        this.state.processes.markStopped(record.name);
        this.state.apps.release(record.name);
      }
    }
    for (const app of this.running.values()) {
      const name = app.manifest.application.name;
      // An app started while the disk was full was never recorded.
      if (!this.state.apps.get(name)) this.state.apps.upsert({ name, directory: app.manifest.directory, manifest: app.manifest.file, state: 'running', ownerPid: this.owner.pid, ownerStart: this.owner.startTime });
      // Its quantities as scaled now; slots scaled away go with the rest.
      this.state.instances.replace(name, app.manifest.instances.map((instance) => ({ app: name, name: instance.name, runtime: instance.runtime.name, command: instance.command ?? null, quantity: instance.quantity, standalone: instance.standalone })));
      this.state.processes.clear(name);
      for (const key of app.slots.values()) {
        const info = this.supervisor.info(key);
        if (info) this.recordProcess(info);
      }
    }
    for (const entry of this.state.journal.list()) if (mine(entry) && !this.spawned.has(entry.pid)) this.state.journal.forget(entry.pid);
    for (const entry of this.spawned.values()) this.journal(entry);
    this.jobs.rewrite();
    this.flushTraffic();
  }

  /** Runs a project: resolves runtimes, prepares, starts every instance and waits for each first outcome. */
  async apply(manifest: ResolvedManifest, options: { forcePrepare?: boolean } = {}): Promise<void> {
    await this.jobs.run(manifest.application.name, `up ${manifest.application.name}`, () => this.applyNow(manifest, options));
  }

  private async applyNow(manifest: ResolvedManifest, options: { forcePrepare?: boolean }): Promise<void> {
    const name = manifest.application.name;
    this.refuseWhileFull(name);
    const existing = this.state.apps.get(name);
    if (
      existing &&
      existing.ownerPid !== this.owner.pid &&
      existing.state !== 'stopped' &&
      ownerAlive(existing.ownerPid, existing.ownerStart)
    ) {
      throw new PaasmakerError('APP_RUNNING', `app "${name}" is already running (paasmaker pid ${existing.ownerPid}, from ${existing.directory})`, {
        hint: `stop it first with: paasmaker down ${existing.directory}`,
      });
    }
    if (this.running.has(name)) await this.stopApp(name);

    // Resolve every runtime before starting anything: a missing interpreter fails fast.
    const plans = new Map<string, RuntimePlan>();
    for (const instance of manifest.instances) {
      plans.set(instance.name, await getRuntime(instance.runtime.name).plan({ manifest, instance, home: this.layout.root, env: this.env }));
    }
    const app: RunningApp = { manifest, plans, keys: [], staticServers: [], serviceEnv: {}, generation: 0, slots: new Map() };
    this.running.set(name, app);
    this.state.transaction(() => {
      this.state.apps.upsert({
        name,
        directory: manifest.directory,
        manifest: manifest.file,
        state: 'starting',
        ownerPid: this.owner.pid,
        ownerStart: this.owner.startTime,
      });
      this.state.instances.replace(
        name,
        manifest.instances.map((instance) => ({
          app: name,
          name: instance.name,
          runtime: instance.runtime.name,
          command: instance.command ?? null,
          quantity: instance.quantity,
          standalone: instance.standalone,
        })),
      );
      this.state.processes.clear(name);
    });
    this.refuseWhileFull(name);

    this.routes?.register(app.manifest, app.plans);
    try {
      app.serviceEnv = await this.provisionServices(manifest);
      for (const instance of manifest.instances) {
        await this.prepare(manifest, instance, plans.get(instance.name)!, options.forcePrepare ?? false, app.serviceEnv);
      }
      // depends_on: an instance type starts once the types it names have settled (ready, or failed).
      const starting = new Map<string, Promise<ProcessState[]>>();
      const start = (instance: ResolvedInstance): Promise<ProcessState[]> => {
        let started = starting.get(instance.name);
        if (!started) {
          const dependencies = manifest.instances.filter((candidate) => instance.depends_on.includes(candidate.name));
          started = this.jobs.run(
            name,
            `start ${instance.name}`,
            async (job) => {
              const states = await Promise.all(Array.from({ length: instance.quantity }, (_, index) => this.startProcess(app, instance, index)));
              const bad = states.filter((state) => state !== 'running');
              if (bad.length > 0) this.jobs.transition(job, 'failed', `${bad.length} of ${states.length} process(es) ${bad.join(', ')}`);
              return states;
            },
            dependencies.length > 0 ? { detail: `after ${dependencies.map((other) => other.name).join(', ')}`, waitFor: () => Promise.all(dependencies.map(start)) } : {},
          );
          starting.set(instance.name, started);
        }
        return started;
      };
      await Promise.all(manifest.instances.map(start));
      if (!this.closed) {
        this.state.apps.setState(name, 'running');
        this.startCrons(app);
      }
    } catch (error) {
      await this.stopApp(name);
      this.state.apps.setState(name, 'failed');
      throw error;
    }
  }

  /** An app is not started while the disk is full: it could not be recorded, nor its output kept. */
  private refuseWhileFull(name: string): void {
    if (!this.space.degraded) return;
    this.running.delete(name);
    const filesystem = filesystemOf(this.layout.root);
    throw new PaasmakerError('DISK_FULL', `app "${name}" was not started: ${this.space.degraded.reason}`, {
      hint: `free space on ${filesystem.mountPoint} (see: df -h ${this.layout.root}); Paasmaker notices by itself, then run this again. Apps already running go on.`,
    });
  }

  /** Stops one app this platform runs. */
  async stopApp(name: string): Promise<void> {
    const app = this.running.get(name);
    if (!app) return;
    this.state.apps.setState(name, 'stopping');
    app.crons?.stop();
    await app.watcher?.close();
    await app.configWatcher?.close();
    app.watcher = undefined;
    await Promise.all([
      ...app.keys.map((key) => this.supervisor.stop(key)),
      ...app.staticServers.map((server) => closeServer(server)),
    ]);
    this.running.delete(name);
    this.routes?.remove(name);
    this.state.processes.markStopped(name);
    this.state.apps.release(name);
  }

  /**
   * Stops an app wherever it runs: here, in another live Paasmaker process
   * (asked to stop with SIGTERM), or left over by a dead one (reaped).
   */
  async down(name: string, options: { timeoutMs?: number } = {}): Promise<'stopped' | 'not-running'> {
    if (this.running.has(name)) {
      await this.stopApp(name);
      return 'stopped';
    }
    const app = this.state.apps.get(name);
    if (!app) throw new PaasmakerError('APP_NOT_FOUND', `no app named "${name}" has run on this platform`, { hint: 'see the known apps with: paasmaker ps' });
    if (app.ownerPid && ownerAlive(app.ownerPid, app.ownerStart)) {
      process.kill(app.ownerPid, 'SIGTERM');
      const deadline = Date.now() + (options.timeoutMs ?? 15_000);
      while (ownerAlive(app.ownerPid, app.ownerStart)) {
        if (Date.now() > deadline) throw new PaasmakerError('APP_RUNNING', `app "${name}" did not stop within ${Math.round((options.timeoutMs ?? 15_000) / 1000)} s (paasmaker pid ${app.ownerPid})`, { hint: `kill it with: kill ${app.ownerPid}` });
        await delay(50);
      }
      return 'stopped';
    }
    const wasRunning = app.state !== 'stopped';
    await this.reapLeftovers();
    this.state.processes.markStopped(name);
    this.state.apps.release(name);
    return wasRunning ? 'stopped' : 'not-running';
  }

  /** Watches an app's project and reloads it on save: see ProjectReloads. */
  watch(name: string): Promise<void> {
    return this.reloads.watch(name);
  }

  /** The app's crons, on their schedules; uri crons go through the router like a browser's request. */
  private startCrons(app: RunningApp): void {
    if (!app.manifest.instances.some((instance) => instance.crons.length > 0)) return;
    app.crons = new CronScheduler(app.manifest, this.state, this.cronRunner(app));
    app.crons.start();
  }

  /** Runs one cron of an app now (paasmaker cron run, POST /api/v1/apps/{app}/crons/{name}/run); onJob learns its job's id as it starts. */
  async runCron(manifest: ResolvedManifest, cronName: string, onJob?: (id: string) => void): Promise<{ ok: boolean; detail: string; job: string }> {
    const instance = manifest.instances.find((candidate) => candidate.crons.some((cron) => cron.name === cronName));
    if (!instance) {
      const names = manifest.instances.flatMap((candidate) => candidate.crons.map((cron) => cron.name));
      throw new PaasmakerError('CRON_NOT_FOUND', `no cron "${cronName}" in ${manifest.file}`, { hint: names.length > 0 ? `crons: ${names.join(', ')}` : 'declare one under instances.<type>.crons' });
    }
    const running = this.running.get(manifest.application.name);
    const app: RunningApp = running ?? { manifest, plans: new Map(), keys: [], staticServers: [], serviceEnv: await this.provisionServices(manifest), generation: 0, slots: new Map() };
    const scheduler = new CronScheduler(manifest, this.state, this.cronRunner(app));
    let job = '';
    const outcome = await scheduler.run(instance, instance.crons.find((cron) => cron.name === cronName)!, null, (id) => {
      job = id;
      onJob?.(id);
    });
    return { ...outcome, job };
  }

  private cronRunner(app: RunningApp) {
    const name = app.manifest.application.name;
    return {
      httpTarget: (instance: ResolvedInstance) => {
        if (this.router && this.running.get(name) === app) return { port: this.router.port, host: routedHostname(app.manifest, instance.name) };
        // Not run by this platform (cron run from another terminal): a running process's own port.
        const row = this.state.processes.list(name).find((process) => process.instance === instance.name && process.state === 'running' && process.port !== null);
        return row ? { port: row.port!, host: routedHostname(app.manifest, instance.name) } : undefined;
      },
      runCommand: async (instance: ResolvedInstance, cron: ResolvedCron) => {
        const plan = app.plans.get(instance.name) ?? (await getRuntime(instance.runtime.name).plan({ manifest: app.manifest, instance, home: this.layout.root, env: this.env }));
        const env = instanceEnvironment({ base: this.env, manifest: app.manifest, instance, plan, index: 0, ownerToken: this.ownerToken, services: app.serviceEnv });
        const started = Date.now();
        const result = await runCommand(cron.command!, {
          cwd: app.manifest.directory,
          env,
          keeper: this.keeper,
          signal: this.aborter.signal,
          onLine: (line, stream) => this.emit('log.line', { app: name, source: `cron:${cron.name}`, stream, line, time: Date.now() }),
        });
        const how = result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`;
        return { ok: result.code === 0, detail: `${how} in ${Date.now() - started} ms` };
      },
      say: (line: string, stream: 'system' | 'err' = 'system') => this.emit('log.line', { app: name, source: 'cron', stream, line, time: Date.now() }),
      asJob: (title: string, fn: () => Promise<{ ok: boolean; detail: string }>, onJob?: (id: string) => void) =>
        this.jobs.run(name, title, async (job) => {
          onJob?.(job.id);
          const outcome = await fn();
          if (outcome.ok) job.detail = outcome.detail;
          else this.jobs.transition(job, 'failed', outcome.detail);
          return outcome;
        }),
    };
  }

  /** A rolling reload of an app's instance types (all by default): see RollingUpdates. */
  reload(name: string, options: { instances?: string[]; reason?: string } = {}): Promise<boolean> {
    return this.rolling.reload(name, options);
  }

  /** A rolling restart a user asked for: an unknown app or instance type is an error (see RollingUpdates). */
  restart(name: string, instanceName?: string): Promise<boolean> {
    return this.rolling.restart(name, instanceName);
  }

  /** Changes how many processes an instance type runs, live: see RollingUpdates. */
  scale(name: string, instanceName: string, quantity: number): Promise<{ from: number; to: number }> {
    return this.rolling.scale(name, instanceName, quantity);
  }

  /** The app's routed processes that are not running (empty when it is up): see unreadyProcesses. */
  unready(name: string): UnreadyProcess[] {
    const app = this.running.get(name);
    return app ? unreadyProcesses(app, this.supervisor) : [];
  }

  /** Process slots as a listing shows them. */
  processes(app?: string): ProcessRow[] {
    return listProcesses(this.state, { app, selfPid: this.owner.pid });
  }

  runningApps(): ResolvedManifest[] {
    return [...this.running.values()].map((app) => app.manifest);
  }

  /** A running app's manifest and its services' credentials, as its instances got them. */
  runningEnvironment(app: string): { manifest: ResolvedManifest; services: Record<string, string> } | undefined {
    const running = this.running.get(app);
    return running && { manifest: running.manifest, services: running.serviceEnv };
  }

  /** Recent output of a process, newest last. */
  tail(app: string, instance: string, index: number, lines = 20) {
    const key = this.running.get(app)?.slots.get(`${instance}.${index}`) ?? processKey(app, instance, index);
    return this.supervisor.tail(key, lines);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.aborter.abort();
    await Promise.all([...this.running.keys()].map((name) => this.stopApp(name)));
    // Database servers last: the apps have let go of their connections.
    await this.services.close();
    if (this.trafficTimer) clearInterval(this.trafficTimer);
    this.flushTraffic();
    await this.router?.close();
    await this.dnsResponder?.close();
    this.keeper?.close();
    this.space.close();
    this.stateOpen = false;
    this.state.close();
  }

  private async reapLeftovers(): Promise<void> {
    // Jobs a dead platform was running can never finish: say so.
    for (const job of this.state.jobs.unfinished()) {
      if (job.ownerPid !== this.owner.pid && !ownerAlive(job.ownerPid, job.ownerStart)) {
        this.state.jobs.setState(job.id, 'aborted', `paasmaker (pid ${job.ownerPid}) stopped while it ran`);
      }
    }
    const stale = this.state.journal
      .list()
      .filter((entry) => entry.ownerPid !== this.owner.pid && !ownerAlive(entry.ownerPid, entry.ownerStart));
    if (stale.length > 0) {
      const entries: JournalEntry[] = stale.map((entry) => ({
        id: entry.processId,
        pid: entry.pid,
        pgid: entry.pgid,
        startTime: entry.startTime,
        command: entry.command,
        port: entry.port ?? undefined,
      }));
      const result = await reapLeftovers(entries);
      this.reapReport = {
        reaped: this.reapReport.reaped + result.reaped.length,
        recycled: this.reapReport.recycled + result.recycled.length,
        gone: this.reapReport.gone + result.gone.length,
      };
      for (const entry of stale) this.state.journal.forget(entry.pid);
    }
    for (const app of this.state.apps.list()) {
      if (app.state !== 'stopped' && app.ownerPid !== this.owner.pid && !ownerAlive(app.ownerPid, app.ownerStart)) {
        this.state.processes.markStopped(app.name);
        this.state.apps.release(app.name);
      }
    }
  }

  /** Provisions the app's services (a job) and returns their credentials as environment variables. */
  async provisionServices(manifest: ResolvedManifest): Promise<Record<string, string>> {
    const app = manifest.application.name;
    if (manifest.services.length === 0) return serviceEnvironment(app, []);
    const title = `services ${manifest.services.map((service) => service.name).join(', ')}`;
    return this.jobs.run(app, title, async () => serviceEnvironment(app, await this.services.provision(manifest)));
  }

  /**
   * The environment a one-off command of the app gets (`paasmaker run`): the
   * instance's (the routed one by default) with its runtime's PATH, without a port.
   */
  async commandEnvironment(manifest: ResolvedManifest, instanceName?: string): Promise<Record<string, string>> {
    const instance = instanceName ? manifest.instances.find((candidate) => candidate.name === instanceName) : (manifest.instances.find((candidate) => candidate.name === 'web') ?? manifest.instances[0]);
    if (!instance) {
      throw new PaasmakerError('INSTANCE_NOT_FOUND', `no instance type "${instanceName}" in ${manifest.file}`, { hint: `instance types: ${manifest.instances.map((candidate) => candidate.name).join(', ')}` });
    }
    const services = await this.provisionServices(manifest);
    const plan = await getRuntime(instance.runtime.name).plan({ manifest, instance, home: this.layout.root, env: this.env });
    return instanceEnvironment({ base: this.env, manifest, instance, plan, index: 0, ownerToken: this.ownerToken, services });
  }

  private async prepare(manifest: ResolvedManifest, instance: ResolvedInstance, plan: RuntimePlan, force: boolean, services: Record<string, string>): Promise<void> {
    const app = manifest.application.name;
    const steps = prepareSteps(instance, plan);
    if (steps.length === 0) return;
    await this.jobs.run(app, `prepare ${instance.name}`, async (job) => {
      const fingerprint = await prepareFingerprint(manifest.directory, instance, plan);
      if (!force && this.state.prepareRuns.fingerprint(app, instance.name) === fingerprint) {
        job.detail = 'up to date';
        return;
      }
      const source = `${instance.name}:prepare`;
      const env = instanceEnvironment({ base: this.env, manifest, instance, plan, index: 0, ownerToken: this.ownerToken, services });
      // Aborting the job, or closing the platform, stops the step that runs.
      const aborter = new AbortController();
      job.onAbort(() => aborter.abort());
      const recent: string[] = [];
      for (const step of steps) {
        this.emit('log.line', { app, source, stream: 'system', line: `$ ${step}`, time: Date.now() });
        job.log(`$ ${step}`);
        const result = await runCommand(step, {
          cwd: manifest.directory,
          env,
          keeper: this.keeper,
          signal: AbortSignal.any([this.aborter.signal, aborter.signal]),
          onLine: (line, stream) => {
            recent.push(line);
            if (recent.length > 20) recent.shift();
            job.log(line, stream);
            this.emit('log.line', { app, source, stream, line, time: Date.now() });
          },
        });
        if (result.code !== 0) {
          const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
          throw new PaasmakerError('PREPARE_FAILED', `prepare of instance "${instance.name}" failed: \`${step}\` ${how}`, {
            detail: recent.length > 0 ? recent.map((line) => `  ${line}`).join('\n') : undefined,
            hint: `fix the step in ${manifest.file} (or the project it builds), then run paasmaker up again`,
          });
        }
      }
      this.state.prepareRuns.record(app, instance.name, fingerprint);
    });
  }

  /**
   * Starts one process of a slot and resolves with its first settled state.
   * Generation 0 takes the slot at once; a reload's process (generation > 0)
   * runs beside the slot's current one until reload() hands the slot over.
   */
  private async startProcess(app: RunningApp, instance: ResolvedInstance, index: number, generation = 0): Promise<ProcessState> {
    const manifest = app.manifest;
    const name = manifest.application.name;
    const plan = app.plans.get(instance.name)!;
    const port = instance.standalone ? undefined : await freePort();
    const key = processKey(name, instance.name, index, generation);

    if (plan.serve) {
      if (port === undefined) {
        throw new PaasmakerError('MANIFEST_INVALID', `instance "${instance.name}" uses the static runtime, which needs a port`, {
          hint: `remove "standalone: true" from instances.${instance.name} in ${manifest.file}`,
        });
      }
      app.staticServers.push(await startStaticServer(plan.serve.root, port));
      const record = { app: name, instance: instance.name, index, pid: null, port, restarts: 0, exitCode: null, exitSignal: null };
      this.state.processes.put({ ...record, state: 'running', runningSince: Date.now() });
      this.emit('instance.state', { app: name, instance: instance.name, index, state: 'running', previous: 'starting', port, restarts: 0 });
      return 'running';
    }

    const logDir = join(this.layout.logs, name);
    try {
      mkdirSync(logDir, { recursive: true, mode: 0o700 });
    } catch {
      // The log makes its folder itself, once it can (a full disk).
    }
    const settled = new Promise<ProcessState>((resolve) => {
      const onState = (info: ProcessInfo) => {
        if (info.id === key && SETTLED.has(info.state)) {
          this.supervisor.off('state', onState);
          resolve(info.state);
        }
      };
      this.supervisor.on('state', onState);
    });
    app.keys.push(key);
    if (generation === 0) app.slots.set(`${instance.name}.${index}`, key);
    this.supervisor.start({
      id: key,
      command: plan.command ?? instance.command!,
      startup: instance.startup,
      cwd: manifest.directory,
      env: instanceEnvironment({ base: this.env, manifest, instance, plan, index, port, ownerToken: this.ownerToken, services: app.serviceEnv }),
      port,
      health: instance.health,
      stopGraceMs: instance.stopTimeout * 1000,
      logFile: join(logDir, `${instance.name}.${index}.log`),
    });
    return settled;
  }

  private wireSupervisor(): void {
    this.supervisor.on('state', (info, previous) => {
      const key = parseProcessKey(info.id);
      if (!key || !this.running.has(key.app) || !this.stateOpen) return;
      const app = this.running.get(key.app)!;
      this.routes?.observe(info, previous);
      this.routes?.refresh(key.app, key.instance, app.keys);
      // A reload's process waiting beside the current one, or a retired one draining, is not the slot's.
      if (app.slots.get(`${key.instance}.${key.index}`) !== info.id) return;
      this.recordProcess(info);
      this.emit('instance.state', {
        app: key.app,
        instance: key.instance,
        index: key.index,
        state: info.state,
        previous,
        pid: info.pid,
        port: info.port,
        restarts: info.restarts,
        lastExit: info.lastExit,
        nextRestartAt: info.nextRestartAt,
      });
    });
    this.supervisor.on('line', (line) => {
      const key = parseProcessKey(line.id);
      if (!key) return;
      this.emit('log.line', { app: key.app, source: `${key.instance}.${key.index}`, stream: line.stream, line: line.line, time: line.time });
    });
    this.wireJournal();
    recordLivenessRestarts(this.supervisor, this.jobs, (app) => this.running.has(app) && this.stateOpen);
  }

  private recordProcess(info: ProcessInfo): void {
    const key = parseProcessKey(info.id);
    if (!key) return;
    this.state.processes.put({
      app: key.app,
      instance: key.instance,
      index: key.index,
      state: info.state,
      pid: info.pid ?? null,
      port: info.port ?? null,
      restarts: info.restarts,
      runningSince: info.state === 'running' ? (info.runningSince ?? Date.now()) : null,
      exitCode: info.lastExit?.code ?? null,
      exitSignal: info.lastExit?.signal ?? null,
    });
  }

  private wireJournal(): void {
    this.supervisor.on('spawn', (entry) => {
      this.spawned.set(entry.pid, entry);
      if (this.stateOpen) this.journal(entry);
    });
    this.supervisor.on('exit', (entry) => {
      this.spawned.delete(entry.pid);
      if (this.stateOpen) this.state.journal.forget(entry.pid);
    });
  }

  private journal(entry: JournalEntry): void {
    this.state.journal.record({
      pid: entry.pid,
      pgid: entry.pgid,
      startTime: entry.startTime,
      processId: entry.id,
      app: entry.id.split('/')[0] ?? null,
      command: entry.command,
      port: entry.port ?? null,
      ownerPid: this.owner.pid,
      ownerStart: this.owner.startTime,
    });
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

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
