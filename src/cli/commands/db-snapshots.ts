import { defineCommand } from '../command.js';
import { appSnapshots, projectManifest } from '../data-jobs.js';
import { byteSize, table } from '../output.js';

type Options = { dir: string; json?: boolean };

export default defineCommand<Options>({
  name: 'db snapshots',
  description: "the app's snapshots: name, time, size, services",
  options: [
    { flags: '--json', description: 'print a JSON array of flat objects' },
    { flags: '-C, --dir <dir>', description: 'project folder', default: '.', completes: 'dir' },
  ],
  examples: ['paasmaker db snapshots', 'paasmaker db snapshots --json -C ../shop'],
  run: ({ options }) => dbSnapshots(options),
});

/** `paasmaker db snapshots [--json]`: from the running platform, else read from PAASMAKER_HOME/snapshots. */
async function dbSnapshots(options: Options): Promise<number> {
  const app = (await projectManifest(options.dir)).application.name;
  const rows = await appSnapshots(app);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (rows.length === 0) {
    process.stdout.write(`${app} has no snapshots (paasmaker db snapshot [NAME] takes one)\n`);
    return 0;
  }
  process.stdout.write(table(['name', 'time', 'size', 'services'], rows.map((row) => [row.name, row.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), byteSize(row.size), row.services.join(', ')])));
  return 0;
}
