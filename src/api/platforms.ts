import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { homeLayout } from '../shared/paths.js';
import type { PlatformPorts } from '../engine/index.js';
import type { Status } from '../shared/views.js';
import { callApi, runningDaemon } from './client.js';

/** Whether a process with this pid exists (a socket left by a dead one does not count). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The API sockets of every running platform of a home: the daemon's first,
 * then each foreground `up`'s (run/up-PID.sock of a live pid). Found without
 * opening state.db.
 */
export function platformSockets(home?: string): string[] {
  const layout = homeLayout(home);
  const found = new Set<string>();
  const daemon = runningDaemon(layout.root);
  if (daemon) found.add(daemon.socket);
  for (const name of existsSync(layout.run) ? readdirSync(layout.run) : []) {
    const pid = /^up-(\d+)\.sock$/.exec(name)?.[1];
    if (pid && pidAlive(Number(pid))) found.add(join(layout.run, name));
  }
  return [...found];
}

/** A running platform of this home, as its API tells: which process, and the ports its router and DNS responder took. */
export type RunningPlatform = PlatformPorts;

/** Every running platform of a home that answers its API (the daemon first), with the ports it took. */
export async function runningPlatforms(home: string): Promise<RunningPlatform[]> {
  const daemon = runningDaemon(home);
  const answers = await Promise.all(
    platformSockets(home).map(async (socket) => {
      const status = await callApi<Partial<Status>>(socket, 'GET', '/api/v1/status', undefined, 2000).catch(() => undefined);
      if (!status?.pid) return [];
      return [{ pid: status.pid, kind: status.pid === daemon?.pid ? ('daemon' as const) : ('up' as const), proxyPort: status.proxyPort ?? null, dnsPort: status.dnsPort ?? null, tlsPort: status.tlsPort ?? null }];
    }),
  );
  return answers.flat();
}
