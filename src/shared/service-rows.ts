import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { registry } from './plugin-registry.js';
import type { ServiceRow } from './views.js';

/** A managed server's state, as `paasmaker services` shows it. */
export interface ServerStatus {
  plugin: string;
  /** restarting: the platform that runs it is restarting it after a crash. */
  state: 'running' | 'restarting' | 'stopped' | 'external';
  port?: number;
  pid?: number;
  version?: string;
  /** Bytes on disk of its data folder. */
  size?: number;
  dataDir?: string;
}

/** A provisioned service as state.db records it (src/state's ServiceRecord adds when it was made). */
export interface ProvisionedRecord {
  app: string;
  service: string;
  /** '' unless the service has a database per git branch. */
  branch: string;
  /** The plugin that provisioned it (postgres, redis-external, …). */
  plugin: string;
  /** The name the manifest used for it, as mapped by config.yml. */
  symbolic: string;
  /** What was made: a database name, a Redis db index, a file or folder path. */
  resource: string;
  /** The git work tree a per-branch service was provisioned for (null: shared, or recorded before Paasmaker noted it). */
  checkout?: string | null;
}

/** The plugins that run a server of their own under $PAASMAKER_HOME/services/<plugin>. */
const MANAGED_SERVERS = ['postgres', 'mysql', 'redis'];

/** The built-in managed servers, and the plugins' services (a plugin's server keeps its data under services/<plugin> too). */
export const managedNames = (): string[] => [...MANAGED_SERVERS, ...registry.serviceNames.filter((name) => registry.service(name)?.origin !== 'built-in')];

export function folderSize(path: string): number {
  let total = 0;
  try {
    const stats = lstatSync(path);
    if (!stats.isDirectory()) return stats.size;
    total += stats.size;
    for (const entry of readdirSync(path)) total += folderSize(join(path, entry));
  } catch {
    // vanished while counting
  }
  return total;
}

/**
 * The managed servers' data folders when no platform runs: a server dies
 * with the platform that started it, so each is stopped.
 */
export function idleServers(home: string): ServerStatus[] {
  return managedNames().flatMap((plugin) => {
    const dir = join(home, 'services', plugin);
    return existsSync(dir) ? [{ plugin, state: 'stopped' as const, size: folderSize(dir), dataDir: dir }] : [];
  });
}

/** The managed servers, then the provisioned services, as one flat list (`paasmaker services --json`). */
export function serviceRows(records: ProvisionedRecord[], servers: ServerStatus[]): ServiceRow[] {
  return [
    ...servers.map((server) => ({
      kind: 'server' as const,
      name: server.plugin,
      app: null,
      service: null,
      branch: null,
      plugin: server.plugin,
      symbolic: null,
      state: server.state,
      version: server.version ?? null,
      port: server.port ?? null,
      pid: server.pid ?? null,
      size: server.size ?? null,
      resource: server.dataDir ?? null,
      checkout: null,
    })),
    ...records.map((record) => ({
      kind: 'service' as const,
      name: `${record.app}/${record.service}`,
      app: record.app,
      service: record.service,
      branch: record.branch || null,
      plugin: record.plugin,
      symbolic: record.symbolic,
      state: 'provisioned',
      version: null,
      port: null,
      pid: null,
      size: null,
      resource: record.resource,
      checkout: record.checkout ?? null,
    })),
  ];
}
