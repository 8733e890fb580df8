import type { PluginRow } from '../../shared/views.js';
import { defineCommand } from '../command.js';
import { table } from '../output.js';
import { readFromPlatform } from '../running-platform.js';

export default defineCommand<{ json?: boolean }>({
  name: 'plugins',
  description: "Paasmaker's built-in runtimes and services, and the plugins config.yml lists: where each came from, what it provides, whether it loaded",
  options: [{ flags: '--json', description: 'print a JSON array of flat objects' }],
  examples: ['paasmaker plugins', 'paasmaker plugins --json', 'paasmaker plugins add paasmaker-plugin-memcached'],
  run: ({ options }) => plugins(options),
});

/** What this process loaded (the CLI loads config.yml's plugins before any command). */
async function localPlugins(): Promise<PluginRow[]> {
  await Promise.all([import('../../../runtimes/index.js'), import('../../services/registry.js')]);
  const { pluginRows } = await import('../../plugins/rows.js');
  return pluginRows();
}

/**
 * `paasmaker plugins [--json]`: from the running platform (what it loaded when
 * it started), or as this command loads them when none runs.
 */
async function plugins(options: { json?: boolean }): Promise<number> {
  const rows = await readFromPlatform('/api/v1/plugins', localPlugins);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(
    table(
      ['plugin', 'origin', 'provides', 'state'],
      rows.map((row) => [
        row.version ? `${row.name} ${row.version}` : row.name,
        row.origin,
        [row.runtimes.length > 0 ? `runtimes: ${row.runtimes.join(', ')}` : '', row.services.length > 0 ? `services: ${row.services.join(', ')}` : ''].filter(Boolean).join('; ') || '-',
        row.state,
      ]),
    ),
  );
  for (const row of rows.filter((candidate) => candidate.state === 'failed')) {
    process.stdout.write(`\n${row.name}: ${row.error}\n${row.hint ? `  hint: ${row.hint}\n` : ''}`);
  }
  return rows.some((row) => row.state === 'failed') ? 1 : 0;
}
