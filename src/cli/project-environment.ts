import { callApi } from '../api/client.js';
import type { ProjectEnvironmentRow } from '../api/index.js';
import type { Platform } from '../engine/index.js';
import type { ResolvedManifest } from '../manifest/index.js';
import { appPlatform, runningPlatform } from './running-platform.js';

export type ProjectEnvironment = ProjectEnvironmentRow;

/**
 * Runs fn with a platform of this command's own, with progress lines on
 * stderr (stdout stays for the answer). Only for when no platform runs.
 */
export async function withPlatform<T>(fn: (platform: Platform) => Promise<T>): Promise<T> {
  const { Platform } = await import('../engine/index.js');
  const platform = await Platform.open();
  platform.on('log.line', (event) => {
    if (event.source === 'services') process.stderr.write(`paasmaker | ${event.line}\n`);
  });
  try {
    return await fn(platform);
  } finally {
    await platform.close();
  }
}

/**
 * Where to ask for a project's environment: the platform that runs its app,
 * else any running platform (the daemon provisions the services); undefined
 * when no platform runs.
 */
export async function platformFor(app: string): Promise<{ socket: string; runsApp: boolean } | undefined> {
  const socket = runningPlatform();
  if (!socket) return undefined;
  const owner = await appPlatform(socket, app);
  return owner ? { socket: owner, runsApp: true } : { socket, runsApp: false };
}

/**
 * Runs use with a project's environment (see POST /api/v1/environment): from
 * the running platform (platformFor) over its Unix socket, whose managed
 * servers outlive the call; only when none runs, from a platform of this
 * command's own, held open until use is done (a managed database server
 * lives as long as its platform).
 */
export async function withProjectEnvironment<T>(
  manifest: ResolvedManifest,
  where: { socket: string } | undefined,
  options: { instance?: string; command?: boolean; service?: string },
  use: (answer: ProjectEnvironment) => Promise<T>,
): Promise<T> {
  if (where) return use(await callApi<ProjectEnvironment>(where.socket, 'POST', '/api/v1/environment', { directory: manifest.directory, ...options }));
  const { projectEnvironment } = await import('../engine/index.js');
  return withPlatform(async (platform) => use(await projectEnvironment(platform, manifest, options)));
}
