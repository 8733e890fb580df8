import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { APP_NAME, loadManifestAsync } from '../manifest/index.js';
import { NO_URLS } from '../shared/app-urls.js';
import { errorText, isPaasmakerError, PaasmakerError } from '../shared/errors.js';
import type { DeployResult, VersionRow } from '../shared/views.js';
import type { State, VersionRecord } from '../state/index.js';
import type { Supervisor } from '../supervisor/index.js';
import type { DeployHooks, DeployRequest, SourceSpec } from './deploy-types.js';
import type { Edge } from './edge.js';
import type { EventSink } from './events.js';
import type { Jobs } from './jobs.js';
import type { Launcher } from './launcher.js';
import type { Lifecycle } from './lifecycle.js';
import type { RunningApp } from './running-app.js';
import { unreadyProcesses } from './unready.js';
import { exportSource } from './version-source.js';
import { versionManifest, type VersionRuns } from './version-runs.js';

export interface VersionParts {
  /** PAASMAKER_HOME/versions: <app>/<n> holds each version's code. */
  root: string;
  state: State;
  running: Map<string, RunningApp>;
  supervisor: Supervisor;
  edge: Edge;
  launcher: Launcher;
  jobs: Jobs;
  life: Lifecycle;
  events: EventSink;
  runs: VersionRuns;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Deployed versions, as in the original Paasmaker: each is immutable code
 * exported from a source at one commit into its own folder and prepared
 * once there; one is current and answers APP.localhost; every running one
 * also answers v<N>.APP.localhost. A switch starts the new version beside
 * the one serving, moves the app's names once every process is ready, and
 * lets the old one finish its requests before it stops: no request fails.
 * A version that fails never becomes current.
 */
export class Versions {
  /** One switch at a time per app: each waits for the one before. */
  private readonly switching = new Map<string, Promise<unknown>>();

  constructor(private readonly parts: VersionParts) {}

  /** An app's versions, newest first. */
  list(app: string): VersionRow[] {
    const pointers = this.parts.state.versions.pointers(app);
    return this.parts.state.versions.list(app).map((record) => this.row(record, pointers));
  }

  /** An app's current version, and what answers APP.localhost. */
  serving(app: string): { version: number | null; servedBy: 'dev' | 'version' | null } {
    const front = this.parts.running.get(app);
    return { version: this.parts.state.versions.pointers(app).current, servedBy: front ? (front.version === undefined ? 'dev' : 'version') : null };
  }

  /**
   * Makes a version: a job tree "deploy APP vN" whose steps export the code,
   * provision the app's services, prepare each instance type in the
   * version's folder and (unless switch is false) switch to it.
   */
  deploy(request: DeployRequest, hooks: DeployHooks = {}): Promise<DeployResult> {
    const { jobs, state, events } = this.parts;
    const label = sourceLabel(request.source);
    return jobs.run(request.app ?? '', `deploy ${request.app ?? label}`, async (job) => {
      hooks.onJob?.(job.id);
      const incoming = join(this.parts.root, '.incoming', randomBytes(6).toString('hex'));
      let app = request.app;
      let number: number | undefined;
      try {
        if (app !== undefined) checkAppName(app);
        mkdirSync(join(this.parts.root, '.incoming'), { recursive: true, mode: 0o700 });
        const aborter = new AbortController();
        job.onAbort(() => aborter.abort());
        const about = await jobs.run(app ?? '', `export ${label}`, (step) =>
          exportSource(request.source, incoming, { signal: AbortSignal.any([aborter.signal, this.parts.life.signal]), log: (line) => step.log(line) }),
        );
        app ??= (await loadManifestAsync(incoming).catch((error: unknown) => Promise.reject(fromSource(error, incoming, label)))).application.name;
        checkAppName(app);
        hooks.authorize?.(await versionManifest(app, incoming));
        number = state.versions.allocate(app);
        const directory = join(this.parts.root, app, String(number));
        mkdirSync(join(this.parts.root, app), { recursive: true, mode: 0o755 });
        renameSync(incoming, directory);
        state.versions.create({ app, number, state: 'preparing', job: job.id, directory, createdAt: Date.now(), ...about });
        jobs.rename(job, app, `deploy ${app} v${number}`);
        events.emit('version.changed', { app, version: number, current: state.versions.pointers(app).current });
        const manifest = await versionManifest(app, directory);
        state.versions.setManifest(app, number, manifest.file);
        // An app first known by a deploy is listed (and its workspace known) before any version of it runs.
        if (!state.apps.get(app)) state.apps.upsert({ name: app, directory, manifest: manifest.file, workspace: manifest.application.workspace, state: 'stopped', ownerPid: null, ownerStart: null });
        const services = await this.parts.launcher.provisionServices(manifest);
        const plans = await this.parts.launcher.plans(manifest);
        for (const instance of manifest.instances) await this.parts.launcher.prepare(manifest, instance, plans.get(instance.name)!, true, services, { version: true });
        state.versions.setState(app, number, 'ready');
        events.emit('version.changed', { app, version: number, current: state.versions.pointers(app).current });
      } catch (error) {
        rmSync(incoming, { recursive: true, force: true });
        if (app === undefined || number === undefined) throw error;
        throw this.failed(app, number, error);
      }
      if (request.switch === false) {
        try {
          await jobs.run(app, `start v${number}`, () => this.parts.runs.start(app!, this.record(app!, number!)));
        } catch (error) {
          throw this.failed(app, number, error);
        }
        return { version: this.row(this.record(app, number)), switched: false, job: job.id };
      }
      await this.switchTo(app, number, { deploying: true });
      return { version: this.row(this.record(app, number)), switched: true, job: job.id };
    });
  }

  /** A version that did not become current: recorded failed, with why; the error says the one serving goes on. */
  private failed(app: string, number: number, error: unknown): PaasmakerError {
    const { state, events } = this.parts;
    const why = errorText(error);
    state.versions.setState(app, number, 'failed', why.split('\n')[0]!);
    const current = state.versions.pointers(app).current;
    events.emit('version.changed', { app, version: number, current });
    const serving = current !== null ? `v${current} keeps serving` : 'nothing of it was started';
    const detail = isPaasmakerError(error) ? error.detail : undefined;
    const hint = isPaasmakerError(error) && error.hint ? `${error.hint.replace(/then run paasmaker up again/, 'then commit and deploy again')}; ${serving}` : `${serving}; fix it, then deploy again`;
    const message = isPaasmakerError(error) ? error.message : why;
    const name = `v${number} of ${app}`;
    return new PaasmakerError('DEPLOY_FAILED', message.startsWith(name) ? message.replace(name, `${name} failed:`) : `${name} failed: ${message}`, { detail, hint });
  }

  /**
   * Makes version n current: started beside the one serving (unless it runs
   * already), then the router moves APP.localhost to it and the old one
   * drains and stops. While a development up holds the app's names, the new
   * current version waits on v<N>.APP.localhost and the up keeps them.
   */
  switchTo(app: string, number: number, options: { deploying?: boolean } = {}): Promise<VersionRow> {
    return this.queued(app, () => {
      const work = () => this.switchNow(app, number, options);
      return options.deploying ? work() : this.parts.jobs.run(app, `switch ${app} to v${number}`, work);
    });
  }

  /** Runs work once the app's switches, rollbacks and prunes before it have ended. */
  private queued<T>(app: string, work: () => Promise<T>): Promise<T> {
    const before = this.switching.get(app) ?? Promise.resolve();
    const next = before.catch(() => undefined).then(work);
    this.switching.set(app, next);
    void next.catch(() => undefined).then(() => {
      if (this.switching.get(app) === next) this.switching.delete(app);
    });
    return next;
  }

  /** Every switch, rollback and prune under way has ended (the platform closes). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.switching.values()]);
  }

  private async switchNow(app: string, number: number, options: { deploying?: boolean }): Promise<VersionRow> {
    const { state, running, runs, jobs, events } = this.parts;
    const record = this.record(app, number);
    if (record.state !== 'ready') {
      throw new PaasmakerError('DEPLOY_FAILED', `v${number} of ${app} ${record.state === 'failed' ? `failed (${record.error ?? 'see its deploy job'}) and never becomes current` : 'is still being prepared'}`, { hint: 'paasmaker versions ' + app + ' shows which can be switched to' });
    }
    const pointers = state.versions.pointers(app);
    let run: RunningApp;
    try {
      const running = runs.find(app, number);
      // A preview that runs is switched to only when every process of it is up.
      if (running) runs.assertUp(running);
      run = running ?? (await jobs.run(app, `start v${number}`, () => runs.start(app, record)));
    } catch (error) {
      if (options.deploying) throw this.failed(app, number, error);
      throw new PaasmakerError('DEPLOY_FAILED', `v${number} of ${app} did not start: ${isPaasmakerError(error) ? error.message : errorText(error)}`, { detail: isPaasmakerError(error) ? error.detail : undefined, hint: pointers.current !== null ? `v${pointers.current} keeps serving` : undefined });
    }
    // Read after the start: a development up may have begun or ended meanwhile.
    const front = running.get(app);
    const dev = front !== undefined && front.version === undefined;
    if (!dev) {
      // A reload of the version serving ends before the names move: its processes are then all in its keys.
      if (front) await Promise.allSettled([front.reloading, front.reloadQueued]);
      const old = runs.promote(app, run);
      if (old) await jobs.run(app, old.version === undefined ? 'drain the previous processes' : `drain v${old.version}`, () => runs.retire(old));
    }
    // The version current before, running beside a development up: it stops.
    if (pointers.current !== null && pointers.current !== number) {
      const before = runs.find(app, pointers.current);
      if (before && before !== running.get(app)) await runs.stop(before);
    }
    state.versions.setPointers(app, { current: number, previous: pointers.current !== null && pointers.current !== number ? pointers.current : pointers.previous });
    state.versions.setRunning(app, true);
    events.emit('version.changed', { app, version: number, current: number });
    return this.row(this.record(app, number));
  }

  /** Back to the version current before this one. */
  rollback(app: string): Promise<VersionRow> {
    // The previous version as it is once the switches before this one ended.
    return this.queued(app, () => {
      const { previous, current } = this.parts.state.versions.pointers(app);
      if (previous === null) {
        throw new PaasmakerError('VERSION_NOT_FOUND', current === null ? `${app} has no deployed version` : `${app} has no version before v${current} to roll back to`, { hint: `paasmaker versions ${app} lists them; paasmaker switch ${app} N goes to any` });
      }
      return this.parts.jobs.run(app, `roll ${app} back to v${previous}`, () => this.switchNow(app, previous, {}));
    });
  }

  /** Starts a version as a preview on v<N>.APP.localhost, or stops one that runs without serving. */
  async preview(app: string, number: number, action: 'start' | 'stop'): Promise<VersionRow> {
    const record = this.record(app, number);
    const { runs, running, jobs, events, state } = this.parts;
    if (action === 'start') {
      if (record.state !== 'ready') throw new PaasmakerError('DEPLOY_FAILED', `v${number} of ${app} ${record.state === 'failed' ? 'failed' : 'is being prepared'}: it cannot run`);
      await jobs.run(app, `start v${number}`, () => runs.start(app, record));
    } else {
      const run = runs.find(app, number);
      if (run && running.get(app) === run) {
        throw new PaasmakerError('USAGE', `v${number} serves ${app}.localhost: it is not stopped alone`, { hint: `paasmaker switch ${app} N serves another version; paasmaker down ${app} stops the app` });
      }
      if (run) await runs.stop(run);
    }
    events.emit('version.changed', { app, version: number, current: state.versions.pointers(app).current });
    return this.row(this.record(app, number));
  }

  /** Removes all but the newest `keep` versions, never the current, the previous, a running or a preparing one; their code is deleted. */
  prune(app: string, keep: number): Promise<number[]> {
    return this.queued(app, () => this.pruneNow(app, keep));
  }

  private async pruneNow(app: string, keep: number): Promise<number[]> {
    const { state, events, runs } = this.parts;
    const { current, previous } = state.versions.pointers(app);
    const all = state.versions.list(app);
    if (all.length === 0) this.record(app, 0);
    const kept = new Set(all.slice(0, keep).map((version) => version.number));
    const removed: number[] = [];
    for (const version of all) {
      if (kept.has(version.number) || version.number === current || version.number === previous || version.state === 'preparing' || runs.find(app, version.number)) continue;
      const directory = resolve(version.directory);
      for (const made of await this.madeOutside(app, directory)) rmSync(made, { recursive: true, force: true });
      // Only ever a folder of the versions store.
      if (directory.startsWith(resolve(this.parts.root) + sep)) rmSync(directory, { recursive: true, force: true });
      state.versions.remove(app, version.number);
      removed.push(version.number);
    }
    if (removed.length > 0) events.emit('version.changed', { app, version: null, current });
    return removed.sort((a, b) => a - b);
  }

  /** What the version's runtimes made for it outside its folder (its virtualenv), within PAASMAKER_HOME only. */
  private async madeOutside(app: string, directory: string): Promise<string[]> {
    const home = resolve(this.parts.root, '..') + sep;
    try {
      const manifest = await versionManifest(app, directory);
      const plans = await this.parts.launcher.plans(manifest);
      return [...plans.values()].flatMap((plan) => plan.outside ?? []).filter((made) => resolve(made).startsWith(home));
    } catch {
      return []; // its runtime is gone, or its manifest unreadable: nothing known to remove
    }
  }

  /**
   * The daemon starts: each app whose current version ran comes back
   * (beside a development up of it, if one holds its names). Answers those
   * that could not, with why.
   */
  async restore(say: (line: string) => void): Promise<Array<{ app: string; error: string }>> {
    const { state, running, runs } = this.parts;
    state.versions.failUnfinished('the platform stopped while it was being prepared');
    // Exports a stopped platform left half done: nothing refers to them.
    rmSync(join(this.parts.root, '.incoming'), { recursive: true, force: true });
    const failures: Array<{ app: string; error: string }> = [];
    for (const app of state.versions.runningApps()) {
      const { current } = state.versions.pointers(app);
      try {
        say(`restoring ${app} v${current}`);
        const run = await runs.start(app, this.record(app, current!));
        if (!running.has(app)) runs.promote(app, run);
      } catch (error) {
        failures.push({ app, error: `v${current}: ${errorText(error)}` });
      }
    }
    return failures;
  }

  /**
   * A development up of the app is stopping: the current version, running
   * beside it and up, takes the app's names now (the up then drains). False
   * when there is none to take them.
   */
  takeBack(app: string): boolean {
    const { state, running, runs, events } = this.parts;
    const { current, running: wanted } = state.versions.pointers(app);
    if (current === null || !wanted) return false;
    const run = runs.find(app, current);
    if (!run || running.get(app) === run) return false;
    try {
      runs.assertUp(run);
    } catch {
      return false;
    }
    runs.promote(app, run);
    events.emit('version.changed', { app, version: current, current });
    return true;
  }

  /** A development up of the app stopped: the current version, running beside it (or started now), takes the app's names back. */
  async resume(app: string): Promise<void> {
    const { state, running, runs } = this.parts;
    const { current, running: wanted } = state.versions.pointers(app);
    if (current === null || !wanted || running.has(app)) return;
    const run = runs.find(app, current) ?? (await runs.start(app, this.record(app, current)));
    if (!running.has(app)) runs.promote(app, run);
    this.parts.events.emit('version.changed', { app, version: current, current });
  }

  /** paasmaker down: every version of the app stops, and the daemon does not bring the current one back. */
  async down(app: string): Promise<void> {
    await this.parts.runs.stopAll(app);
    this.parts.state.versions.setRunning(app, false);
    if (this.parts.state.versions.pointers(app).current !== null) this.parts.events.emit('version.changed', { app, version: null, current: this.parts.state.versions.pointers(app).current });
  }

  private record(app: string, number: number): VersionRecord {
    const record = this.parts.state.versions.get(app, number);
    if (record) return record;
    const known = this.parts.state.versions.list(app).map((version) => `v${version.number}`);
    throw new PaasmakerError('VERSION_NOT_FOUND', known.length > 0 ? `${app} has no v${number}` : `${app} has no deployed version`, { hint: known.length > 0 ? `its versions: ${known.join(', ')}` : `make one with: paasmaker deploy` });
  }

  private row(record: VersionRecord, pointers = this.parts.state.versions.pointers(record.app)): VersionRow {
    const { app, number } = record;
    const { current, previous } = pointers;
    const run = this.parts.runs.find(app, number);
    const runState = run ? (unreadyProcesses(run, this.parts.supervisor).length === 0 && run.keys.length + run.staticServers.length > 0 ? 'running' : 'starting') : 'stopped';
    return {
      app,
      version: number,
      state: record.state === 'ready' ? runState : record.state,
      current: current === number,
      previous: previous === number,
      serving: run !== undefined && this.parts.running.get(app) === run,
      ...(run ? this.parts.edge.appUrls(`v${number}.${app}`) : NO_URLS),
      kind: record.kind,
      source: record.source,
      ref: record.ref,
      commit: record.commit,
      author: record.author,
      message: record.message,
      dirty: record.dirty,
      created: iso(record.createdAt),
      size: record.size,
      job: record.job,
      directory: record.directory,
      error: record.error,
    };
  }
}

/** A manifest error in the exported code names the source, not the folder it was exported to. */
function fromSource(error: unknown, incoming: string, label: string): unknown {
  if (!isPaasmakerError(error)) return error;
  const named = (text: string | undefined) => text?.split(incoming).join(label);
  return new PaasmakerError(error.code, named(error.message)!, { hint: named(error.hint), detail: named(error.detail) });
}

function checkAppName(app: string): void {
  if (!APP_NAME.test(app)) throw new PaasmakerError('USAGE', `"${app}" is not an app name`, { hint: 'an app name is 1–40 characters of a-z, 0-9 and "-", not starting with "-"' });
}

/** How a deploy names its source before it knows the app ("git push", "shop.tar.gz", "../shop"). */
function sourceLabel(source: SourceSpec): string {
  if (source.kind === 'upload') return source.name ?? 'upload';
  return source.ref ? `${source.location}@${source.ref}` : source.location;
}
