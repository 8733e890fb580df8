import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { apiSocketFor, callApi, runningDaemon } from '../api/client.js';
import type { AppSchema } from '../api/routes.js';
import type { z } from 'zod';
import { isPaasmakerError } from '../shared/errors.js';
import { homeLayout } from '../shared/paths.js';

/** Whether a process with this pid exists (a socket left by a dead one does not count). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The API sockets of every running platform of this home: the daemon's
 * first, then each foreground `up`'s (run/up-PID.sock of a live pid). Found
 * without opening state.db.
 */
export function platformSockets(): string[] {
  const layout = homeLayout();
  const found = new Set<string>();
  const daemon = runningDaemon(layout.root);
  if (daemon) found.add(daemon.socket);
  for (const name of existsSync(layout.run) ? readdirSync(layout.run) : []) {
    const pid = /^up-(\d+)\.sock$/.exec(name)?.[1];
    if (pid && pidAlive(Number(pid))) found.add(join(layout.run, name));
  }
  return [...found];
}

/** The socket of a running platform (any answers for the whole state), the daemon's first; undefined when none runs. */
export function runningPlatform(): string | undefined {
  return platformSockets()[0];
}

/**
 * Asks the running platform, if one does, with ask; when none runs (or the one
 * found went away between the look and the call) the read-only view answers.
 */
export async function fromPlatform<T>(ask: (socket: string) => Promise<T>, otherwise: () => T | Promise<T>): Promise<T> {
  const socket = runningPlatform();
  if (socket) {
    try {
      return await ask(socket);
    } catch (error) {
      if (!isPaasmakerError(error) || error.code !== 'PLATFORM_UNREACHABLE') throw error;
    }
  }
  return otherwise();
}

/**
 * The socket of the platform that runs this app (the daemon, or a foreground
 * up), asked through a running platform's API; undefined when none runs it.
 */
export async function appPlatform(socket: string, app: string): Promise<string | undefined> {
  const record = await callApi<z.infer<typeof AppSchema>>(socket, 'GET', `/api/v1/apps/${encodeURIComponent(app)}`, undefined, 5000).catch((error: unknown) => {
    if (isPaasmakerError(error) && error.code === 'APP_NOT_FOUND') return undefined;
    throw error;
  });
  if (!record || record.state === 'stopped' || record.ownerPid === null || !pidAlive(record.ownerPid)) return undefined;
  const owner = apiSocketFor(homeLayout().root, record.ownerPid);
  return existsSync(owner) ? owner : undefined;
}
