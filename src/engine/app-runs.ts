import type { ResolvedManifest } from '../manifest/index.js';
import { stopStaticServer } from '../proxy/index.js';
import { filesystemOf, type DiskSpace } from '../shared/disk-space.js';
import { PaasmakerError } from '../shared/errors.js';
import { ownerAlive, type Owner } from '../shared/owner.js';
import type { State } from '../state/index.js';
import type { Supervisor } from '../supervisor/index.js';
import { recordDeploy } from './app-times.js';
import type { CronRuns } from './cron-runs.js';
import type { Edge } from './edge.js';
import type { EventSink } from './events.js';
import type { Jobs } from './jobs.js';
import type { Launcher } from './launcher.js';
import type { Leftovers } from './leftovers.js';
import type { Lifecycle } from './lifecycle.js';
import type { RunningApp } from './running-app.js';
import { recordInstances } from './process-reports.js';
import { unreadyProcesses } from './unready.js';
import type { VersionRuns } from './version-runs.js';
import type { Versions } from './versions.js';

export interface AppRunParts {
  /** PAASMAKER_HOME, named when its disk is full. */
  home: string;
  state: State;
  owner: Owner;
  space: DiskSpace;
  running: Map<string, RunningApp>;
  supervisor: Supervisor;
  edge: Edge;
  launcher: Launcher;
  crons: CronRuns;
  leftovers: Leftovers;
  jobs: Jobs;
  life: Lifecycle;
  events: EventSink;
  /** Deployed versions: a development up steps the current one back, and gives it the app's names again when it stops. */
  runs: VersionRuns;
  versions: Versions;
}

export interface ApplyOptions {
  /** Run prepare steps even when their inputs are unchanged. */
  forcePrepare?: boolean;
  /** Download no runtime version: one nothing installed fits is an error (up --offline). */
  offline?: boolean;
  /** Whether the daemon brings the app back when it starts again (false: a terminal holds it). */
  restore?: boolean;
  /** The daemon brings back an app it ran before it stopped: the same deploy going on, so its deploy time stays. */
  resumed?: boolean;
}

/** The apps' lives: starting a project's desired state, and stopping it wherever it runs. */
export class AppRuns {
  constructor(private readonly parts: AppRunParts) {}

  /**
   * Runs a project: resolves runtimes, prepares, starts every instance and
   * waits for each first outcome. With restore, whether the daemon brings the
   * app back when it starts again is recorded once it runs.
   */
  async apply(manifest: ResolvedManifest, options: ApplyOptions = {}): Promise<void> {
    const name = manifest.application.name;
    await this.parts.jobs.run(name, `up ${name}`, async (job) => {
      await this.applyNow(manifest, options);
      if (!options.resumed && !this.parts.life.closed) recordDeploy(this.parts, name, 'deploy');
      const app = this.parts.running.get(name);
      const unready = app && !this.parts.life.closed ? unreadyProcesses(app, this.parts.supervisor) : [];
      // It runs on, restarting what failed, but it is not up: the job says so, and why.
      if (unready.length === 0) return;
      for (const each of unready) job.log(`${each.process} ${each.reason}${each.hint ? `; hint: ${each.hint}` : ''}`, 'err');
      const first = unready[0]!;
      const more = unready.length > 1 ? ` (and ${unready.length - 1} more)` : '';
      this.parts.jobs.transition(job, 'failed', `not up: ${first.process}: ${first.hint ?? first.reason}${more}`);
    });
    if (options.restore !== undefined) this.parts.state.apps.setDaemon(name, options.restore);
  }

  private async applyNow(manifest: ResolvedManifest, options: { forcePrepare?: boolean; offline?: boolean }): Promise<void> {
    const { state, owner, running, edge, launcher, life } = this.parts;
    const name = manifest.application.name;
    this.refuseWhileFull(name);
    const existing = state.apps.get(name);
    if (existing && existing.ownerPid !== owner.pid && existing.state !== 'stopped' && ownerAlive(existing.ownerPid, existing.ownerStart)) {
      throw new PaasmakerError('APP_RUNNING', `app "${name}" is already running (paasmaker pid ${existing.ownerPid}, from ${existing.directory})`, {
        hint: `stop it first with: paasmaker down ${existing.directory}`,
      });
    }
    // The current version steps back to v<N>.APP.localhost while this up holds the app's names.
    if (running.get(name)?.version !== undefined) this.parts.runs.demote(name);
    else if (running.has(name)) await this.stop(name);

    const plans = await launcher.plans(manifest, { offline: options.offline });
    const app: RunningApp = { manifest, plans, keys: [], staticServers: [], serviceEnv: {}, generation: 0, slots: new Map() };
    running.set(name, app);
    state.transaction(() => {
      state.apps.upsert({ name, directory: manifest.directory, manifest: manifest.file, only: manifest.only, workspace: manifest.application.workspace, state: 'starting', ownerPid: owner.pid, ownerStart: owner.startTime });
      this.recordInstances(app);
      state.processes.clear(name);
    });
    try {
      this.refuseWhileFull(name);
    } catch (error) {
      await this.parts.versions.resume(name).catch(() => undefined);
      throw error;
    }

    edge.routes?.register(app.manifest, app.plans);
    try {
      app.serviceEnv = await launcher.provisionServices(manifest);
      for (const instance of manifest.instances) {
        await launcher.prepare(manifest, instance, plans.get(instance.name)!, options.forcePrepare ?? false, app.serviceEnv);
      }
      await launcher.startAll(app);
      if (!life.closed) {
        state.apps.setState(name, 'running');
        this.parts.crons.start(app);
      }
    } catch (error) {
      // The current version, stepped back for this up, answers again.
      await this.stop(name, { resume: true });
      if (!running.has(name)) state.apps.setState(name, 'failed');
      throw error;
    }
  }

  /** The app's instance types, with their quantities as scaled now. */
  recordInstances(app: RunningApp): void {
    recordInstances(this.parts.state, app.manifest, app.plans);
  }

  /** An app is not started while the disk is full: it could not be recorded, nor its output kept. */
  private refuseWhileFull(name: string): void {
    const { space, home } = this.parts;
    if (!space.degraded) return;
    this.parts.running.delete(name);
    const filesystem = filesystemOf(home);
    throw new PaasmakerError('DISK_FULL', `app "${name}" was not started: ${space.degraded.reason}`, {
      hint: `free space on ${filesystem.mountPoint} (see: df -h ${home}); Paasmaker notices by itself, then run this again. Apps already running go on.`,
    });
  }

  /**
   * Stops one app this platform runs (its front run). With resume, a
   * development up that ends gives the app's names back to its current
   * version, when one runs beside it.
   */
  async stop(name: string, options: { resume?: boolean } = {}): Promise<void> {
    const { state, running, supervisor, edge } = this.parts;
    const app = running.get(name);
    if (!app) return;
    // The current version, running beside this up, takes the names first; then this up drains and stops.
    if (options.resume && app.version === undefined && !this.parts.life.closed && this.parts.versions.takeBack(name)) {
      await this.parts.runs.retire(app);
      return;
    }
    state.apps.setState(name, 'stopping');
    app.crons?.stop();
    await app.watcher?.close();
    await app.configWatcher?.close();
    app.watcher = undefined;
    await Promise.all([...app.keys.map((key) => supervisor.stop(key)), ...app.staticServers.map((server) => stopStaticServer(server))]);
    running.delete(name);
    edge.routes?.remove(name);
    state.processes.markStopped(name);
    state.apps.release(name);
    if (options.resume && app.version === undefined && !this.parts.life.closed) {
      await this.parts.versions.resume(name).catch((error: unknown) => {
        this.parts.events.emit('log.line', { app: name, source: 'paasmaker', stream: 'system', line: `the current version could not take ${name}.localhost back: ${(error as Error).message}`, time: Date.now() });
      });
    }
  }

  /**
   * Stops an app wherever it runs: here, in another live Paasmaker process
   * (asked to stop with SIGTERM), or left over by a dead one (reaped). An app
   * taken down is not brought back by the daemon.
   */
  async down(name: string, options: { timeoutMs?: number } = {}): Promise<'stopped' | 'not-running'> {
    const { state, running } = this.parts;
    state.apps.setDaemon(name, false);
    // Every version of it too: the daemon does not bring the current one back.
    const versions = this.parts.runs.standbyOf(name).length;
    await this.parts.versions.down(name);
    if (running.has(name)) {
      await this.stop(name);
      return 'stopped';
    }
    if (versions > 0) return 'stopped';
    const app = state.apps.get(name);
    if (!app) throw new PaasmakerError('APP_NOT_FOUND', `no app named "${name}" has run on this platform`, { hint: 'see the known apps with: paasmaker ps' });
    if (app.ownerPid && ownerAlive(app.ownerPid, app.ownerStart)) {
      process.kill(app.ownerPid, 'SIGTERM');
      const timeoutMs = options.timeoutMs ?? 15_000;
      const deadline = Date.now() + timeoutMs;
      while (ownerAlive(app.ownerPid, app.ownerStart)) {
        if (Date.now() > deadline) throw new PaasmakerError('APP_RUNNING', `app "${name}" did not stop within ${Math.round(timeoutMs / 1000)} s (paasmaker pid ${app.ownerPid})`, { hint: `kill it with: kill ${app.ownerPid}` });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return 'stopped';
    }
    const wasRunning = app.state !== 'stopped';
    await this.parts.leftovers.reap();
    state.processes.markStopped(name);
    state.apps.release(name);
    return wasRunning ? 'stopped' : 'not-running';
  }
}
