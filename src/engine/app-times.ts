import type { AppRecord, State } from '../state/index.js';
import type { EventSink } from './events.js';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** When an app was last deployed and reloaded, as its row (GET /api/v1/apps) and the `app.deployed` event give them. */
export function appTimes(record: Pick<AppRecord, 'deployedAt' | 'reloadedAt'> | undefined): { deployedAt: string | null; reloadedAt: string | null } {
  return { deployedAt: iso(record?.deployedAt), reloadedAt: iso(record?.reloadedAt) };
}

/** An app was started by an up (deploy) or restarted or reloaded (reload): recorded in state, and said as an `app.deployed` event. */
export function recordDeploy(parts: { state: State; events: EventSink }, app: string, kind: 'deploy' | 'reload'): void {
  const at = Date.now();
  parts.state.apps.markDeployed(app, kind, at);
  // The time just taken, even when a full disk dropped the write.
  const times = { ...appTimes(parts.state.apps.get(app)), [kind === 'deploy' ? 'deployedAt' : 'reloadedAt']: iso(at) };
  parts.events.emit('app.deployed', { app, kind, deployedAt: times.deployedAt, reloadedAt: times.reloadedAt });
}
