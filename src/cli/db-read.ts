import { callApi } from '../api/index.js';
import type { Platform } from '../engine/index.js';
import type { ResolvedManifest } from '../manifest/index.js';
import { isPaasmakerError, PaasmakerError } from '../shared/errors.js';
import { paasmakerHome } from '../shared/paths.js';
import { dataPlatform, projectManifest } from './data-jobs.js';
import { withPlatform } from './project-environment.js';

// What db query and db describe share: the project's app, the service
// (the one named, else the first that can be queried), and the platform
// that reads it: the running one through its API, else one of the
// command's own, as db dump does.

export interface ReadTarget {
  manifest: ResolvedManifest;
  app: string;
  service: string;
}

/** The project in `dir` and the service to read: the one named, else the first whose plugin can be queried. */
export async function readTarget(dir: string, service: string | undefined): Promise<ReadTarget> {
  const manifest = await projectManifest(dir);
  const app = manifest.application.name;
  const chosen = service ?? (await import('../services/index.js')).defaultQueryService(manifest, paasmakerHome());
  if (!chosen) {
    throw new PaasmakerError('SERVICE_NOT_FOUND', `none of ${app}'s services can be queried (${manifest.services.map((each) => `${each.name}: ${each.plugin}`).join(', ') || 'it declares none'})`, {
      hint: 'postgres, mysql, sqlite and redis services (and their -external forms) can',
    });
  }
  return { manifest, app, service: chosen };
}

/**
 * Asks the running platform's API (`path` under /api/v1/services/APP/SERVICE),
 * else, when none runs, a platform of this command's own (`local`).
 */
export async function readService<T>(target: ReadTarget, api: { method: 'GET' | 'POST'; path: string; body?: unknown }, local: (platform: Platform, request: ReturnType<Platform['services']['provisioned']>) => Promise<T>): Promise<T> {
  const socket = await dataPlatform(target.app);
  if (socket) {
    const url = `/api/v1/services/${encodeURIComponent(target.app)}/${encodeURIComponent(target.service)}/${api.path}`;
    try {
      return await callApi<T>(socket, api.method, url, api.body, 60_000);
    } catch (error) {
      if (isPaasmakerError(error) && error.code === 'APP_NOT_FOUND') {
        throw new PaasmakerError('APP_NOT_FOUND', `the running platform has never run ${target.app}`, { hint: 'start it once: paasmaker up -d (its services are made then), then try again' });
      }
      throw error;
    }
  }
  return withPlatform(async (platform) => local(platform, platform.services.provisioned(target.app, target.service, { manifest: target.manifest })));
}

/** A cell as a table shows it: NULL, text on one line, JSON for the rest, cut at `width` characters. */
export function cellText(value: unknown, width = 120): string {
  const text = value === null ? 'NULL' : typeof value === 'string' ? value : JSON.stringify(value);
  const line = text.replace(/\r?\n/g, '\\n').replace(/\t/g, '\\t');
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}
