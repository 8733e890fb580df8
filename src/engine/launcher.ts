import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimePlan } from '../../runtimes/index.js';
import type { ResolvedInstance, ResolvedManifest } from '../manifest/index.js';
import { startStaticServer } from '../proxy/index.js';
import { serviceEnvironment, type Services } from '../services/index.js';
import { PaasmakerError } from '../shared/errors.js';
import { freePort } from '../shared/ports.js';
import type { State } from '../state/index.js';
import { ENDED, type Keeper, type ProcessInfo, type ProcessState, type Supervisor } from '../supervisor/index.js';
import { instanceEnvironment } from './environment.js';
import { processKey, type EventSink } from './events.js';
import type { Job, Jobs } from './jobs.js';
import type { Lifecycle } from './lifecycle.js';
import { portFlags } from './port-flags.js';
import { prepareFingerprint, prepareSteps } from './prepare.js';
import { runCommand, type CommandResult } from './run-command.js';
import { runOf, type RunningApp } from './running-app.js';
import type { RuntimeInstalls } from './runtime-installs.js';

/** A process's first outcome: ready (or running, unrouted), or failed. */
const SETTLED: ReadonlySet<ProcessState> = new Set(['running', 'backoff', 'crashed', 'exited', 'stopped']);

/** The state a process of this instance reaches when it did what it is for. */
export function succeeded(instance: ResolvedInstance, state: ProcessState): boolean {
  return state === (instance.oneshot ? 'exited' : 'running');
}

export interface LauncherParts {
  /** PAASMAKER_HOME and its logs folder. */
  home: string;
  logs: string;
  /** The environment apps inherit (PATH, HOME, ...). */
  env: NodeJS.ProcessEnv;
  /** Marks every process this platform starts, for the keeper and for reaping. */
  ownerToken: string;
  state: State;
  supervisor: Supervisor;
  keeper?: Keeper;
  jobs: Jobs;
  services: Services;
  life: Lifecycle;
  events: EventSink;
  /** Plans runtimes, installing a version nothing installed fits. */
  installs: RuntimeInstalls;
}

/**
 * Launching instances: a runtime's plan, the app's services, prepare steps,
 * the environment a process gets, and the processes themselves.
 */
export class Launcher {
  constructor(private readonly parts: LauncherParts) {}

  /**
   * An instance's plan, whatever its runtime. offline: a version nothing
   * installed fits is an error, not an install. A command that runs a known
   * development server without its port flag gets it here (port-flags.ts).
   */
  async plan(manifest: ResolvedManifest, instance: ResolvedInstance, options: { offline?: boolean } = {}): Promise<RuntimePlan> {
    const plan = await this.parts.installs.plan({ manifest, instance, home: this.parts.home, env: this.parts.env }, options);
    if (instance.standalone || plan.command === undefined) return plan;
    const flags = portFlags(plan.command, { directory: manifest.directory, enabled: instance.portFlag });
    if (!flags.server) return plan;
    // The developer's own value of a variable wins (their shell, .env, the manifest).
    const env = Object.fromEntries(Object.entries(flags.env).filter(([key]) => this.parts.env[key] === undefined && manifest.dotenv.values[key] === undefined && instance.environment[key] === undefined));
    return { ...plan, command: flags.command, env: { ...env, ...plan.env }, ...(flags.added.length > 0 ? { portFlags: { server: flags.server.name, added: flags.added } } : {}) };
  }

  /** Every instance type's plan, resolved before anything starts: a missing interpreter fails fast. */
  async plans(manifest: ResolvedManifest, options: { offline?: boolean } = {}): Promise<Map<string, RuntimePlan>> {
    const plans = new Map<string, RuntimePlan>();
    for (const instance of manifest.instances) plans.set(instance.name, await this.plan(manifest, instance, options));
    return plans;
  }

  /** Provisions the app's services (a job) and returns their credentials as environment variables. */
  async provisionServices(manifest: ResolvedManifest): Promise<Record<string, string>> {
    const app = manifest.application.name;
    // PM_METADATA names the app's workspace, as the original's did: the one it was moved to, else the manifest's.
    const workspace = this.parts.state.apps.get(app)?.workspace ?? manifest.application.workspace ?? 'default';
    if (manifest.services.length === 0) return serviceEnvironment(app, [], workspace);
    const title = `services ${manifest.services.map((service) => service.name).join(', ')}`;
    return this.parts.jobs.run(app, title, async () => serviceEnvironment(app, await this.parts.services.provision(manifest), workspace));
  }

  environment(manifest: ResolvedManifest, instance: ResolvedInstance, plan: RuntimePlan, services: Record<string, string>, index = 0, port?: number): Record<string, string> {
    return instanceEnvironment({ base: this.parts.env, manifest, instance, plan, index, port, ownerToken: this.parts.ownerToken, services });
  }

  /** The environment of a one-off command of the app: the instance's (the routed one by default), without a port. */
  async commandEnvironment(manifest: ResolvedManifest, instanceName?: string): Promise<Record<string, string>> {
    const instance = instanceName ? manifest.instances.find((candidate) => candidate.name === instanceName) : (manifest.instances.find((candidate) => candidate.name === 'web') ?? manifest.instances[0]);
    if (!instance) {
      throw new PaasmakerError('INSTANCE_NOT_FOUND', `no instance type "${instanceName}" in ${manifest.file}`, { hint: `instance types: ${manifest.instances.map((candidate) => candidate.name).join(', ')}` });
    }
    const services = await this.provisionServices(manifest);
    return this.environment(manifest, instance, await this.plan(manifest, instance), services);
  }

  /** Runs one command of an app to completion (a prepare step, a cron) with the instance's environment, its output reported under source. */
  runOnce(
    command: string,
    run: { manifest: ResolvedManifest; instance: ResolvedInstance; plan: RuntimePlan; services: Record<string, string>; source: string },
    options: { signal?: AbortSignal; onLine?: (line: string, stream: 'out' | 'err') => void } = {},
  ): Promise<CommandResult> {
    const { manifest, instance, plan, services, source } = run;
    const app = manifest.application.name;
    return runCommand(command, {
      cwd: manifest.directory,
      env: this.environment(manifest, instance, plan, services),
      keeper: this.parts.keeper,
      signal: options.signal ? AbortSignal.any([this.parts.life.signal, options.signal]) : this.parts.life.signal,
      onLine: (line, stream) => {
        options.onLine?.(line, stream);
        this.parts.events.emit('log.line', { app, source, stream, line, time: Date.now() });
      },
    });
  }

  /**
   * Runs an instance's prepare steps (a job), unless their inputs are as at
   * the last success. A deployed version's (once: its code never changes)
   * runs every step and records nothing.
   */
  async prepare(manifest: ResolvedManifest, instance: ResolvedInstance, plan: RuntimePlan, force: boolean, services: Record<string, string>, options: { version?: boolean } = {}): Promise<void> {
    const { jobs, state } = this.parts;
    const app = manifest.application.name;
    if (prepareSteps(instance, plan).length === 0) return;
    await jobs.run(app, `prepare ${instance.name}`, async (job) => {
      if (options.version) return this.prepareSteps(job, { manifest, instance, plan, services });
      const fingerprint = await prepareFingerprint(manifest.directory, instance, plan);
      if (!force && state.prepareRuns.fingerprint(app, instance.name) === fingerprint) {
        job.detail = 'up to date';
        return;
      }
      await this.prepareSteps(job, { manifest, instance, plan, services });
      state.prepareRuns.record(app, instance.name, fingerprint);
    });
  }

  /** Every prepare step of an instance in turn, each line in the job's log; the first that fails throws PREPARE_FAILED. */
  private async prepareSteps(job: Job, run: { manifest: ResolvedManifest; instance: ResolvedInstance; plan: RuntimePlan; services: Record<string, string> }): Promise<void> {
    const { manifest, instance, plan, services } = run;
    const { events } = this.parts;
    const app = manifest.application.name;
    const steps = prepareSteps(instance, plan);
    const source = `${instance.name}:prepare`;
    // Aborting the job, or closing the platform, stops the step that runs.
    const aborter = new AbortController();
    job.onAbort(() => aborter.abort());
    const recent: string[] = [];
    for (const step of steps) {
      events.emit('log.line', { app, source, stream: 'system', line: `$ ${step}`, time: Date.now() });
      job.log(`$ ${step}`);
      const result = await this.runOnce(step, { manifest, instance, plan, services, source }, {
        signal: aborter.signal,
        onLine: (line, stream) => {
          recent.push(line);
          if (recent.length > 20) recent.shift();
          job.log(line, stream);
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
  }

  /**
   * Starts every instance type of an app. depends_on: a type starts once the
   * types it names have settled (ready, or failed), and once the one-shots it
   * names have completed; a one-shot that failed keeps it from starting.
   */
  async startAll(app: RunningApp): Promise<void> {
    const { manifest } = app;
    const name = manifest.application.name;
    const { jobs } = this.parts;
    const starting = new Map<string, Promise<ProcessState[]>>();
    const start = (instance: ResolvedInstance): Promise<ProcessState[]> => {
      let started = starting.get(instance.name);
      if (!started) {
        const dependencies = manifest.instances.filter((candidate) => instance.depends_on.includes(candidate.name));
        // A dependency that failed to start is reported by its own job; here it only holds back what waits for it.
        const settled = () => Promise.all(dependencies.map((dependency) => start(dependency).catch(() => undefined)));
        started = jobs.run(
          name,
          `${instance.oneshot ? 'run' : 'start'} ${instance.name}`,
          async (job) => {
            this.refuseAfterFailedOneshots(app, instance, dependencies);
            const flags = app.plans.get(instance.name)?.portFlags;
            if (flags) {
              // What runs is not what the manifest says: the job's log, and the app's, say so.
              for (const line of [`${flags.server} takes its port from a flag, not PORT: added ${flags.added.join(' ')}`, `$ ${app.plans.get(instance.name)!.command}`]) {
                job.log(line);
                this.parts.events.emit('log.line', { app: name, source: instance.name, stream: 'system', line, time: Date.now() });
              }
            }
            const began = Date.now();
            const states = await Promise.all(Array.from({ length: instance.quantity }, (_, index) => this.startProcess(app, instance, index)));
            const bad = states.filter((state) => !succeeded(instance, state));
            if (bad.length > 0) jobs.transition(job, 'failed', `${bad.length} of ${states.length} process(es) ${bad.join(', ')}`);
            else if (instance.oneshot) job.detail = `exited (0) after ${((Date.now() - began) / 1000).toFixed(1)} s`;
            return states;
          },
          dependencies.length > 0 ? { detail: `after ${dependencies.map((other) => other.name).join(', ')}`, waitFor: settled } : {},
        );
        starting.set(instance.name, started);
      }
      return started;
    };
    // Every start runs to its end before a failure is told: nothing starts after the app is stopped for it.
    const outcomes = await Promise.allSettled(manifest.instances.map(start));
    const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** A one-shot that did not complete keeps what depends on it from starting: the error names it, its exit and last lines. */
  private refuseAfterFailedOneshots(app: RunningApp, instance: ResolvedInstance, dependencies: ResolvedInstance[]): void {
    for (const dependency of dependencies.filter((candidate) => candidate.oneshot)) {
      for (let index = 0; index < dependency.quantity; index++) {
        const key = app.slots.get(`${dependency.name}.${index}`);
        const info = key === undefined ? undefined : this.parts.supervisor.info(key);
        if (info?.state === 'exited') continue;
        const how = info?.lastExit?.reason ?? (info ? `is ${info.state}` : 'did not run');
        const lines = key === undefined ? [] : this.parts.supervisor.tail(key, 60).filter((line) => line.stream !== 'system').slice(-8);
        throw new PaasmakerError('DEPENDENCY_FAILED', `${instance.name} was not started: it depends on the one-shot "${dependency.name}", which ${how}`, {
          detail: lines.length > 0 ? lines.map((line) => `  ${line.line}`).join('\n') : undefined,
          hint: `fix ${dependency.name} (\`${dependency.command}\`), then run paasmaker up again`,
        });
      }
    }
  }

  /**
   * Starts one process of a slot and resolves with its first settled state.
   * Generation 0 takes the slot at once; a reload's process (generation > 0)
   * runs beside the slot's current one until the reload hands the slot over.
   */
  async startProcess(app: RunningApp, instance: ResolvedInstance, index: number, generation = 0): Promise<ProcessState> {
    const { supervisor, state, events } = this.parts;
    const manifest = app.manifest;
    const name = manifest.application.name;
    const plan = app.plans.get(instance.name)!;
    const port = instance.standalone ? undefined : await freePort();
    const key = processKey(runOf(app), instance.name, index, generation);

    if (plan.serve) {
      if (port === undefined) {
        throw new PaasmakerError('MANIFEST_INVALID', `instance "${instance.name}" uses the static runtime, which needs a port`, {
          hint: `remove "standalone: true" from instances.${instance.name} in ${manifest.file}`,
        });
      }
      app.staticServers.push(await startStaticServer(plan.serve.root, port));
      const record = { app: name, instance: instance.name, index, pid: null, port, restarts: 0, exitCode: null, exitSignal: null };
      state.processes.put({ ...record, state: 'running', runningSince: Date.now() });
      events.emit('instance.state', { app: name, instance: instance.name, index, state: 'running', previous: 'starting', port, restarts: 0 });
      return 'running';
    }

    // A deployed version's processes log beside the app's, in a folder of their own: two versions run at once during a switch.
    const logDir = app.version === undefined ? join(this.parts.logs, name) : join(this.parts.logs, name, `v${app.version}`);
    try {
      mkdirSync(logDir, { recursive: true, mode: 0o700 });
    } catch {
      // The log makes its folder itself, once it can (a full disk).
    }
    // A one-shot's outcome is its end (a failure it retries is not one yet).
    const settled = this.settled(key, instance.oneshot ? ENDED : SETTLED);
    app.keys.push(key);
    if (generation === 0) app.slots.set(`${instance.name}.${index}`, key);
    supervisor.start({
      id: key,
      command: plan.command ?? instance.command!,
      startup: instance.startup,
      cwd: manifest.directory,
      env: this.environment(manifest, instance, plan, app.serviceEnv, index, port),
      port,
      health: instance.health,
      stopGraceMs: instance.stopTimeout * 1000,
      logFile: join(logDir, `${instance.name}.${index}.log`),
      restart: instance.restart,
      maxRestarts: instance.maxRestarts,
    });
    return settled;
  }

  /** The next settled state of a supervised process. */
  private settled(key: string, outcome: ReadonlySet<ProcessState> = SETTLED): Promise<ProcessState> {
    const { supervisor } = this.parts;
    return new Promise<ProcessState>((resolve) => {
      const onState = (info: ProcessInfo) => {
        if (info.id === key && outcome.has(info.state)) {
          supervisor.off('state', onState);
          resolve(info.state);
        }
      };
      supervisor.on('state', onState);
    });
  }

  /**
   * Stops or starts again one process of a running app, by its slot ("web.1"):
   * a stopped process keeps its slot, stopped, until it is started again;
   * the router sends its share to the others meanwhile. Resolves with the
   * state it settles in.
   */
  async control(name: string, app: RunningApp | undefined, slot: { instance: string; index: number }, action: 'stop' | 'start'): Promise<ProcessState> {
    const { supervisor } = this.parts;
    if (!app) throw new PaasmakerError('APP_NOT_FOUND', `app "${name}" is not running here`, { hint: 'start it with: paasmaker up' });
    const key = app.slots.get(`${slot.instance}.${slot.index}`);
    const info = key === undefined ? undefined : supervisor.info(key);
    if (!key || !info) {
      const slots = [...app.slots.keys()].filter((candidate) => app.manifest.instances.some((instance) => !app.plans.get(instance.name)?.serve && candidate.startsWith(`${instance.name}.`)));
      throw new PaasmakerError('INSTANCE_NOT_FOUND', `no process ${slot.instance}.${slot.index} in ${name}`, { hint: slots.length > 0 ? `its processes: ${slots.join(', ')}` : `${name} runs no process of its own` });
    }
    if (action === 'stop') {
      await supervisor.stop(key);
      return 'stopped';
    }
    if (info.state !== 'stopped' && info.state !== 'crashed') return info.state;
    // A crashed process passes through stopped first: that is not the state it settles in.
    await supervisor.stop(key);
    const settled = this.settled(key);
    await supervisor.restart(key);
    return settled;
  }
}
