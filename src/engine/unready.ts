import type { Supervisor } from '../supervisor/index.js';
import type { RunningApp } from './running-app.js';

/** A routed process that is not serving: what happened to it, and its last lines. */
export interface UnreadyProcess {
  /** "web.0" */
  process: string;
  state: string;
  /** "exited with code 3; restarting in 1s" */
  reason: string;
  lines: string[];
}

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
    .flatMap((instance) => Array.from({ length: instance.quantity }, (_, index) => `${instance.name}.${index}`))
    .flatMap((slot) => {
      const key = app.slots.get(slot);
      const info = key === undefined ? undefined : supervisor.info(key);
      if (key === undefined || !info || info.state === 'running') return [];
      const exit = info.lastExit?.reason ?? `is ${info.state}`;
      const next = info.state === 'backoff' && info.nextRestartAt !== undefined ? `; restarting in ${delayText(info.nextRestartAt - now)}` : info.state === 'crashed' ? '; not restarting' : '';
      const lines = supervisor
        .tail(key, 20)
        .filter((line) => line.stream !== 'system')
        .slice(-8)
        .map((line) => line.line);
      return [{ process: slot, state: info.state, reason: `${exit}${next}`, lines }];
    });
}
