import { loadManifestAsync, type ResolvedManifest } from '../manifest/index.js';
import { stopStaticServer } from '../proxy/index.js';
import { PaasmakerError } from '../shared/errors.js';
import type { Owner } from '../shared/owner.js';
import type { State, VersionRecord } from '../state/index.js';
import type { Supervisor } from '../supervisor/index.js';
import { recordDeploy } from './app-times.js';
import type { CronRuns } from './cron-runs.js';
import type { Edge } from './edge.js';
import { runId, type EventSink } from './events.js';
import type { Launcher } from './launcher.js';
import { recordInstances, recordProcess } from './process-reports.js';
import { drainAndStop } from './rolling.js';
import { runOf, type RunningApp } from './running-app.js';
import type { Lifecycle } from './lifecycle.js';
import { unreadyProcesses } from './unready.js';

export interface VersionRunParts {
  life: Lifecycle;
  state: State;
  owner: Owner;
  /** Each app's front run: what APP.localhost reaches (a development up, or the current version). */
  running: Map<string, RunningApp>;
  /** Deployed versions running beside the front one, by run id ("shop@v3"): previews, or the current version while a development up holds the app's names. */
  standby: Map<string, RunningApp>;
  supervisor: Supervisor;
  edge: Edge;
  launcher: Launcher;
  crons: CronRuns;
  events: EventSink;
}

/** A version's manifest, read from its own folder, under the app's name (a deploy may name the app itself). */
export async function versionManifest(app: string, directory: string): Promise<ResolvedManifest> {
  const manifest = await loadManifestAsync(directory);
  return manifest.application.name === app ? manifest : { ...manifest, application: { ...manifest.application, name: app } };
}

/**
 * The processes of deployed versions: starting one beside whatever serves,
 * making it the app's front run (the router moves APP.localhost to it in one
 * step), stepping it back when a development up takes the app's names, and
 * stopping it. Every version of an app gets the app's services, with the
 * same credentials.
 */
export class VersionRuns {
  /** Starts under way, by run id: a second ask for the same version waits for the first. */
  private readonly starting = new Map<string, Promise<RunningApp>>();

  constructor(private readonly parts: VersionRunParts) {}

  /** The run of version n of an app, when it runs (front or standby). */
  find(app: string, version: number): RunningApp | undefined {
    const front = this.parts.running.get(app);
    return front?.version === version ? front : this.parts.standby.get(runId(app, version));
  }

  /** Every version of the app that runs beside the front run. */
  standbyOf(app: string): RunningApp[] {
    return [...this.parts.standby.values()].filter((run) => run.manifest.application.name === app);
  }

  /**
   * Starts a version beside the front run, answering as v<N>.APP.localhost
   * only, and resolves once every process settled. One that is not ready
   * (or a one-shot that failed) is stopped again, and the error says why.
   */
  start(app: string, version: VersionRecord): Promise<RunningApp> {
    const existing = this.find(app, version.number);
    if (existing) return Promise.resolve(existing);
    const id = runId(app, version.number);
    let started = this.starting.get(id);
    if (!started) {
      started = this.startNow(app, version).finally(() => this.starting.delete(id));
      this.starting.set(id, started);
    }
    return started;
  }

  private async startNow(app: string, version: VersionRecord): Promise<RunningApp> {
    const { launcher, edge, standby } = this.parts;
    if (this.parts.life.closed) throw new PaasmakerError('DEPLOY_FAILED', `v${version.number} of ${app} was not started: the platform is stopping`);
    const manifest = await versionManifest(app, version.directory);
    const plans = await launcher.plans(manifest);
    const run: RunningApp = { manifest, plans, keys: [], staticServers: [], serviceEnv: {}, generation: 0, slots: new Map(), version: version.number };
    const key = runOf(run);
    standby.set(key, run);
    edge.routes?.register(manifest, plans, { key, version: version.number, front: false });
    try {
      run.serviceEnv = await launcher.provisionServices(manifest);
      await launcher.startAll(run);
    } catch (error) {
      await this.stop(run);
      throw error;
    }
    try {
      this.assertUp(run);
    } catch (error) {
      await this.stop(run);
      throw error;
    }
    return run;
  }

  /** Throws DEPLOY_FAILED, naming the process and its last lines, unless every process of the run does what it is for. */
  assertUp(run: RunningApp): void {
    const failed = this.notUp(run);
    if (!failed) return;
    const name = `v${run.version} of ${run.manifest.application.name}`;
    throw new PaasmakerError('DEPLOY_FAILED', `${name} did not come up: ${failed.what}`, { detail: failed.lines.length > 0 ? failed.lines.map((line) => `  ${line}`).join('\n') : undefined });
  }

  /** The first process of a run that did not do what it is for: a routed process or worker not running, a one-shot that failed. */
  private notUp(run: RunningApp): { what: string; lines: string[] } | undefined {
    const unready = unreadyProcesses(run, this.parts.supervisor)[0];
    if (unready) return { what: `${unready.process} ${unready.reason}${unready.hint ? ` (hint: ${unready.hint})` : ''}`, lines: unready.lines };
    for (const instance of run.manifest.instances.filter((candidate) => candidate.standalone)) {
      for (let index = 0; index < instance.quantity; index++) {
        const key = run.slots.get(`${instance.name}.${index}`);
        const info = key === undefined ? undefined : this.parts.supervisor.info(key);
        if (!info) continue;
        const ok = instance.oneshot ? info.state === 'exited' && info.lastExit?.code === 0 : info.state === 'running';
        if (ok) continue;
        const lines = this.parts.supervisor
          .tail(key!, 30)
          .filter((line) => line.stream !== 'system')
          .map((line) => line.line)
          .slice(-8);
        return { what: `${instance.name}.${index} ${info.lastExit?.reason ?? `is ${info.state}`}`, lines };
      }
    }
    return undefined;
  }

  /**
   * Makes a running version the app's front run: the router moves APP.localhost
   * (and the app's other names) to its processes in one step, state records it
   * as the app, its crons start. Answers the run it replaced, for the caller
   * to retire (its requests in flight finish first).
   */
  promote(app: string, run: RunningApp): RunningApp | undefined {
    const { state, owner, running, standby, edge, crons, events } = this.parts;
    const key = runOf(run);
    const old = running.get(app);
    if (old === run || this.parts.life.closed) return undefined;
    old?.crons?.stop();
    standby.delete(key);
    running.set(app, run);
    const manifest = run.manifest;
    state.transaction(() => {
      state.apps.upsert({ name: app, directory: manifest.directory, manifest: manifest.file, workspace: manifest.application.workspace, state: 'running', ownerPid: owner.pid, ownerStart: owner.startTime });
      // The daemon brings a deployed app back through its current version, not its folder.
      state.apps.setDaemon(app, false);
      recordInstances(state, manifest, run.plans);
      state.processes.clear(app);
      for (const processKey of run.slots.values()) {
        const info = this.parts.supervisor.info(processKey);
        if (info) recordProcess(state, info);
      }
    });
    // The names move in one step: the front targets are made with the run's ready processes in them.
    edge.routes?.register(manifest, run.plans, { version: run.version, front: true, keys: run.keys });
    edge.routes?.remove(key);
    for (const [slot, processKey] of run.slots) {
      const info = this.parts.supervisor.info(processKey);
      const [instance, index] = [slot.slice(0, slot.lastIndexOf('.')), Number(slot.slice(slot.lastIndexOf('.') + 1))];
      if (info) events.emit('instance.state', { app, instance, index, state: info.state, previous: 'starting', pid: info.pid, port: info.port, restarts: info.restarts });
    }
    crons.start(run);
    recordDeploy({ state, events }, app, 'deploy');
    return old;
  }

  /** The front run, a version, steps back to answer as itself only: a development up takes the app's names. */
  demote(app: string): void {
    const { running, standby, edge } = this.parts;
    const run = running.get(app);
    if (!run || run.version === undefined) return;
    run.crons?.stop();
    run.crons = undefined;
    running.delete(app);
    const key = runOf(run);
    standby.set(key, run);
    edge.routes?.register(run.manifest, run.plans, { key, version: run.version, front: false, keys: run.keys });
    // Faces showing which version serves learn it no longer does.
    this.parts.events.emit('version.changed', { app, version: run.version, current: this.parts.state.versions.pointers(app).current });
  }

  /** A run that no longer serves: its requests in flight finish, then its processes stop. */
  async retire(run: RunningApp): Promise<void> {
    run.crons?.stop();
    await run.watcher?.close();
    await run.configWatcher?.close();
    run.watcher = undefined;
    // A reload of it that was under way ends first: what it started is in run.keys too.
    await Promise.allSettled([run.reloading, run.reloadQueued]);
    await drainAndStop(this.parts, [...run.keys]);
    await Promise.all(run.staticServers.map(stopStaticServer));
  }

  /** Stops a version that runs beside the front run. */
  async stop(run: RunningApp): Promise<void> {
    const { standby, edge, supervisor } = this.parts;
    const key = runOf(run);
    if (standby.get(key) === run) standby.delete(key);
    edge.routes?.remove(key);
    run.crons?.stop();
    await Promise.all([...run.keys.map(async (processKey) => {
      await supervisor.stop(processKey);
      supervisor.remove(processKey);
    }), ...run.staticServers.map(stopStaticServer)]);
  }

  /** Every version of the app running beside the front run stops (paasmaker down). */
  async stopAll(app: string): Promise<void> {
    await Promise.all(this.standbyOf(app).map((run) => this.stop(run)));
  }

  /** The platform closes: starts under way end, then every standby run stops. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.starting.values()]);
    await Promise.all([...this.parts.standby.values()].map((run) => this.stop(run)));
  }
}
