import { existsSync } from 'node:fs';
import { apiSocketFor, callApi, runningDaemon } from '../api/index.js';
import { isPaasmakerError } from '../shared/errors.js';
import { ownerAlive } from '../shared/owner.js';
import { homeLayout } from '../shared/paths.js';
import { readState } from './read-state.js';

/** The socket of a running platform of this home: the daemon's, else a foreground `up`'s; undefined when none runs. */
export function runningPlatform(): string | undefined {
  const home = homeLayout().root;
  const daemon = runningDaemon(home);
  if (daemon) return daemon.socket;
  const owners = readState((state) => state.apps.list().map((record) => ({ pid: record.ownerPid, start: record.ownerStart }))) ?? [];
  for (const owner of owners) {
    if (owner.pid === null || !ownerAlive(owner.pid, owner.start)) continue;
    const socket = apiSocketFor(home, owner.pid);
    if (existsSync(socket)) return socket;
  }
  return undefined;
}

/**
 * A read from the running platform's API (`daemon`: only the daemon's);
 * when none runs (or it went away between the look and the call) from
 * `offline`, which starts nothing.
 */
export async function readFromPlatform<T>(path: string, offline: () => T | Promise<T>, options: { timeoutMs?: number; daemon?: boolean } = {}): Promise<T> {
  const { timeoutMs = 5000 } = options;
  const socket = options.daemon ? runningDaemon(homeLayout().root)?.socket : runningPlatform();
  if (socket) {
    try {
      return await callApi<T>(socket, 'GET', path, undefined, timeoutMs);
    } catch (error) {
      if (!isPaasmakerError(error) || error.code !== 'PLATFORM_UNREACHABLE') throw error;
    }
  }
  return offline();
}
