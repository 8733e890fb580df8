import type { ResolvedInstance } from '../manifest/index.js';
import { errorText, PaasmakerError } from '../shared/errors.js';
import type { State } from '../state/index.js';
import type { Supervisor } from '../supervisor/index.js';
import { recordDeploy } from './app-times.js';
import type { Edge } from './edge.js';
import { parseProcessKey, processKey, type EventSink } from './events.js';
import type { Jobs } from './jobs.js';
import { succeeded, type Launcher } from './launcher.js';
import type { Lifecycle } from './lifecycle.js';
import { recordProcess } from './process-reports.js';
import { runOf, type ReloadStart, type RunningApp } from './running-app.js';

export interface RollingParts {
  supervisor: Supervisor;
  state: State;
  running: Map<string, RunningApp>;
  life: Lifecycle;
  edge: Edge;
  launcher: Launcher;
  jobs: Jobs;
  events: EventSink;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Processes the router no longer sends new requests to: each finishes what
 * it has in flight (10 s at most), its WebSockets get a short grace, then it
 * stops and is forgotten.
 */
export async function drainAndStop(parts: { edge: Edge; supervisor: Supervisor }, keys: string[]): Promise<void> {
  const { edge, supervisor } = parts;
  await Promise.all(
    keys.map(async (key) => {
      const port = supervisor.info(key)?.port;
      // Out of the router already: its idle kept-alive connections close now, the busy ones once answered.
      if (port !== undefined) edge.router?.forgetPort(port);
      const deadline = Date.now() + 10_000;
      while (edge.router && edge.router.inFlight(key) > 0 && Date.now() < deadline) await delay(10);
      if (port !== undefined) {
        // Again, for a connection opened since (a request sent again after a stale one failed).
        edge.router?.forgetPort(port);
        // WebSockets (a dev server's live reload) get a short grace to finish or move over.
        const grace = Date.now() + 2000;
        while (edge.router && edge.router.tunnelsTo(port) > 0 && Date.now() < grace) await delay(20);
      }
      await supervisor.stop(key);
      supervisor.remove(key);
    }),
  );
}

/**
 * Replacing an app's processes while it serves: rolling reloads (on save,
 * on restart) and live scaling. Nothing here stops a process before its
 * successor is ready and its requests have finished.
 */
export class RollingUpdates {
  constructor(private readonly parts: RollingParts) {}

  /**
   * A rolling reload: each routed process gets a successor on a new port; once
   * the successor is ready the router sends new requests to it, the old one
   * finishes what it has in flight and stops. A successor that fails leaves
   * the old one serving, and the failure is reported with its last lines.
   * Workers (standalone) restart in place. Saves during a reload coalesce
   * into one more reload after it.
   */
  reload(name: string, options: { instances?: string[]; reason?: string } = {}): Promise<boolean> {
    const app = this.parts.running.get(name);
    if (!app) return Promise.resolve(false);
    if (app.reloadQueued) return app.reloadQueued;
    const replaced = this.supersede(app, options.instances);
    // What the stopped reload was for (an environment diff, say) is told by the one that takes over.
    if (replaced !== undefined && replaced !== options.reason) options = { ...options, reason: options.reason === undefined ? replaced : `${replaced}\n${options.reason}` };
    const previous = app.reloading ?? Promise.resolve(true);
    const queued = previous.then(async () => {
      app.reloadQueued = undefined;
      const current = this.reloadNow(app, options);
      app.reloading = current;
      return current;
    });
    app.reloadQueued = queued;
    return queued;
  }

  private async reloadNow(app: RunningApp, options: { instances?: string[]; reason?: string }): Promise<boolean> {
    const name = app.manifest.application.name;
    if (this.parts.life.closed || this.parts.running.get(name) !== app) return false;
    // A one-shot ran when the app started; it runs again only when named (paasmaker restart APP release).
    const named = (instance: ResolvedInstance) => (options.instances ? options.instances.includes(instance.name) : !instance.oneshot);
    const instances = app.manifest.instances.filter((instance) => named(instance) && !app.plans.get(instance.name)?.serve);
    if (instances.length === 0) return true;
    const title = `reload ${instances.map((instance) => instance.name).join(', ')}`;
    return this.parts.jobs.run(
      name,
      title,
      async (job) => {
        try {
          // A deployed version was prepared once, when it was made: its code does not change.
          if (app.version === undefined) for (const instance of instances) await this.parts.launcher.prepare(app.manifest, instance, app.plans.get(instance.name)!, false, app.serviceEnv);
        } catch (error) {
          this.parts.jobs.transition(job, 'failed', `${errorText(error)}\nStill running the previous version.`);
          return false;
        }
        const generation = ++app.generation;
        const starting: ReloadStart = { instances: new Set(instances.map((instance) => instance.name)), reason: options.reason, superseded: false, keys: [] };
        app.starting = starting;
        try {
          for (const instance of instances) {
            const ok = starting.superseded ? 'superseded' : instance.standalone ? await this.restartInPlace(app, instance, generation) : await this.rollOver(app, instance, generation, starting);
            if (ok === 'superseded') {
              this.parts.jobs.transition(job, 'aborted', 'files changed again while the new processes started: the next reload takes over');
              return false;
            }
            if (!ok) {
              this.parts.jobs.transition(job, 'failed', this.failureDetail);
              return false;
            }
          }
        } finally {
          if (app.starting === starting) app.starting = undefined;
        }
        recordDeploy(this.parts, name, 'reload');
        return true;
      },
      { detail: options.reason },
    );
  }

  private failureDetail = '';

  /**
   * A newer change makes successors still starting pointless (they run the
   * code before it): they are stopped, so the reload after them starts now
   * instead of after a switch to what is already out of date. Only when the
   * new reload replaces every instance type the running one does. Returns
   * the stopped reload's reason.
   */
  private supersede(app: RunningApp, instances: string[] | undefined): string | undefined {
    const starting = app.starting;
    if (!starting || starting.superseded) return undefined;
    const next = instances === undefined ? undefined : new Set(instances);
    if (next && [...starting.instances].some((instance) => !next.has(instance))) return undefined;
    starting.superseded = true;
    for (const key of starting.keys) void this.parts.supervisor.stop(key);
    return starting.reason;
  }

  /**
   * A restart asked for by a user (CLI, API): of an app running here, and of
   * instance types it has; a reload does the work.
   */
  async restart(name: string, instanceName?: string): Promise<boolean> {
    const app = this.runningApp(name);
    if (instanceName !== undefined) this.instanceOf(app, instanceName);
    return this.reload(name, { instances: instanceName === undefined ? undefined : [instanceName], reason: 'restart' });
  }

  private runningApp(name: string): RunningApp {
    const app = this.parts.running.get(name);
    if (!app) throw new PaasmakerError('APP_NOT_FOUND', `app "${name}" is not running here`, { hint: 'start it with: paasmaker up' });
    return app;
  }

  private instanceOf(app: RunningApp, instanceName: string): ResolvedInstance {
    const instance = app.manifest.instances.find((candidate) => candidate.name === instanceName);
    if (instance) return instance;
    throw new PaasmakerError('INSTANCE_NOT_FOUND', `no instance ${JSON.stringify(instanceName)} in ${app.manifest.application.name}`, { hint: `its instance types: ${app.manifest.instances.map((candidate) => candidate.name).join(', ')}` });
  }

  /** Successors beside the current processes; the switch only when every one is ready. */
  private async rollOver(app: RunningApp, instance: ResolvedInstance, generation: number, starting: ReloadStart): Promise<boolean | 'superseded'> {
    const name = app.manifest.application.name;
    const indexes = Array.from({ length: instance.quantity }, (_, index) => index);
    const fresh = indexes.map((index) => processKey(runOf(app), instance.name, index, generation));
    starting.keys.push(...fresh);
    const states = await Promise.all(indexes.map((index) => this.parts.launcher.startProcess(app, instance, index, generation)));
    if (starting.superseded) {
      // Stopped (or, started just before, out of date): the reload queued behind this one starts the next.
      await this.retire(app, fresh);
      return 'superseded';
    }
    starting.keys = [];
    if (states.some((state) => state !== 'running')) {
      const failed = fresh[states.findIndex((state) => state !== 'running')]!;
      const info = this.parts.supervisor.info(failed);
      const tail = this.parts.supervisor.tail(failed, 8).map((line) => `  ${line.line}`);
      const how = info?.lastExit?.reason ?? 'did not become ready';
      this.failureDetail = [`the new ${instance.name} ${how}; the previous version keeps serving`, ...tail].join('\n');
      await this.retire(app, fresh);
      return false;
    }
    const old = indexes.map((index) => app.slots.get(`${instance.name}.${index}`)).filter((key): key is string => key !== undefined);
    // The app switched to another version meanwhile: these processes are not its any more.
    if (this.parts.running.get(name) !== app) {
      await this.retire(app, fresh);
      return false;
    }
    for (const [index, key] of fresh.entries()) {
      app.slots.set(`${instance.name}.${index}`, key);
      const info = this.parts.supervisor.info(key);
      if (info) {
        recordProcess(this.parts.state, info);
        this.parts.events.emit('instance.state', { app: name, instance: instance.name, index, state: info.state, previous: 'starting', pid: info.pid, port: info.port, restarts: info.restarts });
      }
    }
    await this.retire(app, old);
    return true;
  }

  /** Takes processes out of the router, lets their requests finish, then stops them. */
  private async retire(app: RunningApp, keys: string[]): Promise<void> {
    const name = app.manifest.application.name;
    app.keys = app.keys.filter((key) => !keys.includes(key));
    const instances = new Set(keys.map((key) => parseProcessKey(key)?.instance).filter((instance): instance is string => instance !== undefined));
    // Only the app's front run owns its routes (a version switched out drains on its own).
    if (this.parts.running.get(name) === app) for (const instance of instances) this.parts.edge.routes?.refresh(name, instance, app.keys);
    await drainAndStop(this.parts, keys);
  }

  /** A worker has no traffic to hand over: stop it, start its successor. */
  private async restartInPlace(app: RunningApp, instance: ResolvedInstance, generation: number): Promise<boolean> {
    const name = app.manifest.application.name;
    let ok = true;
    for (let index = 0; index < instance.quantity; index++) {
      const old = app.slots.get(`${instance.name}.${index}`);
      if (old) await this.retire(app, [old]);
      const key = processKey(runOf(app), instance.name, index, generation);
      app.slots.set(`${instance.name}.${index}`, key);
      const state = await this.parts.launcher.startProcess(app, instance, index, generation);
      if (!succeeded(instance, state)) {
        ok = false;
        this.failureDetail = [`the new ${instance.name}.${index} did not start`, ...this.parts.supervisor.tail(key, 20).map((line) => `  ${line.line}`)].join('\n');
      }
    }
    return ok;
  }

  /**
   * Changes how many processes an instance type runs, live: new ones start
   * beside the others and join the router when ready; removed ones are taken
   * out of the router, drained, then stopped. The others are not touched.
   */
  async scale(name: string, instanceName: string, quantity: number): Promise<{ from: number; to: number }> {
    const app = this.runningApp(name);
    const instance = this.instanceOf(app, instanceName);
    if (!Number.isInteger(quantity) || quantity < 0 || quantity > 64) throw new PaasmakerError('USAGE', `a quantity is a whole number from 0 to 64 (got ${quantity})`);
    if (app.plans.get(instanceName)?.serve) throw new PaasmakerError('USAGE', `${instanceName} is a static instance, served by the router itself: there is nothing to scale`);
    const from = instance.quantity;
    const scaled = { ...instance, quantity };
    app.manifest = { ...app.manifest, instances: app.manifest.instances.map((candidate) => (candidate === instance ? scaled : candidate)) };
    this.parts.state.instances.setQuantity(name, instanceName, quantity);
    if (quantity > from) {
      await Promise.all(Array.from({ length: quantity - from }, (_, n) => this.parts.launcher.startProcess(app, scaled, from + n, 0)));
    } else if (quantity < from) {
      const slots = Array.from({ length: from - quantity }, (_, n) => `${instanceName}.${quantity + n}`);
      const keys = slots.map((slot) => app.slots.get(slot)).filter((key): key is string => key !== undefined);
      for (const slot of slots) app.slots.delete(slot);
      await this.retire(app, keys);
      for (let index = quantity; index < from; index++) this.parts.state.processes.remove(name, instanceName, index);
    }
    this.parts.jobs.record(name, `scale ${instanceName} ${from} → ${quantity}`, 'success');
    return { from, to: quantity };
  }
}
