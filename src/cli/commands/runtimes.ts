import type { RuntimeRow } from '../../api/index.js';
import { paasmakerHome } from '../../shared/paths.js';
import { table } from '../output.js';
import { readFromPlatform } from '../running-platform.js';
import { defineCommand } from '../command.js';

export default defineCommand<{ json?: boolean }>({
  name: 'runtimes',
  description: 'the runtimes, the versions installed on this machine (source paasmaker: installed by Paasmaker), and which running instance uses which',
  options: [{ flags: '--json', description: 'print a JSON array of flat objects' }],
  examples: ['paasmaker runtimes', 'paasmaker runtimes --json', 'paasmaker runtimes install node@22', 'paasmaker runtimes remove node@18.20.8'],
  run: ({ options }) => runtimes(options),
});

/** The facts of this machine when no platform runs: the installed versions, and no instance running. */
async function localRuntimes(): Promise<RuntimeRow[]> {
  const { runtimeRows } = await import('../../engine/index.js');
  return runtimeRows(process.env, paasmakerHome(), []);
}

/**
 * `paasmaker runtimes [--json]`: every runtime, the versions installed on
 * this machine, and the version each running instance resolved to (from
 * the running platform, which knows what it started).
 */
async function runtimes(options: { json?: boolean }): Promise<number> {
  const rows = await readFromPlatform('/api/v1/runtimes', localRuntimes, { timeoutMs: 30_000 });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(
    table(
      ['runtime', 'installed', 'running'],
      rows.map((row) => [
        row.name,
        row.installed.length > 0 ? row.installed.map((found) => `${found.version} (${found.source}${found.usedBy.length > 0 ? `: ${found.usedBy.join(', ')}` : ''})`).join(', ') : '-',
        row.instances.length > 0 ? row.instances.map((instance) => `${instance.app}/${instance.instance}${instance.version ? ` ${instance.version}` : ''}`).join(', ') : '-',
      ]),
    ),
  );
  return 0;
}
