import type { DiskSpace } from '../shared/disk-space.js';
import type { Owner } from '../shared/owner.js';
import type { State } from '../state/index.js';
import type { Supervisor } from '../supervisor/index.js';
import type { AppRuns } from './app-runs.js';
import type { Edge } from './edge.js';
import type { EventSink } from './events.js';
import type { Jobs } from './jobs.js';
import type { Leftovers } from './leftovers.js';
import type { Lifecycle } from './lifecycle.js';
import { recordProcess } from './process-reports.js';
import type { RunningApp } from './running-app.js';

export interface RecoveryParts {
  space: DiskSpace;
  state: State;
  owner: Owner;
  running: Map<string, RunningApp>;
  supervisor: Supervisor;
  apps: AppRuns;
  leftovers: Leftovers;
  jobs: Jobs;
  edge: Edge;
  life: Lifecycle;
  events: EventSink;
}

/**
 * Degraded mode: routing and apps go on; state and logs wait for room. Once
 * the probe finds room, what the platform knows now is written again.
 */
export function recoverWhenRoom(parts: RecoveryParts): void {
  const { space, state, owner, running, supervisor, apps, leftovers, jobs, edge, life, events } = parts;
  space.on('change', (degraded) => {
    const say = (line: string) => events.emit('log.line', { app: '', source: 'paasmaker', stream: degraded ? 'err' : 'system', line, time: Date.now() });
    if (degraded) {
      say(`degraded: ${degraded.reason}; apps and routing go on, state and logs are written again once there is room`);
      return;
    }
    say('the disk has room again: writing state and logs again');
    if (!life.stateOpen) return;
    // Every write of this platform was dropped while degraded: state.db is rebuilt from what it knows now.
    for (const record of state.apps.list()) {
      // Stopped while the disk was full.
      if (leftovers.mine(record) && !running.has(record.name)) {
        state.processes.markStopped(record.name);
        state.apps.release(record.name);
      }
    }
    for (const app of running.values()) {
      const name = app.manifest.application.name;
      // An app started while the disk was full was never recorded.
      if (!state.apps.get(name)) state.apps.upsert({ name, directory: app.manifest.directory, manifest: app.manifest.file, only: app.manifest.only, state: 'running', ownerPid: owner.pid, ownerStart: owner.startTime });
      // Its quantities as scaled now; slots scaled away go with the rest.
      apps.recordInstances(app);
      state.processes.clear(name);
      for (const key of app.slots.values()) {
        const info = supervisor.info(key);
        if (info) recordProcess(state, info);
      }
    }
    leftovers.rewrite();
    jobs.rewrite();
    edge.flushTraffic();
  });
}
