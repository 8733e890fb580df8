import { getRuntime } from '../../runtimes/index.js';
import type { Supervisor } from '../supervisor/index.js';
import type { z } from 'zod';
import type { UnreadySchema } from '../shared/views.js';
import { readinessHint } from './readiness-hint.js';
import type { RunningApp } from './running-app.js';

/** A routed process that is not serving: what happened to it, its last lines, and the likely fix when its runtime knows one. */
export type UnreadyProcess = z.infer<typeof UnreadySchema>;

function delayText(ms: number): string {
  return ms >= 950 ? `${Math.round(ms / 100) / 10}s` : `${Math.max(0, ms)}ms`;
}

/**
 * The routed (non-standalone) processes of an app that are not running now.
 * An app is up only when this is empty; workers and static servers do not count.
 */
export function unreadyProcesses(app: RunningApp, supervisor: Supervisor, now = Date.now()): UnreadyProcess[] {
  return app.manifest.instances
    .filter((instance) => !instance.standalone)
    .flatMap((instance) => Array.from({ length: instance.quantity }, (_, index) => ({ instance, slot: `${instance.name}.${index}` })))
    .flatMap(({ instance, slot }) => {
      const key = app.slots.get(slot);
      const info = key === undefined ? undefined : supervisor.info(key);
      if (key === undefined || !info || info.state === 'running') return [];
      const exit = info.lastExit?.reason ?? `is ${info.state}`;
      const next = info.state === 'backoff' && info.nextRestartAt !== undefined ? `; restarting in ${delayText(info.nextRestartAt - now)}` : info.state === 'crashed' || info.state === 'exited' ? '; not restarting' : '';
      // A stack trace runs longer than the lines shown: its runtime reads more of them for a hint.
      const recent = supervisor
        .tail(key, 60)
        .filter((line) => line.stream !== 'system')
        .map((line) => line.line);
      const lines = recent.slice(-8);
      const hint = readinessHint(info, instance, app.manifest) ?? getRuntime(instance.runtime.name).crashHint?.(recent, app.manifest.directory);
      // A process that never became ready and was not given up by readiness: it ended on its own before it listened.
      const early = !info.notReady && info.readyAfterMs === undefined && info.lastExit ? ' before it listened on $PORT' : '';
      return [{ process: slot, state: info.state, reason: `${exit}${early}${next}`, lines, ...(hint ? { hint } : {}) }];
    });
}
