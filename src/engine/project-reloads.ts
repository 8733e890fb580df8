import { watch as chokidarWatch } from 'chokidar';
import { reloadManifest, type ResolvedManifest } from '../manifest/index.js';
import type { Services } from '../services/index.js';
import { errorText } from '../shared/errors.js';
import { diffEnvironment, envSummary } from './environment.js';
import type { AppRuns } from './app-runs.js';
import type { CronRuns } from './cron-runs.js';
import type { Jobs } from './jobs.js';
import type { Launcher } from './launcher.js';
import type { Lifecycle } from './lifecycle.js';
import type { RollingUpdates } from './rolling.js';
import type { RunningApp } from './running-app.js';
import { ProjectWatcher } from './watcher.js';

export interface ReloadParts {
  running: Map<string, RunningApp>;
  jobs: Jobs;
  services: Services;
  /** PAASMAKER_HOME: never watched. */
  home: string;
  life: Lifecycle;
  apps: AppRuns;
  rolling: RollingUpdates;
  launcher: Launcher;
  crons: CronRuns;
}

/**
 * The project side of the dev loop: files saved → a rolling reload; the
 * manifest, .env or config.yml edited → read again, and applied when valid.
 */
export class ProjectReloads {
  constructor(private readonly parts: ReloadParts) {}

  /**
   * Watches an app's project and reloads on save: prepare again when its
   * inputs changed, then a rolling reload; a manifest or .env edit is read
   * again first (a broken one is reported and changes nothing).
   */
  async watch(name: string): Promise<void> {
    const app = this.parts.running.get(name);
    if (!app || app.watcher || this.parts.life.closed) return;
    const ignore = [...new Set(app.manifest.instances.flatMap((instance) => instance.watch.ignore))];
    app.watcher = new ProjectWatcher({
      root: app.manifest.directory,
      exclude: [this.parts.home],
      ignore,
      onChange: (paths) => void this.changed(name, paths),
      onProblem: (line) => this.parts.jobs.record(name, 'watch files', 'failed', line),
    });
    // config.yml names the services: an edit may change the app's credentials.
    // A save truncates the file before it writes it: wait until it holds still, or a half-written
    // (empty) config.yml is read, fails, and the write that follows may come as no new event.
    const configWatcher = chokidarWatch(this.parts.services.config.file, { ignoreInitial: true, awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 25 } }).on('all', () => {
      this.parts.services.forgetConfig();
      void this.reloadManifest(name, 'config.yml', { onlyIfChanged: true });
    });
    // Out of descriptors or watches: config.yml edits go unnoticed, nothing worse.
    configWatcher.on('error', () => void configWatcher.close().catch(() => undefined));
    app.configWatcher = configWatcher;
    const configReady = new Promise<void>((resolve) => configWatcher.once('ready', () => resolve()).once('error', () => resolve()));
    // Both are closed together (the app stopped, the platform closed): the project watcher's close settles the wait for both.
    const { watcher } = app;
    await Promise.all([watcher.ready, Promise.race([configReady, watcher.closed])]);
  }

  private async changed(name: string, paths: string[]): Promise<void> {
    const app = this.parts.running.get(name);
    if (!app || this.parts.life.closed) return;
    const manifestName = app.manifest.file.slice(app.manifest.directory.length + 1);
    const shown = paths.length === 1 ? paths[0]! : `${paths.length} files`;
    if (paths.includes(manifestName) || paths.includes('.env')) {
      await this.reloadManifest(name, shown);
      return;
    }
    const watched = app.manifest.instances.filter((instance) => instance.watch.enabled).map((instance) => instance.name);
    if (watched.length > 0) await this.parts.rolling.reload(name, { instances: watched, reason: `${shown} changed` });
  }

  /** Reads the manifest and .env again; a valid change is applied by a rolling reload. */
  private async reloadManifest(name: string, shown: string, options: { onlyIfChanged?: boolean } = {}): Promise<void> {
    const app = this.parts.running.get(name);
    if (!app || this.parts.life.closed) return;
    let next: ResolvedManifest;
    try {
      next = await reloadManifest(app.manifest);
    } catch (error) {
      const detail = errorText(error, { hint: true });
      this.parts.jobs.record(name, `read ${shown}`, 'failed', `${detail}\nStill running the previous version.`);
      return;
    }
    // A large manifest is read in a worker: the app may have stopped meanwhile.
    if (this.parts.life.closed || this.parts.running.get(name) !== app) return;
    const shape = (manifest: ResolvedManifest) => JSON.stringify(manifest.instances.map((instance) => [instance.name, instance.quantity, instance.standalone, instance.oneshot, instance.runtime, instance.hostnames]));
    if (next.application.name !== name || shape(next) !== shape(app.manifest)) {
      this.parts.jobs.record(name, `read ${shown}`, 'success', 'instance types changed: restarting the app');
      await this.parts.apps.stop(name);
      await this.parts.apps.apply(next);
      await this.watch(next.application.name);
      return;
    }
    const before = envSummary(app.manifest);
    const after = envSummary(next);
    const changes = diffEnvironment(before, after);
    app.manifest = next;
    for (const instance of next.instances) {
      app.plans.set(instance.name, await this.parts.launcher.plan(next, instance));
    }
    let services: Record<string, string>;
    try {
      services = await this.parts.launcher.provisionServices(next);
    } catch (error) {
      const detail = errorText(error, { hint: true });
      this.parts.jobs.record(name, `read ${shown}`, 'failed', `${detail}\nStill running the previous version.`);
      return;
    }
    // Credentials that changed (a service now on another server) are part of the diff.
    const { PM_METADATA: _before, ...oldServices } = app.serviceEnv;
    const { PM_METADATA: _after, ...newServices } = services;
    changes.push(...diffEnvironment(oldServices, newServices));
    app.serviceEnv = services;
    if (options.onlyIfChanged && changes.length === 0) return;
    this.parts.crons.start(app);
    await this.parts.rolling.reload(name, { instances: next.instances.map((instance) => instance.name), reason: `${shown} changed${changes.length > 0 ? `:\n${changes.join('\n')}` : ''}` });
  }
}
