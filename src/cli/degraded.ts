import { existsSync } from 'node:fs';
import { apiSocketFor, callApi, runningDaemon } from '../api/client.js';
import type { Degraded } from '../shared/disk-space.js';
import { ownerAlive } from '../shared/owner.js';

/**
 * The running platforms of this home (the daemon, foreground `up`s holding
 * apps) that run degraded, asked through their API: a full disk keeps them
 * from writing it anywhere.
 */
export async function degradedPlatforms(home: string, owners: Array<{ pid: number; startTime: string | null }>): Promise<Array<{ pid: number; degraded: Degraded }>> {
  const sockets = new Map<number, string>();
  const daemon = runningDaemon(home);
  if (daemon) sockets.set(daemon.pid, daemon.socket);
  for (const owner of owners) if (!sockets.has(owner.pid) && ownerAlive(owner.pid, owner.startTime)) sockets.set(owner.pid, apiSocketFor(home, owner.pid));
  const answers = await Promise.all(
    [...sockets].filter(([, socket]) => existsSync(socket)).map(async ([pid, socket]) => {
      const status = await callApi<{ degraded?: Degraded | null }>(socket, 'GET', '/api/v1/status', undefined, 1500).catch(() => undefined);
      return status?.degraded ? [{ pid, degraded: status.degraded }] : [];
    }),
  );
  return answers.flat();
}

/** The line `ps` prints above its table. */
export function degradedLine(platform: { pid: number; degraded: Degraded }): string {
  const since = new Date(platform.degraded.since).toTimeString().slice(0, 8);
  return `degraded since ${since} (paasmaker pid ${platform.pid}): ${platform.degraded.reason} — apps and routing go on; state (this list too) and logs are written again once there is room`;
}
