import type { ResolvedInstance, ResolvedManifest } from '../manifest/index.js';
import { PaasmakerError } from '../shared/errors.js';
import type { State } from '../state/index.js';
import { CronScheduler, type CronRunner } from './crons.js';
import type { Edge } from './edge.js';
import type { EventSink } from './events.js';
import type { Jobs } from './jobs.js';
import type { Launcher } from './launcher.js';
import { routedHostname } from './routes.js';
import type { RunningApp } from './running-app.js';

export interface CronParts {
  state: State;
  running: Map<string, RunningApp>;
  edge: Edge;
  launcher: Launcher;
  jobs: Jobs;
  events: EventSink;
}

/** The apps' crons: on their schedules while an app runs, or one now when asked. */
export class CronRuns {
  constructor(private readonly parts: CronParts) {}

  /** The app's crons, on their schedules (again, after a change); uri crons go through the router like a browser's request. */
  start(app: RunningApp): void {
    app.crons?.stop();
    app.crons = undefined;
    if (!app.manifest.instances.some((instance) => instance.crons.length > 0)) return;
    app.crons = new CronScheduler(app.manifest, this.parts.state, this.runner(app));
    app.crons.start();
  }

  /** Runs one cron of an app now; onJob learns its job's id as it starts. */
  async run(manifest: ResolvedManifest, cronName: string, onJob?: (id: string) => void): Promise<{ ok: boolean; detail: string; job: string }> {
    const instance = manifest.instances.find((candidate) => candidate.crons.some((cron) => cron.name === cronName));
    if (!instance) {
      const names = manifest.instances.flatMap((candidate) => candidate.crons.map((cron) => cron.name));
      throw new PaasmakerError('CRON_NOT_FOUND', `no cron "${cronName}" in ${manifest.file}`, { hint: names.length > 0 ? `crons: ${names.join(', ')}` : 'declare one under instances.<type>.crons' });
    }
    const running = this.parts.running.get(manifest.application.name);
    const app: RunningApp = running ?? { manifest, plans: new Map(), keys: [], staticServers: [], serviceEnv: await this.parts.launcher.provisionServices(manifest), generation: 0, slots: new Map() };
    const scheduler = new CronScheduler(manifest, this.parts.state, this.runner(app));
    let job = '';
    const outcome = await scheduler.run(instance, instance.crons.find((cron) => cron.name === cronName)!, null, (id) => {
      job = id;
      onJob?.(id);
    });
    return { ...outcome, job };
  }

  private runner(app: RunningApp): CronRunner {
    const { state, running, edge, launcher, jobs, events } = this.parts;
    const name = app.manifest.application.name;
    return {
      httpTarget: (instance: ResolvedInstance) => {
        if (edge.router && running.get(name) === app) return { port: edge.router.port, host: routedHostname(app.manifest, instance.name) };
        // Not run by this platform (cron run from another terminal): a running process's own port.
        const row = state.processes.list(name).find((process) => process.instance === instance.name && process.state === 'running' && process.port !== null);
        return row ? { port: row.port!, host: routedHostname(app.manifest, instance.name) } : undefined;
      },
      runCommand: async (instance, cron, log) => {
        const started = Date.now();
        const plan = app.plans.get(instance.name) ?? (await launcher.plan(app.manifest, instance));
        const result = await launcher.runOnce(cron.command!, { manifest: app.manifest, instance, plan, services: app.serviceEnv, source: `cron:${cron.name}` }, { onLine: log });
        const how = result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`;
        return { ok: result.code === 0, detail: `${how} in ${Date.now() - started} ms` };
      },
      say: (line, stream = 'system') => events.emit('log.line', { app: name, source: 'cron', stream, line, time: Date.now() }),
      asJob: (title, fn, onJob) =>
        jobs.run(name, title, async (job) => {
          onJob?.(job.id);
          const outcome = await fn((line, stream) => job.log(line, stream));
          if (outcome.ok) job.detail = outcome.detail;
          else jobs.transition(job, 'failed', outcome.detail);
          return outcome;
        }),
    };
  }
}
