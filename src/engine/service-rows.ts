import type { ServerStatus } from '../services/index.js';
import type { ServiceRecord } from '../state/index.js';
import type { ServiceRow } from '../shared/views.js';

/** The managed servers, then the provisioned services, as one flat list (`paasmaker services --json`). */
export function serviceRows(records: ServiceRecord[], servers: ServerStatus[]): ServiceRow[] {
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
