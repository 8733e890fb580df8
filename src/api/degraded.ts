import { existsSync } from 'node:fs';
import type { Degraded } from '../shared/disk-space.js';
import { ownerAlive } from '../shared/owner.js';
import type { Status } from '../shared/views.js';
import { apiSocketFor, callApi, runningDaemon } from './client.js';

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
      const status = await callApi<Partial<Status>>(socket, 'GET', '/api/v1/status', undefined, 1500).catch(() => undefined);
      return status?.degraded ? [{ pid, degraded: status.degraded }] : [];
    }),
  );
  return answers.flat();
}
