import { sep } from 'node:path';
import { getRuntime, installedVersions, toRange, installsRoot, removeInstalled, RuntimeNotInstalled, type RuntimeContext, type RuntimeInstall, type RuntimePlan } from '../../runtimes/index.js';
import { errorText, PaasmakerError } from '../shared/errors.js';
import type { Jobs } from './jobs.js';
import type { Lifecycle } from './lifecycle.js';
import type { RunningApp } from './running-app.js';

export interface RuntimeInstallsParts {
  /** PAASMAKER_HOME: installs go to runtimes/<name>/<version>/. */
  home: string;
  env: NodeJS.ProcessEnv;
  jobs: Jobs;
  life: Lifecycle;
  /** The apps' front runs, and deployed versions running beside them. */
  running: Map<string, RunningApp>;
  standby: Map<string, RunningApp>;
}

/**
 * The runtime versions Paasmaker installs itself (Node.js from the npm
 * registry): on demand, when an instance asks for a version nothing
 * installed fits, or when asked (`paasmaker runtimes install`); each install
 * a job. Removal is refused while a running app uses the version.
 */
export class RuntimeInstalls {
  constructor(private readonly parts: RuntimeInstallsParts) {}

  /**
   * An instance's plan; a version nothing installed fits is installed (a job
   * of the app), when its runtime can, and planned again; offline, it is an
   * error saying what to install.
   */
  async plan(ctx: RuntimeContext, options: { offline?: boolean } = {}): Promise<RuntimePlan> {
    const runtime = getRuntime(ctx.instance.runtime.name);
    try {
      return await runtime.plan(ctx);
    } catch (error) {
      if (!(error instanceof RuntimeNotInstalled) || !runtime.install) throw error;
      if (options.offline) throw new PaasmakerError(error.code, `${error.message}; offline (--offline), Paasmaker downloads no runtime`, { hint: error.hint });
      try {
        await this.install(error.runtime, error.range, ctx.manifest.application.name);
      } catch (failure) {
        throw new PaasmakerError(error.code, `${error.message}; Paasmaker could not install it: ${errorText(failure)}`, { hint: error.hint });
      }
      return runtime.plan(ctx);
    }
  }

  /** Installs the newest version of runtime matching version (a version or range), as a job of app ('' for the platform's own); started hears the job's id. */
  install(runtime: string, version: string, app: string, started?: (job: string) => void): Promise<RuntimeInstall> {
    const plugin = getRuntime(runtime);
    const range = toRange(version);
    if (range === undefined) {
      throw new PaasmakerError('RUNTIME_VERSION', `"${version}" is not a ${runtime} version or version range`, { hint: 'write a version or a range, such as 22, ^20.11 or lts/iron' });
    }
    const installer = plugin.install?.bind(plugin);
    if (!installer) {
      throw new PaasmakerError('RUNTIME_UNKNOWN', `Paasmaker does not install ${runtime} versions itself`, { hint: `install it with your system's tools; paasmaker runtimes lists what it finds` });
    }
    return this.parts.jobs.run(app, `install ${runtime} ${range === '*' ? 'latest' : range}`, async (job) => {
      started?.(job.id);
      const aborter = new AbortController();
      job.onAbort(() => aborter.abort());
      const installed = await installer(range, {
        home: this.parts.home,
        env: this.parts.env,
        signal: AbortSignal.any([aborter.signal, this.parts.life.signal]),
        progress: (line) => job.log(line),
      });
      job.detail = installed.downloaded ? `installed ${runtime} ${installed.version}` : `${runtime} ${installed.version} is installed already`;
      return installed;
    });
  }

  /**
   * Removes a version Paasmaker installed: refused while an app's instance
   * runs on it (the message names them), and without confirm naming it.
   */
  remove(runtime: string, version: string, confirm: string | undefined): { runtime: string; version: string; folder: string } {
    getRuntime(runtime);
    const installed = installedVersions(this.parts.home, runtime).find((candidate) => candidate.version === version);
    if (!installed) {
      throw new PaasmakerError('RUNTIME_NOT_INSTALLED', `${runtime} ${version} is not a version Paasmaker installed (in ${installsRoot(this.parts.home, runtime)})`);
    }
    const users = this.users(installed.folder);
    if (users.length > 0) {
      throw new PaasmakerError('IN_USE', `${runtime} ${version} is in use by ${users.join(', ')}`, { hint: `stop ${users.length === 1 ? 'it' : 'them'} first (paasmaker down, or paasmaker versions stop), or move ${users.length === 1 ? 'it' : 'them'} to another version` });
    }
    if (confirm !== `${runtime}@${version}`) {
      throw new PaasmakerError('CONFIRMATION_NEEDED', `removing ${runtime} ${version} deletes ${installed.folder}${confirm === undefined ? '' : `; "${confirm}" is not ${runtime}@${version}`}`, {
        hint: `send {"confirm": "${runtime}@${version}"} to confirm`,
      });
    }
    removeInstalled(this.parts.home, runtime, version);
    return { runtime, version, folder: installed.folder };
  }

  /** The running apps (and deployed versions) whose instances run on what is in folder: "shop/web", "shop v3/web". */
  users(folder: string): string[] {
    const inside = (dir: string) => dir === folder || dir.startsWith(`${folder}${sep}`);
    return [...this.parts.running.values(), ...this.parts.standby.values()].flatMap((app) =>
      app.manifest.instances
        .filter((instance) => app.plans.get(instance.name)?.pathPrepend.some(inside))
        .map((instance) => `${app.manifest.application.name}${app.version === undefined ? '' : ` v${app.version}`}/${instance.name}`),
    );
  }
}

