import type { ServiceRow } from '../../api/index.js';
import { table } from '../output.js';
import { readFromPlatform } from '../running-platform.js';
import { defineCommand } from '../command.js';

export default defineCommand<{ json?: boolean }>({
  name: 'services',
  description: 'managed database servers and provisioned services',
  options: [{ flags: '--json', description: 'print a JSON array of flat objects: servers, then services' }],
  examples: ['paasmaker services', 'paasmaker services --json'],
  run: ({ options }) => servicesList(options),
});

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/**
 * `paasmaker services [--json]`: the managed servers and every provisioned
 * service; from the running platform's API, else read from state (nothing
 * is started: every managed server is stopped then).
 */
async function servicesList(options: { json?: boolean }): Promise<number> {
  const rows = await readFromPlatform<ServiceRow[]>('/api/v1/services', async () => (await import('../read-state.js')).readServiceRows());
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const servers = rows.filter((row) => row.kind === 'server');
  const services = rows.filter((row) => row.kind === 'service');
  if (rows.length === 0) {
    process.stdout.write('No services yet. Declare one in paasmaker.yml (services: {db: {plugin: postgres}}) and run paasmaker up.\n');
    return 0;
  }
  const dash = (value: number | string | null) => (value === null ? '-' : String(value));
  if (servers.length > 0) {
    process.stdout.write(table(['server', 'state', 'port', 'pid', 'size', 'data'], servers.map((row) => [row.version ?? row.plugin, row.state, dash(row.port), dash(row.pid), formatSize(row.size ?? 0), dash(row.resource)])));
  }
  if (services.length > 0) {
    if (servers.length > 0) process.stdout.write('\n');
    process.stdout.write(table(['service', 'branch', 'plugin', 'as', 'resource'], services.map((row) => [row.name, dash(row.branch), row.plugin, dash(row.symbolic), dash(row.resource)])));
  }
  return 0;
}
