import type { PluginRow } from '../shared/views.js';
import { registry } from '../shared/plugin-registry.js';

/** The registry's plugins as `paasmaker plugins` and GET /api/v1/plugins show them. */
export function pluginRows(): PluginRow[] {
  return registry.list().map((record) => ({
    name: record.name,
    origin: record.origin,
    version: record.version ?? null,
    runtimes: record.runtimes,
    services: record.services,
    state: record.state,
    error: record.error ?? null,
    hint: record.hint ?? null,
  }));
}
