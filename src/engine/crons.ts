import { request } from 'node:http';
import { Cron } from 'croner';
import type { ResolvedCron, ResolvedInstance, ResolvedManifest } from '../manifest/index.js';
import type { State } from '../state/index.js';

/** How a cron reaches its app: an HTTP request, or a command with the app's environment. */
export interface CronRunner {
  /** Where to send a uri cron: the router (with the instance's hostname) or a process's own port. */
  httpTarget(instance: ResolvedInstance): { port: number; host: string } | undefined;
  /** Runs a command cron; each line it prints goes to `log` (its job's log) as well as to the app's live log. */
  runCommand(instance: ResolvedInstance, cron: ResolvedCron, log?: CronLog): Promise<{ ok: boolean; detail: string }>;
  say(line: string, stream?: 'system' | 'err'): void;
  /** Runs a cron's work as a job; a run that did not succeed fails it. onJob learns the job's id as it starts. */
  asJob(title: string, fn: (log: CronLog) => Promise<{ ok: boolean; detail: string }>, onJob?: (id: string) => void): Promise<{ ok: boolean; detail: string }>;
}

/** A line of a cron run's job log. */
export type CronLog = (line: string, stream: 'out' | 'err') => void;

/** "GET /tasks/cleanup" or the command: what `cron list` shows. */
export const cronTarget = (cron: ResolvedCron) => (cron.uri ? `GET ${cron.uri}` : cron.command!);

/** One HTTP GET of a cron's uri; a 2xx or 3xx answer is success. */
export function requestUri(target: { port: number; host: string }, uri: string, timeoutMs = 60_000): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const req = request({ host: '127.0.0.1', port: target.port, path: uri, headers: { host: target.host, 'user-agent': 'paasmaker-cron', accept: 'text/plain' }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: (res.statusCode ?? 500) < 400, detail: `HTTP ${res.statusCode} in ${Date.now() - started} ms` }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', (error) => resolve({ ok: false, detail: error.message }));
    req.end();
  });
}

/**
 * Runs an app's crons on their schedules (croner: five fields, or six with
 * seconds). A run still going when the next is due is not overlapped: that
 * tick is skipped and said so. Outcomes go to state for `paasmaker cron list`.
 */
export class CronScheduler {
  private readonly jobs: Cron[] = [];

  constructor(
    private readonly manifest: ResolvedManifest,
    private readonly state: State,
    private readonly runner: CronRunner,
  ) {}

  start(): void {
    const app = this.manifest.application.name;
    const rows: Parameters<State['crons']['replace']>[1] = [];
    for (const instance of this.manifest.instances) {
      for (const cron of instance.crons) {
        const job = new Cron(cron.schedule, { protect: () => this.runner.say(`cron ${cron.name}: still running, this run is skipped`) }, async () => {
          await this.run(instance, cron, job.nextRun()?.getTime() ?? null);
        });
        this.jobs.push(job);
        rows.push({ name: cron.name, instance: instance.name, schedule: cron.schedule, target: cronTarget(cron), nextRun: job.nextRun()?.getTime() ?? null });
      }
    }
    this.state.crons.replace(app, rows);
  }

  /** Runs one cron now, recording its outcome. */
  async run(instance: ResolvedInstance, cron: ResolvedCron, nextRun: number | null = null, onJob?: (id: string) => void): Promise<{ ok: boolean; detail: string }> {
    const app = this.manifest.application.name;
    this.state.crons.started(app, cron.name, Date.now(), nextRun);
    const outcome = await this.runner.asJob(`cron ${cron.name}`, async (log) => {
      if (!cron.uri) return this.runner.runCommand(instance, cron, log);
      const target = this.runner.httpTarget(instance);
      return target ? requestUri(target, cron.uri) : { ok: false, detail: `no running ${instance.name} process to send ${cron.uri} to` };
    }, onJob);
    this.state.crons.finished(app, cron.name, Date.now(), outcome.ok ? 'ok' : 'failed', outcome.detail);
    this.runner.say(`cron ${cron.name}: ${cronTarget(cron)} → ${outcome.ok ? 'ok' : 'failed'} (${outcome.detail})`, outcome.ok ? 'system' : 'err');
    return outcome;
  }

  stop(): void {
    for (const job of this.jobs) job.stop();
    this.jobs.length = 0;
  }
}
