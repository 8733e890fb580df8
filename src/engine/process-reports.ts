import type { RuntimePlan } from '../../runtimes/index.js';
import type { ResolvedManifest } from '../manifest/index.js';
import type { State } from '../state/index.js';
import type { ProcessInfo, Supervisor } from '../supervisor/index.js';
import { parseProcessKey, type EventSink } from './events.js';
import type { Edge } from './edge.js';
import type { Jobs } from './jobs.js';
import type { Lifecycle } from './lifecycle.js';
import { recordLivenessRestarts } from './liveness.js';
import type { RunningApp } from './running-app.js';

/** An app's instance types as state.db keeps them for listings, with their quantities as the manifest (or a scale) says, and each command as it is run (its plan's, a port flag added). */
export function recordInstances(state: State, manifest: ResolvedManifest, plans?: ReadonlyMap<string, RuntimePlan>): void {
  const app = manifest.application.name;
  state.instances.replace(
    app,
    manifest.instances.map((instance) => ({ app, name: instance.name, runtime: instance.runtime.name, command: plans?.get(instance.name)?.command ?? instance.command ?? null, quantity: instance.quantity, standalone: instance.standalone })),
  );
}

/** A process's slot as state.db keeps it for listings. */
export function recordProcess(state: State, info: ProcessInfo): void {
  const key = parseProcessKey(info.id);
  if (!key) return;
  state.processes.put({
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

/**
 * What the supervisor says of the apps' processes goes to the router's table,
 * to state.db and out as events; their output goes out as log lines.
 */
export function reportProcesses(parts: { supervisor: Supervisor; state: State; running: Map<string, RunningApp>; standby: Map<string, RunningApp>; edge: Edge; jobs: Jobs; life: Lifecycle; events: EventSink }): void {
  const { supervisor, state, running, standby, edge, jobs, life, events } = parts;
  supervisor.on('state', (info, previous) => {
    const key = parseProcessKey(info.id);
    if (!key || !life.stateOpen) return;
    const front = running.get(key.app);
    // The app's front run (what APP.localhost reaches) is routed and recorded as the app; another running version only routed, as itself.
    const app = front && front.version === key.version ? front : standby.get(key.run);
    if (!app) return;
    edge.routes?.observe(info, previous);
    edge.routes?.refresh(app === front ? key.app : key.run, key.instance, app.keys);
    if (app !== front) return;
    // A reload's process waiting beside the current one, or a retired one draining, is not the slot's.
    if (app.slots.get(`${key.instance}.${key.index}`) !== info.id) return;
    recordProcess(state, info);
    events.emit('instance.state', {
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
  supervisor.on('line', (line) => {
    const key = parseProcessKey(line.id);
    if (!key) return;
    // Another version's lines say which: "v3/web.0".
    const front = running.get(key.app);
    const own = key.version === undefined || front?.version === key.version ? '' : `v${key.version}/`;
    events.emit('log.line', { app: key.app, source: `${own}${key.instance}.${key.index}`, stream: line.stream, line: line.line, time: line.time });
  });
  recordLivenessRestarts(supervisor, jobs, (app) => running.has(app) && life.stateOpen);
}
